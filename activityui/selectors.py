"""Reading: querysets of actions = scope + visibility (+ filters, cursor, page in the view).

Selectors return unsliced querysets ordered newest first on (timestamp, id); a FilterSet
narrows them and :func:`page_of` applies the keyset cursor last. No OFFSET, no COUNT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import connections, models
from django.db.models import Q, QuerySet

from activityui import querycache
from activityui.branches import split_branches
from activityui.conf import app_settings
from activityui.cursors import Cursor
from activityui.feeds import get_feed
from activityui.ids import id_of
from activityui.keyset import NEWEST_FIRST, Page, newer_than, older_than, older_than_q, page_of
from activityui.visibility import Viewer, Visibility, action_visibility_q, as_person, can_view_all


class UnknownFeed(LookupError):
    pass


def _actions() -> QuerySet[Any]:
    queryset = Action.objects.all()
    if app_settings.READ_DATABASE:
        queryset = queryset.using(app_settings.READ_DATABASE)
    ordered: QuerySet[Any] = queryset.order_by(*NEWEST_FIRST)
    return ordered


def no_actions() -> QuerySet[Any]:
    """An empty queryset of actions: the base a FilterSet gets when the view reads through
    :func:`stream_page` (its ``filter_queryset`` narrows each branch; its ``qs`` is empty, so
    it can never widen what the user sees). Building the full :attr:`Stream.queryset` for it
    would cost more ORM work than the page itself."""
    return _actions().none()


def action_list_for_feed(*, user: Viewer, feed: str) -> QuerySet[Any]:
    """The actions of the named feed that ``user`` may see, newest first."""
    return feed_stream(user=user, feed=feed).queryset


def object_q(content_type: ContentType, object_id: str) -> Q:
    """Actions where the object is the actor, the action object or the target."""
    return (
        Q(actor_content_type=content_type, actor_object_id=object_id)
        | Q(action_object_content_type=content_type, action_object_object_id=object_id)
        | Q(target_content_type=content_type, target_object_id=object_id)
    )


def action_list_for_object(
    *, user: Viewer, content_type: ContentType, object_id: str
) -> QuerySet[Any]:
    """One object's history as ``user`` may see it (staff with the permission: all of it)."""
    return object_stream(user=user, content_type=content_type, object_id=object_id).queryset


def action_list_for_staff(*, user: Viewer) -> QuerySet[Any]:
    """Every action on the site, for users holding ``activityui.view_all_activity``."""
    if not can_view_all(user):
        return _actions().none()
    return _actions()


# --- index-friendly reading: streams and their branches (perf) ---

MAX_BRANCHES = 48  # more branches than this: one plain query, the planner chooses
Narrow = Callable[[QuerySet[Any]], QuerySet[Any]]


class Stream:
    """The actions of a feed or timeline: an unsliced ``queryset`` (scope + visibility, newest
    first) for FilterSets and counts, and the ``branches`` of its scope for :func:`stream_page`.

    The branches are the OR-terms of the scope, each an equality on one content type and object
    id where possible, so that each is one backward scan of a (type, id, timestamp, id) index
    that stops after a page, instead of one OR that no index serves. Everything is built on
    first use: a poll that finds nothing new builds nothing.
    """

    def __init__(self, scope: Callable[[], Q], *, viewer: Viewer, restricted: bool) -> None:
        self._scope_factory = scope
        self.viewer = viewer
        self.restricted = restricted  # False: no visibility filter (staff on a timeline)
        self.visibility = Visibility(viewer)
        self._scope: Q | None = None
        self._branches: tuple[Q, ...] | None = None

    @property
    def scope(self) -> Q:
        if self._scope is None:
            self._scope = self._scope_factory()
        return self._scope

    @cached_property
    def queryset(self) -> QuerySet[Any]:
        queryset = _actions().filter(self.scope)
        if self.restricted:
            queryset = queryset.filter(action_visibility_q(self.viewer))
        return queryset

    @property
    def branches(self) -> tuple[Q, ...]:
        if self._branches is None:
            self._branches = split_branches(self.scope)
        return self._branches

    def fast_queryset(self) -> QuerySet[Any]:
        """The rows of :attr:`queryset`, with the visibility read once and inlined."""
        queryset = _actions().filter(self.scope)
        if self.restricted:
            queryset = queryset.filter(self.visibility.q())
        return queryset

    @property
    def empty(self) -> bool:
        """The scope matches nothing (every OR-term has an empty ``__in``): e.g. the team
        feed of someone in no team. Nothing needs reading."""
        return not self.branches

    def window(self, size: int) -> QuerySet[Any]:
        """The newest ``size`` actions of the stream (what the viewer may see), unsliced: one
        LIMITed index scan per branch, as :func:`stream_page` reads a page. The feed's and
        timeline's menus are read from it (:data:`activityui.menus.MENU_WINDOW`)."""
        if self.empty:
            return _plain().none()
        branches = self.branches if 1 < len(self.branches) <= MAX_BRANCHES else ()
        if not branches:
            newest = self.fast_queryset().order_by(*NEWEST_FIRST).values("pk")[:size]
            return _plain().filter(pk__in=newest)
        return _plain().filter(pk__in=_union_ids(self._arms(branches, before=None), limit=size))

    def _arms(self, branches: Sequence[Q], *, before: Cursor | None) -> list[list[Q]]:
        """Per branch, its conditions: the branch, its visibility test, the cursor."""
        if self.restricted:
            wanted = [model for branch in branches for model in self.visibility.models_for(branch)]
            self.visibility.prefetch(wanted)
        arms = []
        for branch in branches:
            conditions = [branch]
            if self.restricted:
                conditions.append(self.visibility.branch_q(branch))
            if before is not None:
                conditions.extend(older_than_q(before))
            arms.append(conditions)
        return arms

    def branch_queryset(self) -> QuerySet[Any]:
        """The rows of :attr:`queryset` as one OR of the branches, each with only the
        visibility test it needs (the visible ids :func:`stream_page` has read already)."""
        if self.empty:
            return _plain().none()
        branches = self.branches if 1 < len(self.branches) <= MAX_BRANCHES else ()
        if not branches:
            return self.fast_queryset()
        if not self.restricted:
            return _plain().filter(self.scope)
        wanted = [model for branch in branches for model in self.visibility.models_for(branch)]
        self.visibility.prefetch(wanted)
        either = Q(pk__in=[])
        for branch in branches:
            either |= branch & self.visibility.branch_q(branch)
        return _plain().filter(either)


def feed_stream(*, user: Viewer, feed: str) -> Stream:
    """The actions of the named feed that ``user`` may see, with the branches of its scope."""
    scope = get_feed(feed)
    if scope is None:
        raise UnknownFeed(feed)
    return Stream(lambda: scope.scope(user), viewer=user, restricted=True)


def object_stream(*, user: Viewer, content_type: ContentType, object_id: str) -> Stream:
    """One object's history as ``user`` may see it: three branches (actor, object, target)."""
    q = object_q(content_type, str(object_id))
    return Stream(lambda: q, viewer=user, restricted=not can_view_all(user))


def stream_page(
    stream: Stream,
    *,
    narrow: Narrow | None = None,
    before: Cursor | None = None,
    size: int,
) -> Page:
    """One page of ``stream`` older than ``before``, narrowed by ``narrow`` (e.g. a bound and
    valid FilterSet's ``filter_queryset``): the same rows as
    ``page_of(narrow(stream.queryset), before=before, size=size)``, read as a union of one
    LIMITed index scan per branch. Queries: the scope's own (e.g. the follows), one for the
    visible ids, one for the page."""
    if stream.empty:
        return Page(actions=[], has_more=False)
    branches = stream.branches if 1 < len(stream.branches) <= MAX_BRANCHES else ()
    if not branches:
        queryset = stream.fast_queryset()
        queryset = queryset if narrow is None else narrow(queryset)
        return page_of(queryset, before=before, size=size)
    limit = size + 1
    arms = stream._arms(branches, before=before)
    if narrow is None:  # the SQL of this shape of page, compiled once (activityui.querycache)
        rows = _compiled_page_rows(arms, limit)
        if rows is not None:
            return Page(actions=rows[:size], has_more=len(rows) > size)
    rows = list(_union_page(arms, narrow=narrow, limit=limit))
    return Page(actions=rows[:size], has_more=len(rows) > size)


def _union_page(arms: Sequence[Sequence[Q]], *, narrow: Narrow | None, limit: int) -> QuerySet[Any]:
    """Up to ``limit`` actions, newest first, of the union of one LIMITed scan per arm (the
    conditions of one branch)."""
    return _actions().filter(pk__in=_union_ids(arms, narrow=narrow, limit=limit))[:limit]


def _union_ids(
    arms: Sequence[Sequence[Q]], *, narrow: Narrow | None = None, limit: int
) -> QuerySet[Any]:
    """The ids of the newest ``limit`` actions of each arm, as one UNION ALL."""
    compound_limits = connections[_plain().db].features.supports_slicing_ordering_in_compound
    parts = []
    for conditions in arms:
        arm = _plain().filter(*conditions)  # one filter call: one clone of the query
        if narrow is not None:
            arm = narrow(arm)
        limited = arm.order_by(*NEWEST_FIRST).values("pk")[:limit]
        if compound_limits:
            parts.append(limited)
        else:  # SQLite forbids LIMIT in the arms of a compound SELECT: "pk IN (limited)"
            parts.append(_plain().filter(pk__in=limited).values("pk"))
    return parts[0].union(*parts[1:], all=True)


def _compiled_page_rows(arms: Sequence[Sequence[Q]], limit: int) -> list[Any] | None:
    """:func:`_union_page` through its SQL compiled once per shape (None: not reusable)."""
    try:
        key, leaves = querycache.shape(arms)
    except querycache.Unshaped:
        return None
    using = _actions().db
    key = ("stream_page", using, limit, key)
    compiled = querycache.compiled_page(
        key, leaves, arms, lambda stand_ins: _union_page(stand_ins, narrow=None, limit=limit)
    )
    if compiled is None:
        return None
    return querycache.run(compiled, leaves, using=using)


def stream_newer(
    stream: Stream,
    *,
    after: Cursor,
    narrow: Narrow | None = None,
    limit: int,
    probe: bool = True,
) -> list[models.Model]:
    """Up to ``limit`` actions of ``stream`` newer than ``after``, newest first (for polling).

    First one probe of the (timestamp, id) index for anything newer on the whole site: when
    nothing is, that is the only query and nothing else is built (``probe=False``: the caller
    has just probed, see :func:`site_signature`)."""
    if probe and not anything_newer(after=after):
        return []
    # the branches' OR: only the visible ids the branches need are read (the feed's places),
    # not every registered model's
    queryset = stream.branch_queryset()
    if narrow is not None:
        queryset = narrow(queryset)
    return list(newer_than(queryset, after).order_by(*NEWEST_FIRST)[:limit])


def anything_newer(*, after: Cursor) -> bool:
    """Is any action on the site newer than ``after``? One probe of the (timestamp, id) index,
    no scope, no visibility: a poll can answer 204 from this alone when it is False."""
    return newer_than(_plain(), after).exists()


def _plain() -> QuerySet[Any]:
    queryset: QuerySet[Any] = Action._base_manager.order_by()
    if app_settings.READ_DATABASE:
        queryset = queryset.using(app_settings.READ_DATABASE)
    return queryset


# --- staff console ---


def existing_now(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset`` limited to the actions that exist at this moment (ids only grow), so rows
    written during a long read (an export's own record among them) stay out of it."""
    newest = (
        queryset.model._default_manager.using(queryset.db)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return queryset.filter(pk__lte=newest) if newest is not None else queryset.none()


def verbs_in_use() -> list[str]:
    """Every distinct verb of the action table, in order: a loose index scan (one probe of the
    verb index per verb: ~0.1 ms at 1M actions, where SELECT DISTINCT reads every row).
    Django's ORM cannot say this (a recursive CTE), so it is the one query written by hand;
    it takes no parameters, only the quoted table and column names."""
    plain = _plain()
    connection = connections[plain.db]
    quote = connection.ops.quote_name
    table, column = quote(Action._meta.db_table), quote(Action._meta.get_field("verb").column)
    sql = (
        f"WITH RECURSIVE aui_verbs(verb) AS ("
        f" SELECT MIN({column}) FROM {table}"
        f" UNION ALL SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > aui_verbs.verb)"
        f" FROM aui_verbs WHERE aui_verbs.verb IS NOT NULL"
        f") SELECT verb FROM aui_verbs WHERE verb IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def count_up_to(queryset: QuerySet[Any], *, limit: int) -> int:
    """The exact count up to ``limit``, else ``limit + 1``: COUNT over a LIMIT subquery, so
    it stops after ``limit + 1`` rows instead of counting millions."""
    from activityui import search

    alone = search.count_alone(queryset, limit=limit)  # a search alone: the index counts it
    if alone is not None:
        return alone
    # No ORDER BY inside: any limit + 1 matching rows will do, so the database may count
    # through the most selective index instead of walking the timestamp order.
    return queryset.order_by()[: limit + 1].count()


# --- feed: read markers, unread counts ---


def read_marker_for(*, user: Viewer | None, feed: str) -> Cursor | None:
    """The position up to which ``user`` has seen ``feed`` (None before the first visit)."""
    from activityui.models import ReadMarker

    if user is None or not user.is_authenticated:
        return None
    rows = ReadMarker.objects.filter(user_id=user.pk, feed=feed)
    row = rows.values_list("timestamp", "action_id").first()
    return Cursor(timestamp=row[0], id=row[1]) if row else None


def unread_actions(*, user: Viewer, feed: str, marker: Cursor | None) -> QuerySet[Any]:
    """Actions of ``feed`` newer than ``marker`` that ``user`` did not do themselves."""
    queryset = action_list_for_feed(user=user, feed=feed)
    if marker is not None:
        queryset = newer_than(queryset, marker)
    person = as_person(user)
    user_ct = ContentType.objects.get_for_model(person)
    return queryset.exclude(actor_content_type=user_ct, actor_object_id=id_of(person))


def unread_count(*, user: Viewer | None, feed: str, limit: int) -> int:
    """How many actions of ``feed`` are new for ``user``, exact up to ``limit`` (else
    ``limit + 1``): the marker, the feed's scope and visible ids, and one bounded COUNT. 0 for
    unknown feeds and anonymous users."""
    if user is None or not user.is_authenticated or get_feed(feed) is None:
        return 0
    return unread_since(
        user=user, feed=feed, marker=read_marker_for(user=user, feed=feed), limit=limit
    )


def unread_since(*, user: Viewer, feed: str, marker: Cursor | None, limit: int) -> int:
    """:func:`unread_count` with the marker read already: the feed's scope and visible ids,
    and one bounded COUNT."""
    # the branches' OR with the visible ids they need read once (one small query): the same
    # rows as unread_actions(), far less ORM work than its visibility subqueries
    queryset = feed_stream(user=user, feed=feed).branch_queryset()
    if marker is not None:
        queryset = newer_than(queryset, marker)
    person = as_person(user)
    user_ct = ContentType.objects.get_for_model(person)
    queryset = queryset.exclude(actor_content_type=user_ct, actor_object_id=id_of(person))
    return count_up_to(queryset, limit=limit)


def unread_on_page(
    page: Page, *, user: Viewer, marker: Cursor | None, limit: int
) -> tuple[int, bool]:
    """The unread actions on the feed's first unfiltered ``page`` (not ``user``'s own, newer
    than ``marker``), and whether that is the whole count (no query): the page reaches the
    marker or the end of the feed, or already holds more than ``limit``."""
    person = as_person(user)
    own = (ContentType.objects.get_for_model(person).pk, id_of(person))
    unread = 0
    for action in page.actions:
        if marker is not None and (action.timestamp, action.pk) <= (marker.timestamp, marker.id):
            return unread, True
        if (action.actor_content_type_id, action.actor_object_id) != own:
            unread += 1
            if unread > limit:
                return unread, True
    return unread, not page.has_more or not page.actions


def unread_on_first_page(
    stream: Stream, page: Page, *, user: Viewer, marker: Cursor | None, limit: int
) -> int:
    """:func:`unread_count` for the feed whose first unfiltered ``page`` of ``stream`` the
    view has just read: counted on the page, no query, when the page decides it
    (:func:`unread_on_page`); else one bounded COUNT of the rest past the page (the visible
    ids the page read are reused)."""
    unread, decided = unread_on_page(page, user=user, marker=marker, limit=limit)
    if decided:
        return unread
    person = as_person(user)
    user_ct = ContentType.objects.get_for_model(person)
    last = page.actions[-1]
    rest = older_than(stream.branch_queryset(), Cursor(timestamp=last.timestamp, id=last.pk))
    if marker is not None:
        rest = newer_than(rest, marker)
    rest = rest.exclude(actor_content_type=user_ct, actor_object_id=id_of(person))
    return unread + count_up_to(rest, limit=limit - unread)

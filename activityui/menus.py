"""What the filter menus offer, read from what the viewer may see: verbs and people.

The verbs that occur there and the people who acted there (never a verb the site does not
record, never anyone the viewer has no trace of); for a feed or timeline, among its newest
:data:`MENU_WINDOW` actions. ``choices.py`` words them as menu items."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet

from activityui.ids import IdText

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from activityui.visibility import Viewer

MAX_VERBS = 60  # distinct verbs looked at (a site records a few dozen at most)
MAX_PEOPLE = 200  # people listed in the person menu
# the feeds' and timelines' menus are read from their newest actions: a bounded read whatever
# the size of the table (an EXISTS per person or verb walks every action of someone who acted
# only where the viewer cannot see: seconds at a million actions)
MENU_WINDOW = 1_000
PERSON_WINDOW = 1_000  # a person a link names: so many of their newest actions are looked at


@dataclass(frozen=True)
class Seen:
    """What some actions hold for the menus: their verbs and their actors (type id, id), and
    when read with them (:func:`seen_remembered`) the people among the actors as (username,
    name) pairs, the person menu's items, as :func:`people_seen_by` lists them."""

    verbs: frozenset[str]
    actors: frozenset[tuple[int, str]]
    people: tuple[tuple[str, str], ...] | None = None


def seen_in(actions: QuerySet[Any]) -> Seen:
    """The verbs and actors of ``actions`` (e.g. a feed's window): one query for both menus."""
    rows = set(
        actions.order_by()
        .values_list("verb", "actor_content_type_id", "actor_object_id")
        .distinct()
    )
    return Seen(
        verbs=frozenset(verb for verb, _ct, _id in rows),
        actors=frozenset((ct, oid) for _verb, ct, oid in rows if ct is not None),
    )


def seen_remembered(
    *,
    user: Viewer,
    scope: str,
    read: Callable[[], QuerySet[Any]],
    request: Any = None,
    people: bool = True,
) -> Seen:
    """:func:`seen_in` of ``read()`` and (``people``) the names of those people, remembered in the
    ``POLL_CACHE`` cache for this viewer and ``scope`` (a feed's name, a timeline's object)
    while the site is at the same point (its newest action and highest id,
    :func:`polls.site_signature`, read once per ``request``), for at most
    :data:`polls.REMEMBER_SECONDS`: a page view between two actions reads no window and no names.
    A new action anywhere reads them again; a change of the viewer's visibility or of a
    person's name shows in the menus within that time. A cache that fails is a miss."""
    from activityui.polls import remembered, site_signature, viewer_key

    if not user.is_authenticated:
        return seen_in(read())

    def compute() -> _Menus:
        seen = seen_in(read())
        names = list(people_names(user, seen)) if people else None
        return sorted(seen.verbs), sorted(seen.actors), names

    parts = f"{viewer_key(user)}|{scope}|{'people' if people else ''}"
    verbs, actors, names = remembered(
        "menus", parts, site_signature(request), compute, valid=_is_menus
    )
    return Seen(
        frozenset(verbs),
        frozenset((ct, oid) for ct, oid in actors),
        tuple((username, name) for username, name in names) if names is not None else None,
    )


# what the cache holds for a viewer's menus: verbs, actors, and people's (username, name)
_Menus = tuple[list[str], list[tuple[int, str]], list[tuple[str, str]] | None]


def _is_menus(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 3


def people_names(user: Viewer, actions: Seen) -> tuple[tuple[str, str], ...]:
    """(username, full name or "") of :func:`people_seen_by` ``actions``: one query."""
    return tuple(person_name(person) for person in people_seen_by(user, actions))


def person_name(person: Any) -> tuple[str, str]:
    name = person.get_full_name() if hasattr(person, "get_full_name") else ""
    return person.get_username(), name


def _visible_actions(user: Viewer) -> QuerySet[Any]:
    from activityui.selectors import _plain
    from activityui.visibility import action_visibility_q

    return _plain().filter(action_visibility_q(user))


def verbs_seen_by(
    user: Viewer | None,
    actions: Seen | None = None,
    *,
    selected: str | None = None,
) -> list[str]:
    """The verbs of the actions ``user`` may see, in order: of ``actions`` when given (what
    :func:`seen_in` read from e.g. the newest :data:`MENU_WINDOW` actions of a feed or timeline,
    :meth:`selectors.Stream.window`, already limited to what ``user`` may see), else of
    everything ``user`` may see.

    With ``actions``: no query of its own. Without: the candidates are
    the verbs of the whole table (one loose index scan of the verb index,
    :func:`selectors.verbs_in_use`), bounded to :data:`MAX_VERBS`; then one query asks, per
    candidate, whether a visible action has it (an EXISTS that stops at the first row).

    A ``selected`` verb that is registered or recorded somewhere is kept (a shared link to
    "comments" on an object without any reads "nothing matches", not "invalid filter")."""
    from activityui.selectors import verbs_in_use
    from activityui.verbs import registered_verbs

    if user is None or not user.is_authenticated:
        return []
    if actions is not None:
        seen = sorted(actions.verbs)[:MAX_VERBS]
        registered = {verb.key for verb in registered_verbs()}
        if selected and selected not in seen and (selected in registered or _recorded(selected)):
            seen.append(selected)
        return seen
    candidates = verbs_in_use()[:MAX_VERBS]
    known = set(candidates) | {verb.key for verb in registered_verbs()}
    kept = [selected] if selected and selected in known else []
    if not candidates:
        return kept
    visible = _visible_actions(user).order_by()
    checks = {f"v{n}": Exists(visible.filter(verb=verb)) for n, verb in enumerate(candidates)}
    # one row to hang the EXISTS columns on: the viewer's own
    viewer = get_user_model()._base_manager.filter(pk=user.pk)
    row = viewer.annotate(**checks).values(*checks).first()
    seen = [verb for n, verb in enumerate(candidates) if row is not None and row[f"v{n}"]]
    return seen + [verb for verb in kept if verb not in seen]


def _recorded(verb: str) -> bool:
    from activityui.selectors import _plain

    return bool(_plain().filter(verb=verb).exists())


def people_seen_by(user: Viewer | None, actions: Seen | None = None) -> QuerySet[Any]:
    """The users who did something ``user`` may see (of ``actions`` when given, e.g. the newest
    :data:`MENU_WINDOW` actions of a feed, which must be limited to what ``user`` may see),
    ``user`` too once they acted; ordered by username, at most :data:`MAX_PEOPLE`. No
    visibility rule for the user model is needed: someone whose action you may see is no
    secret to you.

    With ``actions`` (read by :func:`seen_in`): one query, for the people.
    Without: one query, per user an EXISTS that probes the actor index (actor type, actor id)
    and stops at the first visible action -- which walks every action of someone who acted only
    where ``user`` cannot see: the feeds and timelines pass a window."""
    user_model = get_user_model()
    if user is None or not user.is_authenticated:
        return user_model._default_manager.none()
    user_ct = ContentType.objects.get_for_model(user_model)
    if actions is not None:
        texts = {oid for ct, oid in actions.actors if ct == user_ct.pk}
        pks = []
        for text in texts:
            try:
                pks.append(user_model._meta.pk.to_python(text))
            except ValidationError:  # not a key of the user model: nobody
                continue
        people = user_model._default_manager.filter(pk__in=pks)
        return people.order_by(user_model.USERNAME_FIELD)[:MAX_PEOPLE]
    everyone: QuerySet[Any] = _people_acting_for(user).order_by(user_model.USERNAME_FIELD)
    return everyone[:MAX_PEOPLE]


def _people_acting_for(user: Viewer) -> QuerySet[Any]:
    user_model = get_user_model()
    acted = (
        _visible_actions(user)
        .order_by()
        .filter(
            actor_content_type=ContentType.objects.get_for_model(user_model),
            actor_object_id=IdText(OuterRef("pk"), model=user_model),
        )
    )
    return user_model._default_manager.filter(Exists(acted))


def person_seen_by(user: Viewer, username: str) -> AbstractBaseUser | None:
    """The user called ``username`` if one of their newest :data:`PERSON_WINDOW` actions is one
    ``user`` may see, else None: a menu read from a window keeps a person a shared link names.
    Bounded: someone with a long history the viewer may not see (another team's member) costs
    one short index read, not a walk of all their actions."""
    if user is None or not user.is_authenticated:
        return None
    user_model = get_user_model()
    person = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    if person is None:
        return None
    newest = (
        Action.objects.filter(
            actor_content_type=ContentType.objects.get_for_model(user_model),
            actor_object_id=str(person.pk),
        )
        .order_by("-timestamp", "-pk")
        .values("pk")[:PERSON_WINDOW]
    )
    return person if _visible_actions(user).filter(pk__in=newest).exists() else None


__all__ = [
    "MAX_PEOPLE",
    "MAX_VERBS",
    "MENU_WINDOW",
    "PERSON_WINDOW",
    "Action",
    "Seen",
    "people_names",
    "people_seen_by",
    "person_name",
    "person_seen_by",
    "seen_in",
    "seen_remembered",
    "verbs_seen_by",
]

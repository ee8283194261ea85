"""The feed registry: named sets of actions a host site defines; each gets a page and a tab."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actstream.models import Follow
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from activityui.visibility import Viewer

ScopeFunction = Callable[[Any], Q]

# the first path segments activityui's own URLs use: a feed of one of these names would be
# shadowed by them (activityui.urls)
RESERVED_NAMES = frozenset({"read", "follow", "objects", "staff"})
NAME_PATTERN = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")  # a URL slug that fits ReadMarker.feed


@dataclass(frozen=True)
class FeedScope:
    """A named feed: its scope, texts and place among the tabs (see :func:`register_feed`)."""

    name: str
    title: str | Promise
    scope: ScopeFunction  # scope(user) -> Q over actstream's Action
    empty_text: str | Promise = _("No activity yet.")
    tab_label: str | Promise | None = None
    tab: bool = True
    order: int = 0

    @property
    def label(self) -> str | Promise:
        """The text of the feed's tab (its title unless a shorter label was registered)."""
        return self.tab_label if self.tab_label is not None else self.title

    @property
    def url(self) -> str:
        return feed_url(self.name)


_feeds: dict[str, FeedScope] = {}


def register_feed(
    name: str,
    title: str | Promise,
    scope: ScopeFunction,
    *,
    empty_text: str | Promise | None = None,
    tab_label: str | Promise | None = None,
    tab: bool = True,
    order: int = 0,
) -> FeedScope:
    """Register (or replace) a named feed; ``scope(user)`` returns a ``Q`` on ``Action``.

    The feed gets a page at ``/activity/<name>/`` (the ``DEFAULT_FEED`` also at
    ``/activity/``), the heading ``title``, ``empty_text`` when nothing is in it, and a tab
    labelled ``tab_label`` (default: ``title``) unless ``tab=False``. Tabs are sorted by
    ``order``, then by registration; the built-in "following" feed has order 100, so feeds
    registered with the default 0 come before it.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(
            f"A feed name is 1 to 64 letters, digits, '-' or '_' (it is in the URL): {name!r}"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is the path of one of activityui's own pages")
    feed = FeedScope(
        name=name,
        title=title,
        scope=scope,
        empty_text=empty_text if empty_text is not None else FeedScope.empty_text,
        tab_label=tab_label,
        tab=tab,
        order=order,
    )
    _feeds[name] = feed
    return feed


def unregister_feed(name: str) -> None:
    """Remove a feed (its page answers 404 and its tab goes); unknown names are ignored."""
    _feeds.pop(name, None)


def get_feed(name: str) -> FeedScope | None:
    return _feeds.get(name)


def registered_feeds() -> list[FeedScope]:
    """Every feed, in tab order (``order``, then registration)."""
    position = {name: index for index, name in enumerate(_feeds)}
    return sorted(_feeds.values(), key=lambda f: (f.order, position[f.name]))


def feed_tabs() -> list[FeedScope]:
    """The feeds shown as tabs, in order."""
    return [feed for feed in registered_feeds() if feed.tab]


def feed_url(name: str) -> str:
    """The page of the named feed: ``/activity/`` for the default one."""
    from django.urls import reverse

    from activityui.conf import app_settings

    if name == app_settings.DEFAULT_FEED:
        return reverse("activityui:feed")
    return reverse("activityui:feed_named", args=[name])


def visible_follows_q(user: Viewer) -> Q:
    """The ``Follow`` rows of objects ``user`` may see now: a follow is re-checked when it is
    read (someone who left the team stays followed, but shows nothing until visible again)."""
    from django.contrib.contenttypes.models import ContentType

    from activityui.conf import app_settings
    from activityui.visibility import visibility_rules, visible_ids

    q = Q(pk__in=[])
    registered = []
    for model in visibility_rules():
        content_type = ContentType.objects.get_for_model(model)
        registered.append(content_type.pk)
        q |= Q(content_type=content_type, object_id__in=visible_ids(model, user))
    if app_settings.UNREGISTERED_VISIBLE:
        q |= ~Q(content_type__in=registered)
    return q


def following_scope(user: Viewer) -> Q:
    """Actions by, on or in the objects ``user`` follows (actstream's ``Follow`` rows) and may
    see now (one query: the follows, with the visibility of their objects as subqueries)."""
    q = Q(pk__in=[])
    follows = (
        Follow.objects.filter(user=user)
        .filter(visible_follows_q(user))
        .values_list("content_type_id", "object_id")
    )
    by_type: dict[int, list[str]] = {}
    for content_type_id, object_id in follows:
        by_type.setdefault(content_type_id, []).append(object_id)
    for content_type_id, ids in by_type.items():
        for role in ("actor", "action_object", "target"):
            q |= Q(**{f"{role}_content_type_id": content_type_id, f"{role}_object_id__in": ids})
    return q


register_feed(
    "following",
    _("Following"),
    following_scope,
    empty_text=_("Nothing here yet. Follow something to see its activity in this feed."),
    order=100,
)

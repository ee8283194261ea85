"""The feed-scope registry: named sets of actions a host site defines ("team", "following")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actstream.models import Follow
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ScopeFunction = Callable[[Any], Q]


@dataclass(frozen=True)
class FeedScope:
    name: str
    title: str | Promise
    scope: ScopeFunction  # scope(user) -> Q over actstream's Action


_feeds: dict[str, FeedScope] = {}


def register_feed(name: str, title: str | Promise, scope: ScopeFunction) -> FeedScope:
    """Register (or replace) a named feed; ``scope(user)`` returns a ``Q`` on ``Action``."""
    feed = FeedScope(name=name, title=title, scope=scope)
    _feeds[name] = feed
    return feed


def get_feed(name: str) -> FeedScope | None:
    return _feeds.get(name)


def registered_feeds() -> list[FeedScope]:
    return list(_feeds.values())


def following_scope(user: Any) -> Q:
    """Actions by, on or in the objects ``user`` follows (actstream's ``Follow`` rows)."""
    q = Q(pk__in=[])
    follows = Follow.objects.filter(user=user).values_list("content_type_id", "object_id")
    by_type: dict[int, list[str]] = {}
    for content_type_id, object_id in follows:
        by_type.setdefault(content_type_id, []).append(object_id)
    for content_type_id, ids in by_type.items():
        for role in ("actor", "action_object", "target"):
            q |= Q(**{f"{role}_content_type_id": content_type_id, f"{role}_object_id__in": ids})
    return q


register_feed("following", _("Following"), following_scope)

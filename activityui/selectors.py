"""Reading: querysets of actions = scope + visibility (+ filters, cursor, page in the view).

Selectors return unsliced querysets ordered newest first on (timestamp, id); a FilterSet
narrows them and :func:`page_of` applies the keyset cursor last. No OFFSET, no COUNT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from activityui.conf import app_settings
from activityui.cursors import Cursor, encode_cursor
from activityui.feeds import get_feed
from activityui.visibility import action_visibility_q, can_view_all

NEWEST_FIRST = ("-timestamp", "-id")


class UnknownFeed(LookupError):
    pass


def _actions() -> QuerySet[Any]:
    queryset = Action.objects.all()
    if app_settings.READ_DATABASE:
        queryset = queryset.using(app_settings.READ_DATABASE)
    ordered: QuerySet[Any] = queryset.order_by(*NEWEST_FIRST)
    return ordered


def action_list_for_feed(*, user: Any, feed: str) -> QuerySet[Any]:
    """The actions of the named feed that ``user`` may see, newest first."""
    scope = get_feed(feed)
    if scope is None:
        raise UnknownFeed(feed)
    return _actions().filter(scope.scope(user)).filter(action_visibility_q(user))


def object_q(content_type: ContentType, object_id: str) -> Q:
    """Actions where the object is the actor, the action object or the target."""
    return (
        Q(actor_content_type=content_type, actor_object_id=object_id)
        | Q(action_object_content_type=content_type, action_object_object_id=object_id)
        | Q(target_content_type=content_type, target_object_id=object_id)
    )


def action_list_for_object(
    *, user: Any, content_type: ContentType, object_id: str
) -> QuerySet[Any]:
    """One object's history as ``user`` may see it (staff with the permission: all of it)."""
    queryset = _actions().filter(object_q(content_type, str(object_id)))
    if can_view_all(user):
        return queryset
    return queryset.filter(action_visibility_q(user))


def action_list_for_staff(*, user: Any) -> QuerySet[Any]:
    """Every action on the site, for users holding ``activityui.view_all_activity``."""
    if not can_view_all(user):
        return _actions().none()
    return _actions()


def older_than(queryset: QuerySet[Any], cursor: Cursor) -> QuerySet[Any]:
    return queryset.filter(
        Q(timestamp__lt=cursor.timestamp) | Q(timestamp=cursor.timestamp, id__lt=cursor.id)
    )


def newer_than(queryset: QuerySet[Any], cursor: Cursor) -> QuerySet[Any]:
    return queryset.filter(
        Q(timestamp__gt=cursor.timestamp) | Q(timestamp=cursor.timestamp, id__gt=cursor.id)
    )


@dataclass(frozen=True)
class Page:
    actions: list[models.Model]
    has_more: bool

    @property
    def next_cursor(self) -> str | None:
        """The ``before`` cursor for the next (older) page."""
        if not self.has_more or not self.actions:
            return None
        last = self.actions[-1]
        return encode_cursor(last.timestamp, last.pk)

    @property
    def newest_cursor(self) -> str | None:
        if not self.actions:
            return None
        first = self.actions[0]
        return encode_cursor(first.timestamp, first.pk)


def page_of(queryset: QuerySet[Any], *, before: Cursor | None = None, size: int) -> Page:
    """One page, newest first, older than ``before``: fetches ``size + 1`` rows, no COUNT."""
    if before is not None:
        queryset = older_than(queryset, before)
    rows = list(queryset[: size + 1])
    return Page(actions=rows[:size], has_more=len(rows) > size)

"""Keyset pages: newest first on (timestamp, id), a cursor as conditions, ``size + 1`` rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from activityui.cursors import Cursor, encode_cursor

NEWEST_FIRST = ("-timestamp", "-id")


def older_than_q(cursor: Cursor) -> tuple[Q, Q]:
    # (timestamp, id) < cursor, written so that "timestamp <= t" is a range on the indexes
    return (
        Q(timestamp__lte=cursor.timestamp),
        Q(timestamp__lt=cursor.timestamp) | Q(id__lt=cursor.id),
    )


def older_than(queryset: QuerySet[Any], cursor: Cursor) -> QuerySet[Any]:
    return queryset.filter(*older_than_q(cursor))


def newer_than(queryset: QuerySet[Any], cursor: Cursor) -> QuerySet[Any]:
    return queryset.filter(
        Q(timestamp__gte=cursor.timestamp),
        Q(timestamp__gt=cursor.timestamp) | Q(id__gt=cursor.id),
    )


@dataclass(frozen=True)
class Page:
    actions: list[Any]  # actstream Action rows (actstream ships no types)
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

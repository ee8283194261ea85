"""Rows and day sections: entries grouped by local day, runs of similar actions collapsed."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from activityui.keys import model_for_key
from activityui.links import object_url
from activityui.presenters import ActionEntry


class Dated(Protocol):
    """An entry with a time: a feed's :class:`ActionEntry`, a timeline's ``TimelineEntry``."""

    @property
    def timestamp(self) -> dt.datetime: ...


@dataclass(frozen=True)
class DayGroup[E: Dated]:
    day: dt.date
    label: str
    entries: tuple[E, ...]


def day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("Today")
    if day == today - dt.timedelta(days=1):
        return _("Yesterday")
    if day.year == today.year:
        # the format is translatable: French writes "samedi 14 février", without the comma
        return date_format(day, pgettext("day heading, this year", "l, j F"))
    return date_format(day, pgettext("day heading, another year", "j F Y"))


def group_by_day[E: Dated](entries: Iterable[E]) -> list[DayGroup[E]]:
    """Entries in runs by local calendar day (the active time zone), newest first."""
    today = timezone.localdate()
    return [
        DayGroup(day, day_label(day, today), tuple(run))
        for day, run in itertools.groupby(
            entries, key=lambda entry: timezone.localtime(entry.timestamp).date()
        )
    ]


@dataclass(frozen=True)
class FollowState:
    """What a follow button needs: the object and whether the user follows it."""

    type_key: str
    object_id: str
    label: str
    following: bool

    @cached_property
    def url(self) -> str:
        """Where the button posts (``activityui:follow``; the form names it twice)."""
        return object_url("activityui:follow", self.type_key, self.object_id)


@dataclass(frozen=True)
class FeedItem:
    """One row of the feed: an entry, or consecutive similar entries collapsed into one."""

    entries: tuple[ActionEntry, ...]
    summary: str = ""  # "updated 4 tasks" (after the actor, before the target) for groups
    new: bool = False  # newer than the user's read marker (and not the user's own)
    divider_above: bool = False  # the "New since your last visit" line goes above this row
    follow: FollowState | None = None

    @property
    def entry(self) -> ActionEntry:
        return self.entries[0]

    @property
    def is_group(self) -> bool:
        return len(self.entries) > 1

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def same_object(self) -> bool:
        """A group of actions on one object ("Bob commented on Fix login 3 times")."""
        ids = {
            (e.action_object.type_key, e.action_object.object_id)
            for e in self.entries
            if e.action_object
        }
        return self.is_group and len(ids) == 1


@dataclass(frozen=True)
class FeedDay:
    day: dt.date
    label: str
    key: str  # "2026-11-27": DOM ids of the day's section and list
    items: tuple[FeedItem, ...]
    continued: bool = False  # the same day as the end of the page before (no new heading)
    divider_above: bool = False


def _aggregation_key(entry: ActionEntry) -> tuple[Any, ...] | None:
    if entry.actor is None or entry.target is None or entry.action_object is None:
        return None
    return (
        entry.actor.type_key,
        entry.actor.object_id,
        entry.verb,
        entry.target.type_key,
        entry.target.object_id,
        entry.action_object.type_key,
    )


def _group_summary(entries: Sequence[ActionEntry]) -> str:
    first = entries[0]
    count = len(entries)
    assert first.action_object is not None
    if len({e.action_object.object_id for e in entries if e.action_object}) == 1:
        return ngettext(
            "%(verb)s %(object)s %(count)d time", "%(verb)s %(object)s %(count)d times", count
        ) % {"verb": first.phrase, "object": first.action_object.label, "count": count}
    model = model_for_key(first.action_object.type_key)
    plural = str(model._meta.verbose_name_plural) if model else first.action_object.type_name
    return _("%(verb)s %(count)d %(things)s") % {
        "verb": first.phrase,
        "count": count,
        "things": plural,
    }


def _is_after(entry: ActionEntry, marker: Any) -> bool:
    return (entry.timestamp, entry.id) > (marker.timestamp, marker.id)


def feed_days(
    entries: Sequence[ActionEntry],
    *,
    marker: Any = None,
    own_actor: tuple[str, str] | None = None,
    new_above: bool = False,
    continues_day: dt.date | None = None,
    followable: frozenset[str] | set[str] = frozenset(),
    followed: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
    max_group: int = 50,
) -> list[FeedDay]:
    """A page of the feed as day sections of rows, newest first.

    Consecutive actions of one actor with one verb on objects of one type in one target
    collapse into a group row (within a day and one side of the read ``marker``, a cursor).
    ``own_actor`` ("app.model", id) marks the user's own actions, which are never "new".
    ``new_above`` says that newer rows on earlier pages were new (for the divider when the
    page starts right below the marker); ``continues_day`` is the day the previous page
    ended on, so that its heading is not repeated.
    """
    rows: list[tuple[dt.date, FeedItem, bool]] = []  # (day, row, divider above the day)
    divider_placed = False
    seen_new = new_above
    day_index = -1  # of the page's day sections
    for day, after, run in _runs(entries, marker=marker, max_group=max_group):
        first_of_day = not rows or rows[-1][0] != day
        day_index += first_of_day
        is_new = marker is not None and after and any(not _is_own(e, own_actor) for e in run)
        divider = marker is not None and not after and seen_new and not divider_placed
        divider_on_day = False
        if divider:
            divider_placed = True
            # the first row of a day section takes the divider above its heading, unless
            # the section continues the previous page's last day (no heading to go above)
            divider_on_day = first_of_day and not (day_index == 0 and day == continues_day)
        seen_new = seen_new or is_new
        item = FeedItem(
            entries=tuple(run),
            summary=_group_summary(run) if len(run) > 1 else "",
            new=is_new,
            divider_above=divider and not divider_on_day,
            follow=_follow_state(run[0], followable, followed) if len(run) == 1 else None,
        )
        rows.append((day, item, divider_on_day))
    return _day_sections(rows, continues_day=continues_day)


_Run = tuple[dt.date, bool, list[ActionEntry]]


def _runs(entries: Sequence[ActionEntry], *, marker: Any, max_group: int) -> list[_Run]:
    """Runs of entries by (day, side of the read marker, aggregation key), in order."""
    runs: list[_Run] = []
    previous_key: tuple[Any, ...] | None = None
    for entry in entries:
        day = timezone.localtime(entry.timestamp).date()
        after = marker is None or _is_after(entry, marker)
        key = _aggregation_key(entry)
        if (
            runs
            and key is not None
            and key == previous_key
            and runs[-1][0] == day
            and runs[-1][1] == after
            and len(runs[-1][2]) < max_group
        ):
            runs[-1][2].append(entry)
        else:
            runs.append((day, after, [entry]))
        previous_key = key
    return runs


def _is_own(entry: ActionEntry, own_actor: tuple[str, str] | None) -> bool:
    return bool(
        own_actor and entry.actor and (entry.actor.type_key, entry.actor.object_id) == own_actor
    )


def _follow_state(
    entry: ActionEntry,
    followable: frozenset[str] | set[str],
    followed: frozenset[tuple[str, str]] | set[tuple[str, str]],
) -> FollowState | None:
    ref = entry.action_object
    if ref is None or ref.type_key not in followable or entry.verb == "deleted":
        return None
    return FollowState(
        ref.type_key, ref.object_id, ref.label, (ref.type_key, ref.object_id) in followed
    )


def _day_sections(
    rows: Sequence[tuple[dt.date, FeedItem, bool]], *, continues_day: dt.date | None
) -> list[FeedDay]:
    """Consecutive rows of one day as a section (with its heading and divider)."""
    today = timezone.localdate()
    days: list[FeedDay] = []
    for day, group in itertools.groupby(rows, key=lambda row: row[0]):
        day_rows = list(group)
        days.append(
            FeedDay(
                day=day,
                label=day_label(day, today),
                key=day.isoformat(),
                items=tuple(item for _day, item, _divider in day_rows),
                continued=not days and day == continues_day,
                divider_above=day_rows[0][2],
            )
        )
    return days

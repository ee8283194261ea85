"""Activity over time for the staff console: actions per day or week of the current filter.

One aggregate query over the window's timestamp range on PostgreSQL (one range count per bar on
SQLite), buckets cut at midnights of the viewer's time zone. The window is at most
:data:`MAX_DAYS` long, so the number of bars and the rows read stay bounded for any filter.
The SVG is drawn here as plain numbers for the template (no chart library).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

MAX_DAYS = 366  # one year (and a leap day) at most
DAILY_UP_TO = 92  # longer windows are drawn by week
WIDTH, HEIGHT = 720, 160  # the SVG's coordinate box
ONE_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Bar:
    start: dt.datetime  # inclusive, local time
    end: dt.datetime  # exclusive, local time
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def until(self) -> dt.datetime:
        """The staff filter's inclusive "until" of this bar."""
        return self.end - ONE_MICROSECOND


@dataclass(frozen=True)
class Chart:
    unit: str  # "day" or "week"
    start: dt.datetime
    end: dt.datetime
    bars: list[Bar]
    total: int
    peak: int
    clipped: bool  # the filter's range was longer than MAX_DAYS: its last year is shown
    width: int = WIDTH
    height: int = HEIGHT


def _local_midnight(moment: dt.datetime, tz: Any) -> dt.datetime:
    local = moment.astimezone(tz)
    return timezone.make_aware(dt.datetime.combine(local.date(), dt.time.min), tz)


def _next_boundary(start: dt.datetime, unit: str, tz: Any) -> dt.datetime:
    # calendar arithmetic on the local date, then midnight again: days of 23 or 25 hours
    days = 7 if unit == "week" else 1
    day = start.astimezone(tz).date() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)


def window(
    since: dt.datetime | None, until: dt.datetime | None, *, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime, bool]:
    """The chart's [start, end) for the filter's since/until (until inclusive): the filter's
    range, its last :data:`MAX_DAYS` days when longer, the last year when open."""
    end = until + ONE_MICROSECOND if until is not None else now
    start = since if since is not None else end - dt.timedelta(days=365)
    clipped = end - start > dt.timedelta(days=MAX_DAYS)
    if clipped:
        start = end - dt.timedelta(days=MAX_DAYS)
    return start, max(start, end), clipped and since is not None


def _bucket_counts(
    queryset: QuerySet[Any],
    edges: list[dt.datetime],
    *,
    start: dt.datetime,
    end: dt.datetime,
    unit: str,
    tz: Any,
) -> list[int]:
    within = queryset.order_by().filter(timestamp__gte=start, timestamp__lt=end)
    if connections[queryset.db].vendor != "postgresql":
        # SQLite truncates dates in a Python function called per row (slow at a million
        # rows): one COUNT of an index range per bar instead, at most 93 (days) or 54 (weeks)
        return [
            within.filter(timestamp__gte=low, timestamp__lt=high).count()
            for low, high in zip(edges[:-1], edges[1:], strict=True)
        ]
    rows = (
        within.annotate(aui_bucket=Trunc("timestamp", unit, tzinfo=tz))
        .values("aui_bucket")
        .annotate(aui_n=Count("pk"))
        .values_list("aui_bucket", "aui_n")
    )
    by_day = {bucket.astimezone(tz).date(): n for bucket, n in rows}
    return [by_day.get(edge.astimezone(tz).date(), 0) for edge in edges[:-1]]


def activity_chart(
    queryset: QuerySet[Any],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Chart:
    """Actions of ``queryset`` per day (windows up to :data:`DAILY_UP_TO` days) or per week
    (weeks start on Monday) in the current time zone. PostgreSQL: one query; SQLite: one
    count per bar."""
    tz = timezone.get_current_timezone()
    start, end, clipped = window(since, until, now=now or timezone.now())
    unit = "day" if end - start <= dt.timedelta(days=DAILY_UP_TO) else "week"
    first = _local_midnight(start, tz)
    if unit == "week":
        first -= dt.timedelta(days=first.weekday())
        first = _local_midnight(first + dt.timedelta(hours=12), tz)  # across a DST change
    edges = [first]
    while edges[-1] < end:
        edges.append(_next_boundary(edges[-1], unit, tz))
    counts = _bucket_counts(queryset, edges, start=start, end=end, unit=unit, tz=tz)
    peak = max(counts, default=0)
    slot = WIDTH / max(len(counts), 1)
    bars = []
    for index, count in enumerate(counts):
        height = HEIGHT * count / peak if peak else 0.0
        bars.append(
            Bar(
                start=max(edges[index], start).astimezone(tz),
                end=min(edges[index + 1], end).astimezone(tz),
                count=count,
                x=round(index * slot + slot * 0.1, 2),
                y=round(HEIGHT - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
            )
        )
    return Chart(
        unit=unit,
        start=start.astimezone(tz),
        end=end.astimezone(tz),
        bars=bars,
        total=sum(counts),
        peak=peak,
        clipped=clipped,
    )

"""Activity over time for the staff console: actions per day or week of the current filter.

Buckets are cut at midnights of the viewer's time zone. When every filter is one the action
counts answer (verb, visibility, object type, target type: :class:`activityui.models.ActionCount`,
kept by database triggers per quarter hour of UTC, one row per kind and hour), a bar is the sum
of its quarter hours (one query for every bar) plus an exact count of the actions in the pieces
of a quarter hour that its ends cut (the window's ends, and a midnight off the quarter-hour
grid, which no zone has today): a year sums at most 8,784 + 2 x bars rows per kind of action,
whatever the number of actions. Other filters (text, actor, an object's id) count the actions
of the window themselves, at most :data:`COUNT_LIMIT` of them: one query reads the times of the
newest matching actions (an index scan that stops after that many), and the bars are counted
from them here. When more actions match, the chart says from when it counted: the bars before
that are marked as not counted, the bar it falls in as a lower bound ("at least"), so the cost
stays bounded whatever the filter. The window is at most :data:`MAX_DAYS` long. The SVG is
drawn here as plain numbers for the template (no chart library).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

MAX_DAYS = 366  # one year (and a leap day) at most
DAILY_UP_TO = 92  # longer windows are drawn by week
WIDTH, HEIGHT = 720, 160  # the SVG's coordinate box
ONE_MICROSECOND = dt.timedelta(microseconds=1)
SLOT = dt.timedelta(minutes=15)  # the action counts' quarter hours, from SLOT_ORIGIN in UTC
HOUR = dt.timedelta(hours=1)
QUARTERS = 4
SLOT_ORIGIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
COUNTED_VENDORS = ("postgresql", "sqlite")  # the databases whose triggers keep the counts
# the columns of activityui_actioncount a kind filter may name (see counted_kinds)
KIND_COLUMNS = ("verb", "public", "object_type", "target_type")
# filters the counts cannot answer: at most this many actions (the newest) are counted
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Bar:
    start: dt.datetime  # inclusive, local time
    end: dt.datetime  # exclusive, local time
    count: int
    x: float
    y: float
    width: float
    height: float
    counted: bool = True  # False: before the newest COUNT_LIMIT actions (count is 0, unknown)
    partial: bool = False  # the newest COUNT_LIMIT actions start inside it: count is a minimum

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
    # more than COUNT_LIMIT actions matched: the newest were counted, from this moment (local)
    counted_from: dt.datetime | None = None
    count_limit: int = COUNT_LIMIT
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


def _newest_counts(
    queryset: QuerySet[Any], edges: list[dt.datetime], *, start: dt.datetime, end: dt.datetime
) -> tuple[list[int], dt.datetime | None]:
    """The actions of ``queryset`` in [start, end) per bar (``edges``), from the times of the
    newest :data:`COUNT_LIMIT` of them (one query), and the time from which they were counted
    when more match (None: every one was counted)."""
    counts = [0] * (len(edges) - 1)
    if queryset.query.is_empty():
        return counts, None
    within = queryset.order_by("-timestamp", "-pk").filter(timestamp__gte=start, timestamp__lt=end)
    newest = within.values_list("timestamp", flat=True)[: COUNT_LIMIT + 1]
    if connections[queryset.db].vendor == "postgresql":
        # the planner prices a LIMITed walk of a year at millions of rows and compiles it
        # with JIT first (~0.1 s): not for a read that stops after COUNT_LIMIT rows (inside a
        # caller's transaction the setting holds until that transaction ends)
        with transaction.atomic(using=queryset.db):
            with connections[queryset.db].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            times = list(newest)
    else:
        times = list(newest)
    counted_from = None
    if len(times) > COUNT_LIMIT:
        times = times[:COUNT_LIMIT]
        counted_from = times[-1]
    inner = edges[1:-1]  # a time's bar: how many inner edges are at or before it
    for moment in times:
        counts[bisect_right(inner, moment)] += 1
    return counts, counted_from


def slot_floor(moment: dt.datetime) -> dt.datetime:
    """The start of the quarter hour holding ``moment`` (UTC)."""
    return SLOT_ORIGIN + (moment - SLOT_ORIGIN) // SLOT * SLOT


def slot_ceil(moment: dt.datetime) -> dt.datetime:
    """The first quarter-hour boundary at or after ``moment`` (UTC)."""
    floor = slot_floor(moment)
    return floor if floor == moment else floor + SLOT


def hour_floor(moment: dt.datetime) -> dt.datetime:
    """The start of the hour holding ``moment`` (UTC)."""
    return SLOT_ORIGIN + (moment - SLOT_ORIGIN) // HOUR * HOUR


Piece = tuple[int, dt.datetime, dt.datetime]  # (bar, start, end)
Hours = tuple[int, dt.datetime, dt.datetime, int, int]  # (bar, first hour, end, quarters from, to)


def _hours(index: int, first: dt.datetime, last: dt.datetime) -> list[Hours]:
    """Quarter-aligned [first, last) as rows of hours: whole hours, and the quarters of an
    hour cut at either end."""
    rows = []
    moment = first
    while moment < last:
        hour = hour_floor(moment)
        quarter = (moment - hour) // SLOT
        if quarter == 0 and hour + HOUR <= last:
            moment = hour_floor(last)
            rows.append((index, hour, moment, 0, QUARTERS))
        else:
            moment = min(hour + HOUR, last)
            rows.append((index, hour, hour + HOUR, quarter, (moment - hour) // SLOT))
    return rows


def _split(bounds: list[tuple[dt.datetime, dt.datetime]]) -> tuple[list[Hours], list[Piece]]:
    """Each bar's whole quarter hours (read from the counts) and the pieces of quarter hours
    at its ends (counted from the actions)."""
    hours: list[Hours] = []
    pieces: list[Piece] = []
    for index, (low, high) in enumerate(bounds):
        first, last = slot_ceil(low), slot_floor(high)
        if first < last:
            hours += _hours(index, first, last)
            pieces += [(index, low, first), (index, last, high)]
        else:
            pieces.append((index, low, high))
    return hours, [piece for piece in pieces if piece[1] < piece[2]]


def _summed_hours(alias: str, kinds: Mapping[str, Any], hours: list[Hours]) -> dict[int, int]:
    # one query: each bar's ranges of hours joined to the counts (an index range each), the
    # quarters it covers summed; the kind columns come from KIND_COLUMNS, never the request
    if not hours:
        return {}
    from activityui.models import QUARTER_FIELDS, ActionCount

    connection = connections[alias]
    ops = connection.ops
    table = ops.quote_name(ActionCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(hours))
    params: list[Any] = []
    for index, low, high, first, last in hours:
        params += [index, ops.adapt_datetimefield_value(low)]
        params += [ops.adapt_datetimefield_value(high), first, last]
    quarters = " + ".join(
        f"CASE WHEN b.column4 <= {q} AND b.column5 > {q} THEN c.{name} ELSE 0 END"
        for q, name in enumerate(QUARTER_FIELDS)
    )
    where = "".join(f" AND c.{ops.quote_name(column)} = %s" for column in kinds)
    params += list(kinds.values())
    sql = (
        f"SELECT b.column1, SUM({quarters}) FROM (VALUES {values}) AS b "
        f"JOIN {table} c ON c.hour >= b.column2 AND c.hour < b.column3 WHERE 1 = 1{where} "
        "GROUP BY b.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(index): int(total) for index, total in cursor.fetchall()}


def _counted_pieces(queryset: QuerySet[Any], pieces: list[Piece]) -> dict[int, int]:
    # the actions in the cut quarter hours, one query (usually two pieces: the window's ends)
    if not pieces:
        return {}
    ranges = [Q(timestamp__gte=low, timestamp__lt=high) for _i, low, high in pieces]
    totals = (
        queryset.order_by()
        .filter(reduce(or_, ranges))
        .aggregate(**{f"p{n}": Count("pk", filter=ranges[n]) for n in range(len(pieces))})
    )
    counts: dict[int, int] = {}
    for n, (index, _low, _high) in enumerate(pieces):
        counts[index] = counts.get(index, 0) + totals[f"p{n}"]
    return counts


def _rolled_up_counts(
    queryset: QuerySet[Any], kinds: Mapping[str, Any], bounds: list[tuple[dt.datetime, dt.datetime]]
) -> list[int]:
    unknown = set(kinds) - set(KIND_COLUMNS)
    if unknown:
        raise ValueError(f"not a column of the action counts: {sorted(unknown)}")
    hours, pieces = _split(bounds)
    summed = _summed_hours(queryset.db, kinds, hours)
    counted = _counted_pieces(queryset, pieces)
    return [summed.get(index, 0) + counted.get(index, 0) for index in range(len(bounds))]


def activity_chart(
    queryset: QuerySet[Any],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
    kinds: Mapping[str, Any] | None = None,
) -> Chart:
    """Actions of ``queryset`` per day (windows up to :data:`DAILY_UP_TO` days) or per week
    (weeks start on Monday) in the current time zone.

    ``kinds``: when ``queryset`` is every action narrowed only by columns of the action counts
    (:data:`KIND_COLUMNS`: ``{"verb": "commented", "object_type": 7}``, ``{}`` for none), the
    same narrowing, so that the bars are read from the counts (two queries); ``None``: the
    actions are counted (PostgreSQL: one query; SQLite: one count per bar)."""
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
    bounds = [
        (max(low, start), min(high, end)) for low, high in zip(edges[:-1], edges[1:], strict=True)
    ]
    counted = connections[queryset.db].vendor in COUNTED_VENDORS
    counted_from = None
    if kinds is not None and counted and not queryset.query.is_empty():
        counts = _rolled_up_counts(queryset, kinds, bounds)
    else:
        counts, counted_from = _newest_counts(queryset, edges, start=start, end=end)
    peak = max(counts, default=0)
    slot = WIDTH / max(len(counts), 1)
    bars = []
    for index, count in enumerate(counts):
        height = HEIGHT * count / peak if peak else 0.0
        bars.append(
            Bar(
                start=bounds[index][0].astimezone(tz),
                end=bounds[index][1].astimezone(tz),
                count=count,
                x=round(index * slot + slot * 0.1, 2),
                y=round(HEIGHT - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                counted=counted_from is None or bounds[index][1] > counted_from,
                partial=counted_from is not None
                and bounds[index][0] < counted_from < bounds[index][1],
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
        counted_from=counted_from.astimezone(tz) if counted_from is not None else None,
        count_limit=COUNT_LIMIT,
    )

"""The staff console's activity chart (activityui.chart): its numbers against plain counts."""

from __future__ import annotations

import datetime as dt
import random
import re
import zoneinfo

import pytest
from actstream.models import Action
from django.utils import timezone

import activityui
from activityui.capture import acting_as
from activityui.chart import activity_chart
from demo_site.demo.models import Task

URL = "/activity/staff/chart/"


def table_rows(html: str) -> list[tuple[str, int]]:
    return [
        (start, int(count))
        for count, start in re.findall(
            r'<div role="row" class="aui-chart__row" data-count="(\d+)" data-start="([^"]+)">', html
        )
    ]


def plain_count(**filters) -> int:
    return Action.objects.filter(**filters).count()


@pytest.fixture
def staff_client(client, demo):
    client.force_login(demo["staff"])
    return client


def test_chart_days_match_plain_counts(staff_client, settings):
    since, until = "2026-01-01T00:00:00", "2026-01-31T23:59:59"
    response = staff_client.get(URL, {"since": since, "until": until, "verb": "updated"})
    assert response.status_code == 200
    rows = table_rows(response.content.decode())
    assert len(rows) == 31
    assert sum(c for _s, c in rows) > 0
    tz = timezone.get_current_timezone()
    for start, count in rows:
        day = dt.datetime.fromisoformat(start).astimezone(tz)
        expected = plain_count(
            verb="updated", timestamp__gte=day, timestamp__lt=day + dt.timedelta(days=1)
        )
        assert count == expected, start
    assert sum(c for _s, c in rows) == plain_count(
        verb="updated",
        timestamp__gte=dt.datetime(2026, 1, 1, tzinfo=tz),
        timestamp__lt=dt.datetime(2026, 2, 1, tzinfo=tz),
    )


def test_chart_weeks_for_a_year_match_plain_counts(staff_client):
    response = staff_client.get(URL)
    rows = table_rows(response.content.decode())
    assert 52 <= len(rows) <= 54
    assert response.context["chart"].unit == "week"
    assert sum(c for _s, c in rows) == response.context["chart"].total
    chart = response.context["chart"]
    assert chart.total == plain_count(timestamp__gte=chart.start, timestamp__lt=chart.end)
    for bar in chart.bars:
        assert bar.count == plain_count(timestamp__gte=bar.start, timestamp__lt=bar.end)
    first, *others = chart.bars
    assert first.start == chart.start  # the year's first moment, whatever the weekday
    # every other week starts on a Monday at local midnight
    assert [(b.start.weekday(), b.start.time()) for b in others] == [(0, dt.time.min)] * len(others)


def test_chart_follows_text_search_and_visibility_filters(staff_client, demo):
    from django.test import RequestFactory

    from activityui.filters import StaffActionFilterSet
    from activityui.selectors import action_list_for_staff

    params = {"q": "apollo web", "visibility": "public"}
    chart = staff_client.get(URL, params).context["chart"]
    request = RequestFactory().get("/", params)
    request.user = demo["staff"]
    filterset = StaffActionFilterSet(
        params, queryset=action_list_for_staff(user=demo["staff"]), request=request
    )
    assert filterset.is_valid()
    window = filterset.qs.filter(timestamp__gte=chart.start, timestamp__lt=chart.end)
    assert chart.total == window.count() > 0
    assert chart.total < Action.objects.count()


def test_chart_days_cut_at_the_viewer_midnight(demo, settings):
    settings.TIME_ZONE = "America/New_York"
    tz = zoneinfo.ZoneInfo("America/New_York")
    alice = demo["alice"]
    task = Task.objects.first()
    with acting_as(alice, at=dt.datetime(2026, 3, 8, 23, 30, tzinfo=tz)):  # DST starts the 8th
        late = activityui.record(alice, "archived", task)
    with acting_as(alice, at=dt.datetime(2026, 3, 9, 0, 30, tzinfo=tz)):
        early = activityui.record(alice, "archived", task)
    with timezone.override(tz):
        chart = activity_chart(
            Action.objects.filter(verb="archived"),
            since=dt.datetime(2026, 3, 7, tzinfo=tz),
            until=dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=tz),
        )
    counts = {bar.start.date().isoformat(): bar.count for bar in chart.bars}
    assert counts == {"2026-03-07": 0, "2026-03-08": 1, "2026-03-09": 1}
    day = chart.bars[1]
    assert day.end.astimezone(dt.UTC) - day.start.astimezone(dt.UTC) == dt.timedelta(hours=23)
    assert late.timestamp < day.end <= early.timestamp


def test_chart_bar_links_narrow_the_console(staff_client):
    response = staff_client.get(
        URL, {"since": "2026-01-01T00:00:00", "until": "2026-01-07T23:59:59", "verb": "updated"}
    )
    html = response.content.decode()
    link = (
        re.search(r'<span role="cell"><a class="aui-link" href="([^"]+)"', html)
        .group(1)
        .replace("&amp;", "&")
    )
    assert "verb=updated" in link and "since=2026-01-01T00%3A00%3A00" in link
    assert "until=2026-01-01T23%3A59%3A59.999999" in link
    narrowed = staff_client.get(link)
    assert narrowed.status_code == 200
    first = table_rows(html)[0][1]
    assert narrowed.context["count"] == first


def test_chart_is_a_fragment_for_htmx_and_a_page_without(staff_client):
    fragment = staff_client.get(URL, headers={"HX-Request": "true"}).content.decode()
    page = staff_client.get(URL).content.decode()
    assert fragment.lstrip().startswith('<figure class="aui-chart"')
    assert "<html" in page and 'id="staff-chart"' in page


def test_chart_bad_filters_are_400(staff_client):
    assert staff_client.get(URL, {"since": "nope"}).status_code == 400


def test_chart_needs_the_permission(client, demo):
    client.force_login(demo["alice"])
    assert client.get(URL).status_code == 403


def chart_queries(client, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        chart = client.get(URL, params or {}).context["chart"]
    counts = [q for q in queries.captured_queries if '"activityui_actioncount"' in q["sql"]]
    actions = [
        q
        for q in queries.captured_queries
        if '"actstream_action"' in q["sql"] and "COUNT(" in q["sql"]
    ]
    return chart, counts, actions


def test_chart_of_counted_filters_reads_the_counts_in_two_queries(staff_client):
    for params, plain in (
        ({}, {}),
        ({"verb": "commented", "visibility": "public"}, {"verb": "commented", "public": True}),
    ):
        chart, counts, actions = chart_queries(staff_client, params)
        assert len(chart.bars) >= 52
        # one sum of the counts for every bar, one count of the window's cut quarter hours
        assert (len(counts), len(actions)) == (1, 1)
        assert chart.total == plain_count(
            timestamp__gte=chart.start, timestamp__lt=chart.end, **plain
        )


def test_chart_of_other_filters_counts_the_actions(staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from activityui.chart import COUNT_LIMIT

    with CaptureQueriesContext(connection) as queries:
        chart = staff_client.get(URL, {"q": "apollo"}).context["chart"]
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if '"activityui_actioncount"' in q]
    # one read of the newest actions' times, whatever the number of bars
    reads = [q for q in sql if '"actstream_action"' in q and "COUNT(" in q.upper()]
    assert reads == []  # no count: the times of the newest actions, LIMITed
    times = [q for q in sql if q.startswith('SELECT "actstream_action"."timestamp"')]
    assert len([q for q in times if q.endswith(f"LIMIT {COUNT_LIMIT + 1}")]) == 1
    assert chart.counted_from is None and all(bar.counted for bar in chart.bars)
    assert len(chart.bars) >= 52 and chart.total > 0


def test_chart_counts_at_most_the_newest_matching_actions(staff_client, monkeypatch, demo):
    from django.test import RequestFactory

    from activityui import chart as charts
    from activityui.filters import StaffActionFilterSet
    from activityui.selectors import action_list_for_staff

    params = {"q": "apollo"}
    full = staff_client.get(URL, params).context["chart"]
    limit = full.total // 3
    monkeypatch.setattr(charts, "COUNT_LIMIT", limit)
    response = staff_client.get(URL, params)
    chart = response.context["chart"]
    assert chart.total == limit and chart.count_limit == limit
    assert chart.counted_from is not None
    request = RequestFactory().get("/", params)
    request.user = demo["staff"]
    filterset = StaffActionFilterSet(
        params, queryset=action_list_for_staff(user=demo["staff"]), request=request
    )
    assert filterset.is_valid()
    matching = filterset.qs
    for bar, before in zip(chart.bars, full.bars, strict=True):
        if bar.end <= chart.counted_from:  # older than what was counted
            assert (bar.counted, bar.partial, bar.count) == (False, False, 0)
        elif bar.start < chart.counted_from:  # counted from inside it: a minimum
            assert bar.partial and bar.counted
            assert (
                bar.count
                == matching.filter(timestamp__gte=chart.counted_from, timestamp__lt=bar.end).count()
            )
            assert bar.count < before.count
        else:
            assert (bar.counted, bar.partial, bar.count) == (True, False, before.count)
    html = response.content.decode()
    assert "not counted" in html and "at least" in html and "counted the newest" in html
    assert sum(count for _start, count in table_rows(html)) == limit


# --------------------------------------------------------------- random actions, many zones

ZONES = [
    "UTC",
    "Europe/Paris",  # DST on 29 March and 25 October 2026
    "America/New_York",  # DST on 8 March and 1 November 2026
    "Asia/Kolkata",  # +05:30: midnights at :30 past a UTC hour
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # +10:30, and +11:00 in summer (a 30-minute DST change, 5 April)
]
WINDOWS = [
    ("2026-03-01T00:00:17", "2026-04-06T13:07:59"),  # by day, across spring changes
    ("2026-10-20T00:00:00", "2026-11-09T23:59:59"),  # by day, across autumn changes
    ("2026-01-01T00:00:00", "2026-12-31T23:59:59"),  # by week, the whole year
]


@pytest.fixture
def random_actions(db):
    """Actions of random kinds at random moments of 2026, many of them a few minutes from a
    midnight of one of ZONES (in Amsterdam's 1930 too, when it was 19 min 32 s ahead of UTC),
    written by bulk_create: only the database triggers count them."""
    from django.contrib.contenttypes.models import ContentType

    from demo_site.demo.models import Project, Team

    rng = random.Random(16)
    task, project, team = (ContentType.objects.get_for_model(m) for m in (Task, Project, Team))
    moments = [
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(365 * 86400))
        for _ in range(300)
    ]
    for name in [*ZONES, "Europe/Amsterdam"]:
        tz = zoneinfo.ZoneInfo(name)
        for _ in range(60):
            day = dt.date(2026, rng.choice([3, 4, 10, 11]), rng.randint(1, 28))
            if name == "Europe/Amsterdam":
                day = day.replace(year=1930)
            midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
            moments.append(midnight + dt.timedelta(seconds=rng.randint(-1200, 1200)))
    Action.objects.bulk_create(
        [
            Action(
                actor_content_type=task,
                actor_object_id="1",
                verb=rng.choice(["updated", "commented", "moved"]),
                public=rng.random() < 0.7,
                action_object_content_type=rng.choice([task, project, None]),
                action_object_object_id="1",
                target_content_type=rng.choice([project, team, None]),
                target_object_id="1",
                timestamp=moment,
            )
            for moment in moments
        ]
    )
    return {"task": task, "project": project, "team": team}


FILTERS = [
    {},
    {"verb": "commented"},
    {"visibility": "private"},
    {"object_type": "demo.task"},
    {"target_type": "demo.team", "verb": "updated", "visibility": "public"},
    {"object_type": "demo.project", "target_type": "demo.project"},
]


def plain_filters(params, types) -> dict:
    plain = {}
    if "verb" in params:
        plain["verb"] = params["verb"]
    if "visibility" in params:
        plain["public"] = params["visibility"] == "public"
    if "object_type" in params:
        plain["action_object_content_type"] = types[params["object_type"].split(".")[1]]
    if "target_type" in params:
        plain["target_content_type"] = types[params["target_type"].split(".")[1]]
    return plain


@pytest.mark.parametrize("zone", ZONES)
def test_chart_of_random_actions_equals_plain_counts(client, random_actions, settings, zone):
    from tests.factories import UserFactory

    settings.TIME_ZONE = zone
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for since, until in WINDOWS:
        for filters in FILTERS:
            params = {"since": since, "until": until, **filters}
            chart, counts, _actions = chart_queries(client, params)
            assert len(counts) == 1  # read from the counts
            plain = plain_filters(filters, random_actions)
            for bar in chart.bars:
                expected = plain_count(timestamp__gte=bar.start, timestamp__lt=bar.end, **plain)
                assert bar.count == expected, (zone, params, bar.start)
            assert chart.total == plain_count(
                timestamp__gte=chart.start, timestamp__lt=chart.end, **plain
            )
            assert chart.total > 0


def test_chart_of_random_actions_off_the_quarter_hour_grid(client, random_actions, settings):
    # Amsterdam in 1930: every midnight cuts a quarter hour; those are counted exactly
    from tests.factories import UserFactory

    settings.TIME_ZONE = "Europe/Amsterdam"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for filters in ({}, {"verb": "moved"}):
        params = {"since": "1930-03-01T00:00:00", "until": "1930-04-30T23:59:59", **filters}
        chart, counts, actions = chart_queries(client, params)
        assert (len(counts), len(actions)) == (1, 1)
        assert chart.bars[1].start.utcoffset() == dt.timedelta(minutes=19, seconds=32)
        plain = plain_filters(filters, random_actions)
        for bar in chart.bars:
            expected = plain_count(timestamp__gte=bar.start, timestamp__lt=bar.end, **plain)
            assert bar.count == expected, bar.start
        assert chart.total > 0


def test_chart_of_a_window_shorter_than_a_quarter_hour(client, random_actions, settings):
    from tests.factories import UserFactory

    settings.TIME_ZONE = "Asia/Kolkata"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    first = Action.objects.filter(timestamp__year=2026).order_by("timestamp").first()
    moment = first.timestamp.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata")).replace(tzinfo=None)
    params = {
        "since": (moment - dt.timedelta(minutes=3)).isoformat(),
        "until": (moment + dt.timedelta(minutes=5)).isoformat(),
    }
    chart, counts, actions = chart_queries(client, params)
    assert counts == [] and len(actions) == 1  # no whole quarter hour: the actions counted
    assert chart.total == plain_count(timestamp__gte=chart.start, timestamp__lt=chart.end) >= 1


def test_chart_refuses_a_kind_the_counts_do_not_keep(db):
    with pytest.raises(ValueError, match="actor_object_id"):
        activity_chart(Action.objects.all(), kinds={"actor_object_id": "1"})


def test_chart_of_no_actions_reads_nothing(random_actions, django_assert_num_queries):
    with django_assert_num_queries(0):
        chart = activity_chart(Action.objects.none(), kinds={})
    assert chart.total == 0 and len(chart.bars) >= 52


def test_chart_of_whole_days_reads_only_the_counts(random_actions, django_assert_num_queries):
    # a bar's link asks for whole days (until .999999): no quarter hour is cut
    tz = zoneinfo.ZoneInfo("Asia/Kolkata")
    since = dt.datetime(2026, 3, 1, tzinfo=tz)
    until = dt.datetime(2026, 3, 8, tzinfo=tz) - dt.timedelta(microseconds=1)
    with timezone.override(tz), django_assert_num_queries(1):
        chart = activity_chart(Action.objects.all(), since=since, until=until, kinds={})
    assert [bar.count for bar in chart.bars] == [
        plain_count(timestamp__gte=bar.start, timestamp__lt=bar.end) for bar in chart.bars
    ]
    assert chart.total > 0

"""The staff console's activity chart (activityui.chart): its numbers against plain counts."""

from __future__ import annotations

import datetime as dt
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


def test_chart_query_count_does_not_grow_with_actions(staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        chart = staff_client.get(URL).context["chart"]
    reads = [q for q in queries.captured_queries if '"actstream_action"' in q["sql"]]
    if connection.vendor == "postgresql":
        assert len([q for q in reads if "GROUP BY" in q["sql"]]) == 1
    else:  # one range count a bar (at most 54 for a year of weeks)
        assert len([q for q in reads if "COUNT(" in q["sql"]]) == len(chart.bars) <= 54

"""Presenters: the feed's aggregation, read-marker divider and day sections (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activityui.cursors import Cursor, encode_cursor
from activityui.days import feed_days
from activityui.presenters import ActionEntry, ObjectRef, count_label

NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)


def ref(key: str, pk: int, label: str) -> ObjectRef:
    return ObjectRef(
        label=label,
        url=f"/{key}/{pk}/",
        timeline_url=None,
        type_name=key.split(".")[1],
        type_key=key,
        object_id=str(pk),
    )


def entry(
    pk: int,
    minutes_ago: float,
    *,
    actor: int = 1,
    verb: str = "updated",
    task: int | None = None,
    project: int = 1,
) -> ActionEntry:
    when = NOW - dt.timedelta(minutes=minutes_ago)
    return ActionEntry(
        id=pk,
        timestamp=when,
        verb=verb,
        phrase=verb,
        icon="dot",
        actor=ref("auth.user", actor, f"user{actor}"),
        initials="U",
        hue=actor,
        action_object=ref("demo.task", task if task is not None else pk, f"Task {task or pk}"),
        target=ref("demo.project", project, f"Project {project}"),
        changes=(),
        public=True,
        cursor=encode_cursor(when, pk),
    )


def items(days):
    return [item for day in days for item in day.items]


@time_machine.travel(NOW, tick=False)
def test_feed_days_collapse_consecutive_similar_actions():
    entries = [entry(10, 1), entry(9, 2), entry(8, 3), entry(7, 4, actor=2), entry(6, 5)]
    rows = items(feed_days(entries))
    assert [r.count for r in rows] == [3, 1, 1]
    assert rows[0].summary == "updated 3 tasks"
    assert rows[0].is_group and not rows[1].is_group


@time_machine.travel(NOW, tick=False)
def test_feed_days_same_object_reads_as_times():
    rows = items(feed_days([entry(3, 1, task=5), entry(2, 2, task=5)]))
    assert rows[0].summary == "updated Task 5 2 times"


@time_machine.travel(NOW, tick=False)
def test_feed_days_do_not_collapse_across_verbs_targets_or_days():
    entries = [
        entry(6, 1),
        entry(5, 2, verb="commented"),
        entry(4, 3, project=2),
        entry(3, 4),
        entry(2, 60 * 24),  # yesterday
    ]
    days = feed_days(entries)
    assert [d.label for d in days] == ["Today", "Yesterday"]
    assert [r.count for r in items(days)] == [1, 1, 1, 1, 1]


@time_machine.travel(NOW, tick=False)
def test_feed_days_divider_sits_between_new_and_seen_and_splits_groups():
    entries = [entry(5, 1), entry(4, 2), entry(3, 3), entry(2, 4)]
    marker = Cursor(entries[2].timestamp, entries[2].id)  # 3 and older are seen
    rows = items(feed_days(entries, marker=marker))
    assert [r.count for r in rows] == [2, 2]
    assert rows[0].new and not rows[1].new
    assert rows[1].divider_above and not rows[0].divider_above


@time_machine.travel(NOW, tick=False)
def test_feed_days_own_actions_are_never_new():
    entries = [entry(5, 1, actor=7), entry(4, 2, actor=2)]
    marker = Cursor(entries[1].timestamp, entries[1].id)
    rows = items(feed_days(entries, marker=marker, own_actor=("auth.user", "7")))
    assert not rows[0].new
    assert not any(r.divider_above for r in rows)


@time_machine.travel(NOW, tick=False)
def test_feed_days_divider_above_a_day_heading_when_a_day_starts_seen():
    entries = [entry(5, 1, actor=2), entry(4, 60 * 24)]
    marker = Cursor(entries[1].timestamp, entries[1].id)
    days = feed_days(entries, marker=marker)
    assert days[1].divider_above
    assert not any(r.divider_above for r in items(days))


@time_machine.travel(NOW, tick=False)
def test_feed_days_no_divider_on_a_first_visit():
    assert not any(r.divider_above or r.new for r in items(feed_days([entry(2, 1), entry(1, 2)])))


@time_machine.travel(NOW, tick=False)
def test_feed_days_continued_day_has_no_new_heading():
    days = feed_days([entry(2, 1), entry(1, 60 * 24)], continues_day=timezone.localdate())
    assert days[0].continued and not days[1].continued


@time_machine.travel(NOW, tick=False)
def test_feed_days_follow_state_only_for_single_followable_rows():
    entries = [entry(5, 1, task=1), entry(4, 2, actor=2, task=2), entry(3, 3, task=3)]
    days = feed_days(entries, followable={"demo.task"}, followed={("demo.task", "2")})
    rows = items(days)
    assert [r.follow.following if r.follow else None for r in rows] == [False, True, False]
    assert items(feed_days(entries))[0].follow is None  # nothing followable


@time_machine.travel(NOW, tick=False)
def test_feed_days_groups_are_bounded():
    entries = [entry(100 - n, n / 10) for n in range(7)]
    assert [r.count for r in items(feed_days(entries, max_group=3))] == [3, 3, 1]


def test_count_label_caps():
    assert (count_label(0, 20), count_label(7, 20), count_label(21, 20)) == ("", "7", "20+")


# --- object URLs: one reverse() per route and type, the same strings ---


@hypothesis_settings(max_examples=500, deadline=None)
@given(object_id=st.text(min_size=1, max_size=30))
def test_object_url_is_what_reverse_gives(object_id):
    from django.urls import NoReverseMatch, reverse

    from activityui.links import object_url

    for name in ("activityui:object", "activityui:follow"):
        try:
            expected = reverse(name, args=["demo.task", object_id])
        except NoReverseMatch:
            expected = NoReverseMatch
        try:
            got = object_url(name, "demo.task", object_id)
        except NoReverseMatch:
            got = NoReverseMatch
        assert got == expected


def test_object_url_follows_the_script_prefix_and_urlconf_changes():
    from django.test import override_settings
    from django.urls import clear_script_prefix, set_script_prefix

    from activityui.links import object_url

    assert object_url("activityui:object", "demo.task", "7") == "/activity/objects/demo.task/7/"
    set_script_prefix("/app/")
    try:
        assert object_url("activityui:object", "demo.task", "7") == (
            "/app/activity/objects/demo.task/7/"
        )
    finally:
        clear_script_prefix()
    with override_settings(ROOT_URLCONF="tests.capture_urls"):
        from django.urls import NoReverseMatch

        with pytest.raises(NoReverseMatch):
            object_url("activityui:object", "demo.task", "7")
    assert object_url("activityui:object", "demo.task", "7") == "/activity/objects/demo.task/7/"

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from actstream.models import Action, Follow
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import activityui
from activityui.management.commands.prune_activity import parse_duration


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("pruner", password="pw")


def record_at(user, days_ago: float, verb: str = "signed in") -> Action:
    return activityui.record(user, verb, timestamp=timezone.now() - dt.timedelta(days=days_ago))


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_activity", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("400d", dt.timedelta(days=400)),
        ("12w", dt.timedelta(weeks=12)),
        ("36h", dt.timedelta(hours=36)),
        ("7D", dt.timedelta(days=7)),
    ],
)
def test_parse_duration_accepts_hours_days_weeks(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["400", "d", "12m", "-3d", "1.5d", "forty days", "", "0d"])
def test_parse_duration_rejects_bad_values(text):
    with pytest.raises(CommandError, match="older-than"):
        parse_duration(text)


def test_prune_bad_duration_is_a_command_error_with_a_clear_message(user):
    with pytest.raises(CommandError, match=r"use a whole number followed by h .*d .*w"):
        prune("--older-than", "a year")


def test_prune_huge_duration_is_a_command_error(user):
    with pytest.raises(CommandError, match="too large"):
        prune("--older-than", "99999999999w")


@pytest.mark.parametrize("size", ["0", "-5", "many"])
def test_prune_bad_batch_size_is_a_command_error(user, size):
    with pytest.raises(CommandError, match="batch-size"):
        prune("--older-than", "10d", "--batch-size", size)


def test_prune_deletes_old_actions_and_keeps_recent_ones(user):
    old = [record_at(user, 500), record_at(user, 401, "exported")]
    recent = [record_at(user, 399), record_at(user, 1)]
    output = prune("--older-than", "400d")
    assert set(Action.objects.values_list("pk", flat=True)) == {a.pk for a in recent}
    assert not Action.objects.filter(pk__in=[a.pk for a in old]).exists()
    assert "Deleted 2 action(s) older than 400 days" in output
    assert "1 'exported'" in output
    assert "1 'signed in'" in output


def test_prune_keeps_follows(user):
    other = get_user_model().objects.create_user("followed", password="pw")
    follow = Follow.objects.create(
        user=user, content_type=ContentType.objects.get_for_model(other), object_id=str(other.pk)
    )
    activityui.record(
        user,
        "started following",
        other,
        timestamp=timezone.now() - dt.timedelta(days=800),
    )
    prune("--older-than", "400d")
    assert not Action.objects.exists()
    assert Follow.objects.filter(pk=follow.pk).exists()


def test_prune_dry_run_deletes_nothing(user):
    for days in (900, 600, 10):
        record_at(user, days)
    output = prune("--older-than", "52w", "--dry-run")
    assert Action.objects.count() == 3
    assert "would delete 2 action(s) older than 364 days" in output
    assert "Nothing was deleted" in output


def test_prune_deletes_in_batches_by_primary_key_range(user):
    for _ in range(7):
        record_at(user, 30)
    kept = record_at(user, 1)
    with CaptureQueriesContext(connection) as ctx:
        output = prune("--older-than", "36h", "--batch-size", "3")
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3
    ranges = [q["sql"] for q in ctx.captured_queries if '"id" >=' in q["sql"]]
    assert len(ranges) == 3
    assert all('"id" <=' in sql and '"data"' not in sql for sql in ranges)
    assert "in 3 batch(es)" in output
    assert list(Action.objects.values_list("pk", flat=True)) == [kept.pk]


def test_prune_never_deletes_a_recent_action_inside_an_old_key_range(user):
    first = record_at(user, 100)
    recent = record_at(user, 2)  # its key lies between two old ones
    last = record_at(user, 100)
    prune("--older-than", "10d", "--batch-size", "10")
    assert list(Action.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Action.objects.filter(pk__in=[first.pk, last.pk]).exists()


def test_prune_with_nothing_old_says_so(user):
    record_at(user, 1)
    output = prune("--older-than", "400d")
    assert output.startswith("No actions older than 400 days")
    assert Action.objects.count() == 1


@override_settings(ACTIVITYUI={"RETENTION_DAYS": 30})
def test_prune_default_age_comes_from_retention_days(user):
    record_at(user, 31)
    kept = record_at(user, 29)
    output = prune()
    assert "older than 30 days" in output
    assert list(Action.objects.values_list("pk", flat=True)) == [kept.pk]


@override_settings(ACTIVITYUI={"RETENTION_DAYS": None})
def test_prune_without_age_or_retention_days_is_a_command_error(user):
    record_at(user, 1000)
    with pytest.raises(CommandError, match="RETENTION_DAYS"):
        prune()
    assert Action.objects.count() == 1


def test_prune_verbose_lists_each_batch(user):
    for _ in range(4):
        record_at(user, 30)
    out = StringIO()
    call_command(
        "prune_activity", "--older-than", "1w", "--batch-size", "2", verbosity=2, stdout=out
    )
    assert out.getvalue().count("batch ") == 2

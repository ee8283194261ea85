"""The action counts (``activityui.models.ActionCount``): kept by database triggers however
actions are written, moved, deleted or truncated, and filled for the actions already there when
they are migrated in. Each test compares the counts with a GROUP BY of the actions themselves."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections

from activityui.capture import acting_as
from activityui.chart import hour_floor, slot_floor
from activityui.models import ActionCount
from demo_site.demo.models import Project, Task
from tests.common_fixtures import only_on
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory

T0 = dt.datetime(2026, 11, 1, 9, 7, 30, tzinfo=dt.UTC)
Kind = tuple[dt.datetime, str, bool, int, int]  # (quarter hour, verb, public, types)
QUARTERS = ("minute00", "minute15", "minute30", "minute45")


def kinds_of_actions() -> Counter[Kind]:
    """What the counts must say: the actions grouped by quarter hour and kind, in Python."""
    return Counter(
        (
            slot_floor(timestamp),
            verb,
            public,
            object_type or 0,
            target_type or 0,
        )
        for timestamp, verb, public, object_type, target_type in Action.objects.values_list(
            "timestamp", "verb", "public", "action_object_content_type", "target_content_type"
        )
    )


def counted_kinds() -> Counter[Kind]:
    """What the counts say (several rows of one kind add up; no row holds 0)."""
    totals: Counter[Kind] = Counter()
    for row in ActionCount.objects.all():
        assert row.hour == hour_floor(row.hour)
        assert any(getattr(row, name) for name in QUARTERS)
        for quarter, name in enumerate(QUARTERS):
            slot = row.hour + dt.timedelta(minutes=15 * quarter)
            totals[(slot, row.verb, row.public, row.object_type, row.target_type)] += getattr(
                row, name
            )
    return +totals


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice", first_name="Alice")
    with acting_as(alice, at=T0):
        team = TeamFactory(name="Apollo")
        team.members.add(alice)
        project = ProjectFactory(team=team, name="Apollo Web")
        task = TaskFactory(project=project, title="Fix login", status="todo", assignee=None)
    return alice, project, task


def written_action(task: Task, when: dt.datetime, verb: str = "updated", **fields) -> Action:
    """An action written behind capture's back (no signal, no Python code of the counts)."""
    values = {
        "actor_content_type": ContentType.objects.get_for_model(Project),
        "actor_object_id": str(task.project_id),
        "verb": verb,
        "action_object_content_type": ContentType.objects.get_for_model(Task),
        "action_object_object_id": str(task.pk),
        "timestamp": when,
        **fields,
    }
    (action,) = Action.objects.bulk_create([Action(**values)])
    return action if action.pk else Action.objects.order_by("-pk").first()


def test_a_tracked_save_counts_its_action(world):
    alice, _project, task = world
    before = counted_kinds()
    with acting_as(alice, at=T0 + dt.timedelta(minutes=20)):
        task.title = "Fix the login"
        task.save()
    task_ct = ContentType.objects.get_for_model(Task).pk
    project_ct = ContentType.objects.get_for_model(Project).pk
    added = counted_kinds() - before
    assert added == Counter(
        {(dt.datetime(2026, 11, 1, 9, 15, tzinfo=dt.UTC), "updated", True, task_ct, project_ct): 1}
    )
    assert counted_kinds() == kinds_of_actions()


def test_bulk_inserts_count_every_action(world):
    _alice, _project, task = world
    rng = random.Random(5)
    Action.objects.bulk_create(
        [
            Action(
                actor_content_type=ContentType.objects.get_for_model(Project),
                actor_object_id=str(task.project_id),
                verb=rng.choice(["updated", "commented"]),
                action_object_content_type=ContentType.objects.get_for_model(Task),
                action_object_object_id=str(task.pk),
                timestamp=T0 + dt.timedelta(seconds=rng.randrange(3 * 3600)),
                public=rng.random() < 0.7,
            )
            for _ in range(200)
        ]
    )
    assert counted_kinds() == kinds_of_actions()
    assert sum(counted_kinds().values()) == Action.objects.count()


def test_an_action_without_object_or_target_counts_as_type_0(world):
    alice, _project, _task = world
    Action.objects.create(
        actor_content_type=ContentType.objects.get_for_model(alice),
        actor_object_id=str(alice.pk),
        verb="signed in",
        timestamp=T0,
    )
    row = ActionCount.objects.get(verb="signed in")
    assert (row.object_type, row.target_type, row.actions, row.minute00) == (0, 0, 1, 1)
    assert str(row) == "2026-11-01 09:00 signed in ×1"


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": T0 + dt.timedelta(days=40, minutes=3)},
        {"verb": "reviewed"},
        {"public": False},
        {"action_object_content_type": None, "action_object_object_id": None},
        {"target_content_type_id": 1, "target_object_id": "1"},
        {"data": {"comment": "moved nothing the counts hold"}},
    ],
    ids=["timestamp", "verb", "public", "object", "target", "data"],
)
def test_updating_an_action_moves_its_count(world, change):
    _alice, _project, task = world
    action = written_action(task, T0 + dt.timedelta(hours=2))
    written_action(task, T0 + dt.timedelta(hours=2, minutes=1))  # same kind and slot stays
    Action.objects.filter(pk=action.pk).update(**change)
    assert counted_kinds() == kinds_of_actions()


def test_updating_many_actions_at_once(world):
    _alice, _project, task = world
    for minutes in range(0, 120, 7):
        written_action(task, T0 + dt.timedelta(minutes=minutes))
    Action.objects.filter(timestamp__gte=T0 + dt.timedelta(minutes=30)).update(verb="moved")
    assert counted_kinds() == kinds_of_actions()


def test_deleting_actions_takes_them_off_and_drops_empty_rows(world):
    _alice, _project, task = world
    kept = written_action(task, T0 + dt.timedelta(hours=5))
    gone = written_action(task, T0 + dt.timedelta(hours=5, minutes=2))
    alone = written_action(task, T0 + dt.timedelta(hours=9), verb="archived")
    Action.objects.filter(pk__in=[gone.pk, alone.pk]).delete()
    assert counted_kinds() == kinds_of_actions()
    assert not ActionCount.objects.filter(verb="archived").exists()  # its row reached 0
    assert ActionCount.objects.get(hour=hour_floor(kept.timestamp), verb="updated").actions == 1


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_counts():
    task_ct = ContentType.objects.get_for_model(Task)
    Action.objects.create(
        actor_content_type=task_ct, actor_object_id="1", verb="updated", timestamp=T0
    )
    assert ActionCount.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not Action.objects.exists()
    assert not ActionCount.objects.exists()


@only_on("postgresql")
@pytest.mark.django_db(transaction=True)
def test_truncating_the_actions_alone_empties_the_counts():
    task_ct = ContentType.objects.get_for_model(Task)
    Action.objects.create(
        actor_content_type=task_ct, actor_object_id="1", verb="updated", timestamp=T0
    )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE actstream_action")
    assert not ActionCount.objects.exists()


@only_on("postgresql")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_kind_do_not_wait_for_each_other():
    task_ct = ContentType.objects.get_for_model(Task)

    def insert(cursor) -> None:
        cursor.execute(
            "INSERT INTO actstream_action (actor_content_type_id, actor_object_id, verb, "
            "public, timestamp, data) VALUES (%s, '1', 'updated', true, %s, '{}')",
            [task_ct.pk, T0],
        )

    insert(connection.cursor())  # a row of this kind and quarter hour exists
    other = connections.create_connection("default")
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            insert(cursor)  # holds the row until it commits
            with other.cursor() as cursor2:
                cursor2.execute("SET lock_timeout = '1s'")  # a wait would fail, not hang
                insert(cursor2)  # autocommit: writes its own row, does not wait
            cursor.execute("COMMIT")
    finally:
        other.close()
    rows = list(ActionCount.objects.filter(verb="updated").values_list("minute00", flat=True))
    assert sorted(rows) == [1, 2]
    assert counted_kinds() == kinds_of_actions()
    Action.objects.filter(verb="updated").delete()
    assert counted_kinds() == kinds_of_actions() == Counter()  # the rows left add up to 0


@pytest.mark.django_db(transaction=True)
def test_migrating_in_counts_the_actions_already_there():
    task_ct = ContentType.objects.get_for_model(Task)
    call_command("migrate", "activityui", "0005", verbosity=0)
    try:
        with connection.cursor() as cursor:
            assert "activityui_actioncount" not in connection.introspection.table_names(cursor)
        Action.objects.bulk_create(
            [
                Action(
                    actor_content_type=task_ct,
                    actor_object_id="7",
                    verb=verb,
                    action_object_content_type=task_ct if verb == "updated" else None,
                    action_object_object_id="7" if verb == "updated" else None,
                    timestamp=T0 + dt.timedelta(minutes=minutes),
                    public=minutes < 20,
                )
                for verb in ("updated", "commented")
                for minutes in (0, 10, 20, 50)
            ]
        )
    finally:
        call_command("migrate", "activityui", verbosity=0)
    assert counted_kinds() == kinds_of_actions()
    # 09:07:30 and 09:17:30 public, 09:27:30 and 09:57:30 not: two rows of hour 09:00
    assert ActionCount.objects.filter(verb="updated").count() == 2

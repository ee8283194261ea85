"""The field-change index (``activityui.models.FieldChange``): kept by database triggers however
actions are written, filled for the actions already there when it is migrated in, and giving
history reads the same nearest changes as a plain walk over every action of the object."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from activityui import history
from activityui.capture import acting_as
from activityui.models import FieldChange
from demo_site.demo.models import Project, Task
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice", first_name="Alice")
    with acting_as(alice, at=T0):
        team = TeamFactory(name="Apollo")
        team.members.add(alice)
        project = ProjectFactory(team=team, name="Apollo Web")
        task = TaskFactory(project=project, title="Fix login", status="todo", assignee=None)
    return alice, project, task


def rows_of(action: Action) -> set[tuple[str, str, str, dt.datetime]]:
    return {
        (str(r.content_type_id), r.object_id, r.field, r.timestamp)
        for r in FieldChange.objects.filter(action_id=action.pk)
    }


def change_action(task: Task, when: dt.datetime, **changes) -> Action:
    """An action written behind capture's back (no signal, no Python index code)."""
    (action,) = Action.objects.bulk_create(
        [
            Action(
                actor_content_type=ContentType.objects.get_for_model(Project),
                actor_object_id=str(task.project_id),
                verb="updated",
                action_object_content_type=ContentType.objects.get_for_model(Task),
                action_object_object_id=str(task.pk),
                timestamp=when,
                data={"changes": changes},
            )
        ]
    )
    if action.pk is None:  # a backend that does not return keys from bulk_create
        action = Action.objects.order_by("-pk").first()
    return action


def test_a_tracked_save_indexes_each_changed_field(world):
    alice, _project, task = world
    with acting_as(alice, at=T0 + dt.timedelta(hours=1)):
        task.title = "Fix the login"
        task.status = "review"
        task.save()
    action = Action.objects.order_by("-timestamp", "-pk").first()
    task_ct = str(ContentType.objects.get_for_model(Task).pk)
    assert rows_of(action) == {
        (task_ct, str(task.pk), "title", action.timestamp),
        (task_ct, str(task.pk), "status", action.timestamp),
    }


def test_bulk_created_actions_are_indexed_and_others_are_not(world):
    _alice, _project, task = world
    changed = change_action(task, T0 + dt.timedelta(hours=2), priority=[1, 2])
    assert {r[2] for r in rows_of(changed)} == {"priority"}
    listed = change_action(task, T0 + dt.timedelta(hours=3))
    Action.objects.filter(pk=listed.pk).update(data={"changes": ["not", "an", "object"]})
    assert rows_of(listed) == set()
    Action.objects.filter(pk=listed.pk).update(data=None)
    assert rows_of(listed) == set()
    created = Action.objects.filter(verb="created").first()
    assert rows_of(created) == set()  # a created action records no field changes


def test_moving_or_rewriting_an_action_moves_its_rows(world):
    _alice, _project, task = world
    action = change_action(task, T0 + dt.timedelta(hours=2), priority=[1, 2])
    later = T0 + dt.timedelta(days=3)
    Action.objects.filter(pk=action.pk).update(timestamp=later)
    assert {r[3] for r in rows_of(action)} == {later}
    Action.objects.filter(pk=action.pk).update(data={"changes": {"title": ["a", "b"]}})
    assert {(r[2], r[3]) for r in rows_of(action)} == {("title", later)}
    Action.objects.filter(pk=action.pk).update(public=False)  # nothing the index holds
    assert {(r[2], r[3]) for r in rows_of(action)} == {("title", later)}


def test_deleted_actions_leave_the_index(world):
    _alice, _project, task = world
    kept = change_action(task, T0 + dt.timedelta(hours=2), priority=[1, 2])
    gone = change_action(task, T0 + dt.timedelta(hours=3), priority=[2, 3])
    Action.objects.filter(pk=gone.pk).delete()
    assert rows_of(gone) == set()
    assert rows_of(kept)


@pytest.mark.django_db(transaction=True)
def test_migrating_in_indexes_the_actions_already_there():
    task_ct = ContentType.objects.get_for_model(Task)
    call_command("migrate", "activityui", "0004", verbosity=0)
    try:
        with connection.cursor() as cursor:
            table_names = connection.introspection.table_names(cursor)
        assert "activityui_fieldchange" not in table_names
        Action.objects.bulk_create(
            [
                Action(
                    actor_content_type=task_ct,
                    actor_object_id="7",
                    verb="updated",
                    action_object_content_type=task_ct,
                    action_object_object_id="7",
                    timestamp=T0,
                    data={"changes": {"status": ["todo", "done"], "title": ["a", "b"]}},
                ),
                Action(
                    actor_content_type=task_ct,
                    actor_object_id="7",
                    verb="commented",
                    action_object_content_type=task_ct,
                    action_object_object_id="7",
                    timestamp=T0,
                    data={"comment": "no changes here"},
                ),
            ]
        )
    finally:
        call_command("migrate", "activityui", verbosity=0)
    indexed = set(FieldChange.objects.values_list("object_id", "field", "timestamp"))
    assert indexed == {("7", "status", T0), ("7", "title", T0)}


# --------------------------------------------------------------------------- same answers


def plain_nearest(actions: list[Action], at: tuple[dt.datetime, int], names: list[str]):
    """Each field's nearest change on either side of ``at``, by reading every action."""
    ordered = sorted(actions, key=lambda a: (a.timestamp, a.pk))
    before, after = {}, {}
    for name in names:
        changed = [a for a in ordered if name in (a.data or {}).get("changes", {})]
        olders = [a.pk for a in changed if (a.timestamp, a.pk) <= at]
        newers = [a.pk for a in changed if (a.timestamp, a.pk) > at]
        before[name] = olders[-1] if olders else None
        after[name] = newers[0] if newers else None
    return before, after


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_changes_agree_with_a_walk_over_every_action(world, seed):
    _alice, _project, task = world
    rng = random.Random(seed)
    fields = ["status", "title", "priority"]
    made = []
    for _ in range(40):
        # few distinct timestamps: many actions share one, and the id breaks the tie
        when = T0 + dt.timedelta(minutes=rng.randrange(12))
        changed = rng.sample(fields, rng.randint(0, 2))
        made.append(change_action(task, when, **{name: ["x", "y"] for name in changed}))
    task_ct = ContentType.objects.get_for_model(Task)
    for action in made:
        at = (action.timestamp, action.pk)
        before, after = history.nearest_changes(task_ct, str(task.pk), at, fields)
        want_before, want_after = plain_nearest(made, at, fields)
        assert {k: v.id if v else None for k, v in before.items()} == want_before
        assert {k: v.id if v else None for k, v in after.items()} == want_after
        later = history.recorded_after(task_ct, str(task.pk), at, ["priority"])
        assert [r.id for r in later] == [
            a.pk
            for a in sorted(made, key=lambda a: (a.timestamp, a.pk))
            if (a.timestamp, a.pk) > at and "priority" in a.data["changes"]
        ]


def test_an_index_row_names_its_object_field_and_action(world):
    _alice, _project, task = world
    action = change_action(task, T0 + dt.timedelta(hours=2), priority=[1, 2])
    row = FieldChange.objects.get(action_id=action.pk)
    task_ct = ContentType.objects.get_for_model(Task).pk
    assert str(row) == f"{task_ct}:{task.pk}.priority @ {action.pk}"

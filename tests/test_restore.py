"""Restoring a recorded value: who may, and the records that cannot be restored from."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType

from activityui.capture import acting_as
from activityui.restore import RestoreRefused, may_restore, plan_restore, restorable_fields
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory


@pytest.fixture
def task(db):
    alice = UserFactory(username="alice")
    with acting_as(alice):
        team = TeamFactory(name="Apollo")
        team.members.add(alice)
        project = ProjectFactory(team=team, name="Apollo Web")
        return TaskFactory(project=project, title="Fix login", status="todo", assignee=None)


def recorded(task, changes) -> Action:
    """An action of ``task`` whose stored changes are ``changes`` as they are."""
    task_ct = ContentType.objects.get_for_model(task)
    return Action.objects.create(
        actor_content_type=task_ct,
        actor_object_id=str(task.pk),
        verb="updated",
        action_object_content_type=task_ct,
        action_object_object_id=str(task.pk),
        data={"changes": changes},
    )


def test_nobody_signed_out_may_restore(task):
    assert may_restore(AnonymousUser(), task) is False
    assert may_restore(None, task) is False
    assert restorable_fields(AnonymousUser(), task) == frozenset()


def test_an_untracked_model_cannot_be_restored(task):
    from django.contrib.auth.models import Group

    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    task.project.team.members.add(superuser)  # the rules apply to superusers too: a member
    assert may_restore(superuser, Group.objects.create(name="Ops")) is False
    assert may_restore(superuser, task) is True


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("title", {"title": "not an old and a new value"}),
        ("title", {"title": ["only one"]}),
        ("title", {}),
        ("no_such_field", {"no_such_field": ["a", "b"]}),
    ],
)
def test_a_change_that_did_not_record_the_field_cannot_be_restored(task, field, changes):
    with pytest.raises(RestoreRefused, match="did not record that field"):
        plan_restore(obj=task, action=recorded(task, changes), field=field)


def test_a_recorded_pair_plans_the_old_value(task):
    plan = plan_restore(
        obj=task, action=recorded(task, {"title": ["Old", "Fix login"]}), field="title"
    )
    assert plan.restored == "Old"
    assert plan.recorded_new == "Fix login"
    assert plan.current == "Fix login"

"""Reconstruction of an object's tracked fields as of an entry (activityui.history)."""

from __future__ import annotations

import datetime as dt

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

import activityui
from activityui import capture, history
from activityui.capture import acting_as
from activityui.cursors import Cursor
from activityui.reconstruction import (
    EXACT,
    PARTIAL,
    REASON_CUT,
    REASON_GAP,
    REASON_M2M_GAP,
    REASON_NO_RECORD,
    REASON_NOT_TRACKED,
    UNKNOWN,
    FieldSpec,
    Recorded,
    reconstruct,
)
from demo_site.demo.models import Task, Team
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
STATUS = FieldSpec("status", "status", "choice")
TITLE = FieldSpec("title", "title", "text")
MEMBERS = FieldSpec("members", "members", "m2m")


def at(hours: float, pk: int) -> tuple[dt.datetime, int]:
    return (T0 + dt.timedelta(hours=hours), pk)


def rec(hours: float, pk: int, **changes) -> Recorded:
    return Recorded(pk, T0 + dt.timedelta(hours=hours), changes)


def choice(value: str) -> dict[str, str]:
    return {"value": value, "label": value.title()}


# --------------------------------------------------------------------------- pure


def test_value_after_an_entry_is_the_old_value_of_the_next_change():
    newer = [rec(2, 2, status=[choice("review"), choice("done")])]
    last = {"status": rec(1, 1, status=[choice("todo"), choice("review")])}
    (state,) = reconstruct(
        [STATUS], at=at(1, 1), current={"status": choice("done")}, newer=newer, last_before=last
    )
    assert state.certainty == EXACT and state.value == choice("review")


def test_with_no_change_since_the_value_is_the_current_one_whole():
    long_text = "x" * 5000
    last = {"title": rec(1, 1, title=["a", capture.truncate(long_text)])}
    (state,) = reconstruct(
        [TITLE], at=at(1, 1), current={"title": long_text}, newer=[], last_before=last
    )
    assert state.certainty == EXACT and state.value == long_text


def test_a_text_cut_when_recorded_is_known_only_in_part():
    cut_old = capture.truncate("old " * 1000)
    newer = [rec(2, 2, title=[cut_old, "short"])]
    (state,) = reconstruct(
        [TITLE], at=at(1, 1), current={"title": "short"}, newer=newer, last_before={}
    )
    assert state.certainty == PARTIAL and state.reason == REASON_CUT
    assert state.value.startswith("old old")


def test_a_change_made_without_a_record_makes_the_value_unknown():
    # recorded: todo -> review at 1h; then review -> done at 3h, but someone (paused())
    # had moved it to in_progress in between: 2h is either review or in_progress
    last = {"status": rec(1, 1, status=[choice("todo"), choice("review")])}
    newer = [rec(3, 3, status=[choice("in_progress"), choice("done")])]
    (state,) = reconstruct(
        [STATUS], at=at(2, 2), current={"status": choice("done")}, newer=newer, last_before=last
    )
    assert state.certainty == UNKNOWN and state.reason == REASON_GAP
    assert state.candidates == (choice("review"), choice("in_progress"))


def test_an_unrecorded_change_after_the_last_record_is_noticed_against_now():
    last = {"status": rec(1, 1, status=[choice("todo"), choice("review")])}
    (state,) = reconstruct(
        [STATUS], at=at(1, 1), current={"status": choice("done")}, newer=[], last_before=last
    )
    assert state.certainty == UNKNOWN and state.reason == REASON_GAP


def test_a_renamed_related_object_is_not_a_gap():
    fk = FieldSpec("assignee", "assignee", "fk")
    last = {"assignee": rec(1, 1, assignee=[None, {"pk": 3, "label": "Bob"}])}
    (state,) = reconstruct(
        [fk],
        at=at(1, 1),
        current={"assignee": {"pk": 3, "label": "Robert"}},
        newer=[],
        last_before=last,
    )
    assert state.certainty == EXACT


def test_before_a_field_was_tracked_it_is_unknown():
    since = T0 + dt.timedelta(days=1)
    (state,) = reconstruct(
        [STATUS],
        at=at(1, 1),
        current={"status": choice("done")},
        newer=[],
        last_before={},
        tracked_since={"status": since},
    )
    assert state.certainty == UNKNOWN and state.reason == REASON_NOT_TRACKED
    assert state.since == since


def test_after_a_field_started_being_tracked_it_is_known():
    since = T0
    (state,) = reconstruct(
        [STATUS],
        at=at(1, 1),
        current={"status": choice("done")},
        newer=[],
        last_before={},
        tracked_since={"status": since},
    )
    assert state.certainty == EXACT and state.value == choice("done")


def test_a_deleted_object_is_known_from_its_records_only():
    last = {"status": rec(1, 1, status=[choice("todo"), choice("review")])}
    states = reconstruct([STATUS, TITLE], at=at(1, 1), current=None, newer=[], last_before=last)
    assert states[0].certainty == EXACT and states[0].value == choice("review")
    assert states[1].certainty == UNKNOWN and states[1].reason == REASON_NO_RECORD


def test_m2m_is_rebuilt_by_undoing_the_later_additions_and_removals():
    newer = [
        rec(2, 2, members={"added": [{"pk": 3, "label": "Carol"}]}),
        rec(3, 3, members={"removed": [{"pk": 2, "label": "Bob"}]}),
    ]
    current = {"members": [{"pk": 1, "label": "Alice"}, {"pk": 3, "label": "Carol"}]}
    (state,) = reconstruct([MEMBERS], at=at(1, 1), current=current, newer=newer, last_before={})
    assert state.certainty == EXACT
    assert [(r.pk, r.label) for r in state.value] == [("1", "Alice"), ("2", "Bob")]


def test_m2m_what_the_entry_itself_added_is_there_right_after_it():
    entry = rec(1, 1, members={"added": [{"pk": 3, "label": "Carol"}]})
    current = {"members": [{"pk": 1, "label": "Alice"}]}  # carol gone without a record
    (state,) = reconstruct(
        [MEMBERS], at=at(1, 1), current=current, newer=[], last_before={}, entry=entry
    )
    assert {r.pk for r in state.value} == {"1", "3"}
    assert state.certainty == UNKNOWN and state.reason == REASON_M2M_GAP


def test_m2m_records_that_do_not_add_up_are_flagged():
    newer = [rec(2, 2, members={"added": [{"pk": 3, "label": "Carol"}]})]
    current = {"members": [{"pk": 1, "label": "Alice"}]}  # carol left without a record
    (state,) = reconstruct([MEMBERS], at=at(1, 1), current=current, newer=newer, last_before={})
    assert state.certainty == UNKNOWN and state.reason == REASON_M2M_GAP


def test_register_history_wants_aware_datetimes():
    with pytest.raises(ValueError):
        history.register_history(Task, tracked_since={"status": dt.datetime(2026, 1, 1)})


# --------------------------------------------------------------------------- from the database


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice", first_name="Alice")
    bob = UserFactory(username="bob", first_name="Bob")
    with acting_as(alice, at=T0):
        team = TeamFactory(name="Apollo")
        team.members.add(alice, bob)
        project = ProjectFactory(team=team, name="Apollo Web")
        task = TaskFactory(project=project, title="Fix login", status="todo", assignee=None)
    return alice, bob, team, task


def action_of(obj, **lookup) -> Action:
    return (
        Action.objects.filter(
            action_object_content_type=ContentType.objects.get_for_model(obj),
            action_object_object_id=str(obj.pk),
            **lookup,
        )
        .order_by("timestamp", "id")
        .last()
    )


def as_of(obj, action, *, model=None):
    model = model or type(obj)
    return history.state_as_of(
        model=model,
        content_type=ContentType.objects.get_for_model(model),
        object_id=str(obj.pk),
        obj=model._default_manager.filter(pk=obj.pk).first(),
        at=Cursor(action.timestamp, action.pk),
    )


def edit(obj, when_hours: float, actor, **values):
    with acting_as(actor, at=T0 + dt.timedelta(hours=when_hours)):
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
    return action_of(obj)


def test_state_as_of_walks_back_from_the_current_values(world):
    alice, bob, _team, task = world
    created = action_of(task, verb="created")
    first = edit(task, 1, bob, status="in_progress", assignee=bob)
    edit(task, 2, alice, status="review", title="Fix the login form")
    then = as_of(task, first)
    assert then.get("status").value == {"value": "in_progress", "label": "In progress"}
    assert then.get("title").value == "Fix login"
    assert then.get("assignee").value["pk"] == bob.pk
    at_creation = as_of(task, created)
    assert at_creation.get("status").value["value"] == "todo"
    assert at_creation.get("assignee").value is None
    assert all(f.certainty == EXACT for f in then.fields)


@override_settings(ACTIVITYUI={"MAX_TEXT_LENGTH": 40})
def test_state_as_of_a_cut_text_says_so(world):
    alice, _bob, _team, task = world
    long_a = "The first description, much longer than forty characters."
    long_b = "The second description, much longer than forty characters."
    first = edit(task, 1, alice, description=long_a)
    edit(task, 2, alice, description=long_b)
    then = as_of(task, first).get("description")
    assert then.certainty == PARTIAL and then.reason == REASON_CUT
    assert long_a.startswith(then.value.removesuffix(capture.TRUNCATION_MARKER))
    now = as_of(task, action_of(task)).get("description")
    assert now.certainty == EXACT and now.value == long_b  # the current value is whole


def test_state_as_of_before_a_field_was_tracked(world):
    alice, _bob, _team, task = world
    first = edit(task, 1, alice, status="in_progress")
    history.register_history(Task, tracked_since={"due_date": T0 + dt.timedelta(hours=5)})
    try:
        then = as_of(task, first)
    finally:
        history._options.pop(Task, None)
    assert then.get("due_date").certainty == UNKNOWN
    assert then.get("due_date").reason == REASON_NOT_TRACKED
    assert then.get("status").certainty == EXACT


def test_state_as_of_with_a_paused_change_in_between(world):
    alice, _bob, _team, task = world
    first = edit(task, 1, alice, status="in_progress")
    with activityui.paused():
        task.status = "review"
        task.save()
    edit(task, 3, alice, status="done")
    state = as_of(task, first).get("status")
    assert state.certainty == UNKNOWN and state.reason == REASON_GAP


def test_state_as_of_a_deleted_assignee_keeps_the_label_and_says_it_is_gone(world):
    alice, _bob, _team, task = world
    dave = UserFactory(username="dave", first_name="Dave", last_name="Doe")
    first = edit(task, 1, alice, assignee=dave)
    edit(task, 2, alice, assignee=alice)
    dave_pk = dave.pk
    dave.delete()
    then = as_of(task, first)
    assert then.get("assignee").value == {"pk": dave_pk, "label": "Dave Doe"}
    missing = history.missing_related(Task, [then])
    assert ("assignee", str(dave_pk)) in missing
    assert ("assignee", str(alice.pk)) not in missing


def test_state_as_of_a_deleted_task(world):
    alice, _bob, _team, task = world
    first = edit(task, 1, alice, status="in_progress")
    edit(task, 2, alice, status="review")
    pk = task.pk
    task.delete()
    task.pk = pk
    then = as_of(task, first)
    assert then.get("status").value["value"] == "in_progress"
    assert then.get("title").certainty == UNKNOWN


@pytest.fixture
def members_tracked(db):
    before = capture.tracking_for(Team)
    activityui.track(Team, fields=["name", "members"])
    yield
    capture._tracked[Team] = before


def test_state_as_of_many_to_many_with_a_deleted_member(world, members_tracked):
    alice, bob, team, _task = world
    carol = UserFactory(username="carol", first_name="Carol")
    with acting_as(alice, at=T0 + dt.timedelta(hours=1)):
        team.members.add(carol)
    added = action_of(team)
    with acting_as(alice, at=T0 + dt.timedelta(hours=2)):
        team.members.remove(bob)
    carol_pk = carol.pk
    carol.delete()  # also leaves the team, through the cascade (no m2m signal)
    then = as_of(team, added).get("members")
    assert {r.pk for r in then.value} == {str(alice.pk), str(bob.pk), str(carol_pk)}
    assert then.certainty == UNKNOWN and then.reason == REASON_M2M_GAP
    missing = history.missing_related(Team, [as_of(team, added)])
    assert ("members", str(carol_pk)) in missing


def test_state_as_of_many_to_many_exact(world, members_tracked):
    alice, bob, team, _task = world
    carol = UserFactory(username="carol", first_name="Carol")
    with acting_as(alice, at=T0 + dt.timedelta(hours=1)):
        team.members.add(carol)
    added = action_of(team)
    with acting_as(alice, at=T0 + dt.timedelta(hours=2)):
        team.members.remove(bob)
    then = as_of(team, added).get("members")
    assert then.certainty == EXACT
    assert {r.pk for r in then.value} == {str(alice.pk), str(bob.pk), str(carol.pk)}


def test_state_as_of_costs_the_same_queries_for_a_long_history(world):
    alice, _bob, _team, task = world
    first = edit(task, 1, alice, status="in_progress")

    def count() -> int:
        task_now = Task.objects.get(pk=task.pk)
        with CaptureQueriesContext(connection) as queries:
            history.state_as_of(
                model=Task,
                content_type=ContentType.objects.get_for_model(Task),
                object_id=str(task.pk),
                obj=task_now,
                at=Cursor(first.timestamp, first.pk),
            )
        return len(queries)

    few = count()
    for hour in range(2, 40):
        edit(task, hour, alice, status=["todo", "review"][hour % 2], priority=1 + hour % 4)
    assert count() == few


def test_restored_actions_carry_their_note(world):
    alice, _bob, _team, task = world
    with (
        acting_as(alice, at=T0 + dt.timedelta(hours=4)),
        capture.annotating("restored", restored={"field": "status"}),
    ):
        task.status = "done"
        task.save()
    action = action_of(task)
    assert action.verb == "restored"
    assert action.data["restored"] == {"field": "status"}
    assert action.data["changes"]["status"][1]["value"] == "done"
    # outside the block, updates are plain updates again
    edit(task, 5, alice, status="review")
    assert action_of(task).verb == "updated"
    assert timezone.is_aware(action.timestamp)


def test_restore_undoes_a_many_to_many_change_item_by_item(world, members_tracked):
    from activityui.restore import RestoreRefused, apply_restore

    alice, bob, team, _task = world
    other = TeamFactory(name="Other")
    other.members.add(alice, bob)  # bob stays visible to alice after leaving Apollo
    with acting_as(alice, at=T0 + dt.timedelta(hours=1)):
        team.members.remove(bob)
    removed = action_of(team)
    with acting_as(alice):
        apply_restore(user=alice, obj=team, action=removed, field="members", expected=None)
    assert set(team.members.all()) == {alice, bob}
    restored = action_of(team, verb="restored")
    assert restored.data["changes"]["members"] == {"added": [{"pk": bob.pk, "label": "Bob"}]}
    assert restored.data["restored"]["action"] == removed.pk
    # a removed member nobody may see any more cannot come back
    carol = UserFactory(username="carol", first_name="Carol")
    with acting_as(alice, at=T0 + dt.timedelta(hours=2)):
        team.members.add(carol)
        team.members.remove(carol)
    gone = action_of(team, verb="updated")
    with pytest.raises(RestoreRefused), acting_as(alice):
        apply_restore(user=alice, obj=team, action=gone, field="members", expected=None)
    assert carol not in team.members.all()

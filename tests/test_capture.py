"""Capture: tracked models, explicit events, the actor, snapshots, transactions and cost."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from actstream.models import Action
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import AsyncClient
from django.urls import reverse
from django.utils.translation import gettext_lazy

import activityui
from activityui import capture
from activityui.capture import (
    TRUNCATION_MARKER,
    acting_as,
    field_changes,
    json_safe,
    record,
    record_bulk,
    url_of,
)
from activityui.presenters import present
from demo_site.demo.models import Project, Task, Team
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory

User = get_user_model()


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    with acting_as(alice):
        team = TeamFactory(name="Apollo")
        team.members.add(alice, bob)
        project = ProjectFactory(team=team, name="Apollo Web")
        task = TaskFactory(project=project, title="Fix login")
    return SimpleNamespace(alice=alice, bob=bob, team=team, project=project, task=task)


@pytest.fixture
def members_tracked(db):
    """Team.members tracked for the test (the demo records membership explicitly)."""
    before = capture.tracking_for(Team)
    activityui.track(Team, fields=["name", "members"])
    yield
    capture._tracked[Team] = before


@pytest.fixture
def warm_content_types(db):
    for model in (Task, Project, Team, User):
        ContentType.objects.get_for_model(model)


def history_of(model, pk) -> list[Action]:
    """Actions whose action object is ``model`` ``pk`` (which may be deleted), oldest first."""
    return list(
        Action.objects.filter(
            action_object_content_type=ContentType.objects.get_for_model(model),
            action_object_object_id=str(pk),
        ).order_by("timestamp", "id")
    )


def history(obj) -> list[Action]:
    return history_of(type(obj), obj.pk)


def last_action() -> Action:
    return Action.objects.order_by("-id").first()


def loaded_task(pk: int) -> Task:
    return Task.objects.select_related("project", "assignee").get(pk=pk)


# --------------------------------------------------------------------------- create, update, delete


def test_track_create_records_created_with_snapshots(world):
    with acting_as(world.bob):
        task = Task.objects.create(project=world.project, title="Write docs")
    action = last_action()
    assert action.verb == "created"
    assert action.actor == world.bob
    assert action.action_object == task
    assert action.target == world.project
    assert action.data["snapshot"] == {
        "actor": {"label": "bob", "url": None},
        "action_object": {"label": "Write docs", "url": f"/tasks/{task.pk}/"},
        "target": {"label": "Apollo Web", "url": f"/projects/{world.project.pk}/"},
    }
    assert "changes" not in action.data


def test_track_update_records_only_changed_tracked_fields(world):
    task = loaded_task(world.task.pk)
    task.status = Task.Status.IN_PROGRESS
    task.title = "Fix the login form"
    with acting_as(world.bob):
        task.save()
    action = last_action()
    assert action.verb == "updated"
    assert action.data["changes"] == {
        "status": [
            {"value": "todo", "label": "To do"},
            {"value": "in_progress", "label": "In progress"},
        ],
        "title": ["Fix login", "Fix the login form"],
    }
    assert action.data["snapshot"]["action_object"]["label"] == "Fix the login form"


def test_track_update_one_action_per_save(world):
    task = loaded_task(world.task.pk)
    before = len(history(task))
    task.status = Task.Status.IN_PROGRESS
    task.save()
    task.status = Task.Status.REVIEW
    task.save()
    changes = [a.data["changes"] for a in history(task)[before:]]
    assert [c["status"][1]["value"] for c in changes] == ["in_progress", "review"]
    assert changes[1]["status"][0]["value"] == "in_progress"


def test_track_update_without_tracked_change_records_nothing(world):
    zephyr = TeamFactory(name="Zephyr")
    count = Action.objects.count()
    task = loaded_task(world.task.pk)
    task.save()
    task.title = "Fix login"  # same value
    task.save()
    project = Project.objects.get(pk=world.project.pk)
    project.team = zephyr  # team is not a tracked field of Project, but its target:
    project.save()  # a move (tests/test_moves.py), no update
    assert Action.objects.exclude(verb="moved").count() == count


def test_track_update_fields_records_only_saved_fields(world):
    task = loaded_task(world.task.pk)
    task.status = Task.Status.DONE
    task.title = "Renamed"
    task.save(update_fields=["status"])
    assert set(last_action().data["changes"]) == {"status"}
    # title was not saved: the database still holds the old one, so the next save records it
    task.save()
    assert last_action().data["changes"] == {"title": ["Fix login", "Renamed"]}


def test_track_deferred_fields_are_not_compared(world):
    task = Task.objects.only("id", "status", "project").get(pk=world.task.pk)
    task.status = Task.Status.REVIEW
    task.save()
    assert set(last_action().data["changes"]) == {"status"}


def test_track_deferred_field_set_without_loading_reads_old_value(world, warm_content_types):
    task = Task.objects.select_related("project").only("id", "project__name").get(pk=world.task.pk)
    task.title = "Fix logout"  # title was deferred: its old value is unknown in memory
    with acting_as(world.alice):
        task.save()
    assert last_action().data["changes"] == {"title": ["Fix login", "Fix logout"]}


def test_track_string_assignment_is_compared_as_stored(world):
    task = loaded_task(world.task.pk)
    task.priority = "2"  # same as Priority.NORMAL once stored
    task.due_date = "2026-03-01"
    task.save()
    assert last_action().data["changes"] == {"due_date": [None, "2026-03-01"]}


def test_track_delete_records_deleted_without_dead_url(world):
    task = loaded_task(world.task.pk)
    task.delete()
    action = last_action()
    assert action.verb == "deleted"
    assert action.data["snapshot"]["action_object"] == {"label": "Fix login", "url": None}
    assert action.data["snapshot"]["target"]["label"] == "Apollo Web"


def test_track_verbs_rename_events(world):
    before = capture.tracking_for(Project)
    try:
        activityui.track(Project, fields=["name"], target="team", verbs={"updated": "renamed"})
        project = Project.objects.get(pk=world.project.pk)
        project.name = "Apollo Site"
        project.save()
    finally:
        capture._tracked[Project] = before
    assert last_action().verb == "renamed"


def test_track_rejects_reverse_relations(db):
    with pytest.raises(ValueError, match="cannot be tracked"):
        activityui.track(Project, fields=["tasks"])


def test_track_rejects_unknown_target(db):
    with pytest.raises(ValueError, match="no 'projet' to use as target"):
        activityui.track(Task, fields=["title"], target="projet")
    assert capture.tracking_for(Task).target == "project"


def test_paused_records_nothing(world):
    count = Action.objects.count()
    with activityui.paused():
        task = Task.objects.create(project=world.project, title="Quiet")
        task.status = Task.Status.DONE
        task.save()
        task.delete()
    assert Action.objects.count() == count


def test_paused_save_still_moves_the_baseline(world):
    task = loaded_task(world.task.pk)
    task.status = Task.Status.DONE
    with activityui.paused():
        task.save()
    task.title = "Next"
    task.save()
    assert last_action().data["changes"] == {"title": ["Fix login", "Next"]}


# --------------------------------------------------------------------------- values


def test_track_values_are_json_safe_and_readable(world):
    task = loaded_task(world.task.pk)
    task.priority = Task.Priority.HIGH
    task.due_date = dt.date(2026, 12, 24)
    task.assignee = world.bob
    task.save()
    action = Action.objects.get(pk=last_action().pk)  # read back from the database
    assert action.data["changes"] == {
        "priority": [{"value": 2, "label": "Normal"}, {"value": 3, "label": "High"}],
        "assignee": [None, {"pk": world.bob.pk, "label": "bob"}],
        "due_date": [None, "2026-12-24"],
    }


def test_track_foreign_key_change_keeps_old_label(world):
    task = loaded_task(world.task.pk)
    task.assignee = world.bob
    task.save()
    task.assignee_id = world.alice.pk  # by id: the new label is looked up too
    task.save()
    assert last_action().data["changes"] == {
        "assignee": [
            {"pk": world.bob.pk, "label": "bob"},
            {"pk": world.alice.pk, "label": "alice"},
        ]
    }


def test_json_safe_values():
    when = dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=dt.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert json_safe(decimal.Decimal("12.50")) == "12.50"
    assert json_safe(ident) == "12345678-1234-5678-1234-567812345678"
    assert json_safe(when) == "2026-05-04T03:02:01+00:00"
    assert json_safe(dt.date(2026, 5, 4)) == "2026-05-04"
    assert json_safe(dt.time(9, 30)) == "09:30:00"
    assert json_safe(dt.timedelta(minutes=2)) == 120.0
    assert json_safe(None) is None
    assert json_safe(Task.Status.DONE) == "done"
    assert json_safe(gettext_lazy("Done")) == "Done"
    assert json_safe({3, 1, 2}) == [1, 2, 3]
    assert json_safe({1: (decimal.Decimal("1"), None)}) == {"1": ["1", None]}
    assert json_safe(b"caf\xc3\xa9 \xff") == "café \ufffd"
    assert json_safe(float("nan")) == "nan"
    assert json_safe(float("inf")) == "inf"


def test_json_safe_falls_back_to_text_for_unknown_objects():
    class Thing:
        def __str__(self):
            return "a thing"

    class Broken:
        def __str__(self):
            raise RuntimeError("no label")

    assert json_safe(Thing()) == "a thing"
    assert json_safe(Broken()) == "<Broken>"


def test_record_stores_non_json_values_readably(world):
    record(
        world.alice,
        "exported",
        world.project,
        total=decimal.Decimal("9.99"),
        token=uuid.UUID(int=1),
        rows={2, 1},
        ratio=float("nan"),
        raw=b"\x00\xff",
        when=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        by=world.bob,
    )
    data = Action.objects.get(pk=last_action().pk).data
    assert data["total"] == "9.99"
    assert data["token"] == "00000000-0000-0000-0000-000000000001"
    assert data["rows"] == [1, 2]
    assert data["ratio"] == "nan"
    assert data["raw"] == "\ufffd\ufffd"  # NUL is no text for PostgreSQL's jsonb
    assert data["when"] == "2026-01-02T00:00:00+00:00"
    assert data["by"] == {"pk": world.bob.pk, "label": "bob"}


def test_huge_text_is_truncated_with_marker(world, settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "MAX_TEXT_LENGTH": 50, "MAX_LABEL_LENGTH": 20}
    task = loaded_task(world.task.pk)
    task.description = "word " * 10_000
    task.title = "A very long title that goes on and on"
    task.save()
    action = Action.objects.get(pk=last_action().pk)
    new = action.data["changes"]["description"][1]
    assert len(new) == 50
    assert new.endswith(TRUNCATION_MARKER)
    assert action.data["changes"]["title"][1] == "A very long title that goes on and on"
    label = action.data["snapshot"]["action_object"]["label"]
    assert len(label) == 20
    assert label.endswith(TRUNCATION_MARKER)


def test_field_changes_formats_like_capture(world):
    assert field_changes(Task, status=("todo", "done"), assignee=(None, world.bob.pk)) == {
        "status": [{"value": "todo", "label": "To do"}, {"value": "done", "label": "Done"}],
        "assignee": [None, {"pk": world.bob.pk, "label": "bob"}],
    }
    assert field_changes(world.task, reason=("old", "new")) == {"reason": ["old", "new"]}


# --------------------------------------------------------------------------- many-to-many


def test_m2m_added_and_removed(world, members_tracked):
    carol = UserFactory(username="carol")
    team = Team.objects.get(pk=world.team.pk)
    team.members.add(carol)
    assert last_action().data["changes"] == {
        "members": {"added": [{"pk": carol.pk, "label": "carol"}]}
    }
    team.members.remove(carol, world.bob)
    removed = last_action().data["changes"]["members"]["removed"]
    assert {r["label"] for r in removed} == {"carol", "bob"}
    assert last_action().action_object == team


def test_m2m_adding_existing_member_records_nothing(world, members_tracked):
    count = Action.objects.count()
    Team.objects.get(pk=world.team.pk).members.add(world.alice)
    assert Action.objects.count() == count


def test_m2m_clear_records_who_was_removed(world, members_tracked):
    team = Team.objects.get(pk=world.team.pk)
    team.members.clear()
    removed = last_action().data["changes"]["members"]["removed"]
    assert sorted(r["label"] for r in removed) == ["alice", "bob"]


def test_m2m_reverse_side_records_on_the_tracked_object(world, members_tracked):
    carol = UserFactory(username="carol")
    carol.teams.add(world.team)
    action = last_action()
    assert action.action_object == world.team
    assert action.data["changes"] == {"members": {"added": [{"pk": carol.pk, "label": "carol"}]}}


# --------------------------------------------------------------------------- the actor


def test_actor_is_request_user_in_sync_view(world, client):
    client.force_login(world.bob)
    response = client.post(
        reverse("task_update", args=[world.task.pk]), {"status": Task.Status.REVIEW}
    )
    assert response.status_code == 302
    action = last_action()
    assert action.actor == world.bob
    assert action.data["changes"]["status"][1]["value"] == "review"


def test_demo_comment_is_recorded_with_its_text(world, client):
    client.force_login(world.bob)
    url = reverse("task_comment", args=[world.task.pk])
    assert client.post(url, {"body": "Deployed to staging."}).status_code == 302
    action = last_action()
    assert (action.verb, action.actor, action.action_object, action.target) == (
        "commented",
        world.bob,
        world.task,
        world.project,
    )
    assert action.data["comment"] == "Deployed to staging."


@pytest.mark.urls("tests.capture_urls")
def test_actor_is_request_user_in_async_view(world):
    client = AsyncClient()
    client.force_login(world.bob)
    url = reverse("async_task_status", args=[world.task.pk])
    response = async_to_sync(client.post)(url, {"status": Task.Status.DONE})
    assert response.status_code == 204
    action = last_action()
    assert action.actor == world.bob
    assert action.data["changes"]["status"][1]["value"] == "done"


def test_acting_as_overrides_request_user(world, rf):
    request = rf.post("/")
    request.user = world.bob
    with capture.request_context(request), acting_as(world.alice):
        record(None, "exported", world.project)
    assert last_action().actor == world.alice


def test_anonymous_request_and_no_request_use_system_actor(world, rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    with capture.request_context(request):
        record(None, "exported", world.project)
    first = last_action().actor
    record(AnonymousUser(), "exported", world.project)
    assert first.username == "system"
    assert not first.is_active
    assert last_action().actor == first
    assert User.objects.filter(username="system").count() == 1


def test_system_actor_setting_names_the_user(world, settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "SYSTEM_ACTOR": "robot"}
    task = loaded_task(world.task.pk)
    task.status = Task.Status.DONE
    task.save()
    assert last_action().actor.username == "robot"


def test_acting_as_at_sets_timestamp(world):
    when = dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)
    with acting_as(world.alice, at=when):
        record(None, "exported", world.project)
    assert last_action().timestamp == when


# --------------------------------------------------------------------------- explicit events


def test_record_explicit_event(world):
    action = record(world.alice, "commented", world.task, world.project, comment="Nice catch!")
    stored = Action.objects.get(pk=action.pk)
    assert stored.verb == "commented"
    assert stored.data["comment"] == "Nice catch!"
    assert stored.data["snapshot"]["target"]["label"] == "Apollo Web"


def test_record_unsaved_object_is_a_clear_error(world):
    with pytest.raises(ValueError, match="unsaved Task as action object: save it first"):
        record(world.alice, "commented", Task(project=world.project, title="New"))
    with pytest.raises(ValueError, match="unsaved User as actor"):
        record(User(username="ghost"), "signed in")


def test_record_rejects_non_model_objects_and_reserved_keys(world):
    with pytest.raises(TypeError, match="must be a model instance"):
        record(world.alice, "commented", "a task")
    with pytest.raises(ValueError, match="snapshot"):
        record(world.alice, "commented", world.task, snapshot={})


def test_objects_without_get_absolute_url_have_no_url(world):
    record(world.alice, "joined", world.team)
    assert last_action().data["snapshot"]["action_object"] == {"label": "Apollo", "url": None}


def test_url_of_survives_a_broken_get_absolute_url():
    class Broken:
        def get_absolute_url(self):
            raise LookupError("no route")

    assert url_of(Broken()) is None


# --------------------------------------------------------------------------- history outlives it


def test_deleted_task_history_remains_readable(world):
    pk = world.task.pk
    task = loaded_task(pk)
    task.status = Task.Status.DONE
    task.save()
    task.delete()
    entries = present(history_of(Task, pk))
    assert [e.verb for e in entries] == ["created", "updated", "deleted"]
    assert {e.action_object.label for e in entries} == {"Fix login"}
    assert {e.target.label for e in entries} == {"Apollo Web"}


def test_deleted_project_cascades_but_keeps_task_history(world):
    for number in range(5):
        TaskFactory(project=world.project, title=f"Task {number}")
    project_pk = world.project.pk
    project = Project.objects.get(pk=project_pk)
    task_pks = list(project.tasks.values_list("pk", flat=True))
    project.delete()
    assert not Task.objects.filter(pk__in=task_pks).exists()
    for pk in task_pks:
        verbs = [a.verb for a in history_of(Task, pk)]
        assert verbs == ["created", "deleted"]
    deleted = Action.objects.filter(verb="deleted", action_object_object_id__in=map(str, task_pks))
    entries = present(deleted.filter(action_object_content_type__model="task"))
    assert {e.target.label for e in entries} == {"Apollo Web"}
    project_entries = present(history_of(Project, project_pk))
    assert [e.verb for e in project_entries] == ["created", "deleted"]
    assert project_entries[-1].action_object.label == "Apollo Web"
    assert project_entries[-1].target.label == "Apollo"


def test_cascade_delete_does_not_query_per_object(world):
    from django.test.utils import CaptureQueriesContext

    def delete_cost(tasks: int) -> int:
        team = TeamFactory()
        for _ in range(tasks):
            TaskFactory(project=ProjectFactory(team=team))
        team = Team.objects.get(pk=team.pk)
        with acting_as(world.alice), CaptureQueriesContext(connection) as queries:
            team.delete()  # cascades to projects, then to their tasks
        return len([q for q in queries.captured_queries if q["sql"].startswith("SELECT")])

    assert delete_cost(2) == delete_cost(6)


def test_cascade_delete_snapshots_targets_deleted_with_them(world):
    task_pk = world.task.pk
    Team.objects.get(pk=world.team.pk).delete()
    deleted = history_of(Task, task_pk)[-1]
    assert deleted.verb == "deleted"
    assert deleted.data["snapshot"]["target"] == {"label": "Apollo Web", "url": None}


def test_deleted_user_history_remains_readable(world):
    with acting_as(world.alice):
        task = loaded_task(world.task.pk)
        task.assignee = world.alice
        task.save()
    alice_pk = world.alice.pk
    user_ct = ContentType.objects.get_for_model(User)
    count = Action.objects.filter(actor_content_type=user_ct, actor_object_id=str(alice_pk)).count()
    User.objects.get(pk=alice_pk).delete()
    actions = Action.objects.filter(actor_content_type=user_ct, actor_object_id=str(alice_pk))
    assert actions.count() == count > 0
    assert {e.actor.label for e in present(actions)} == {"alice"}
    assigned = actions.order_by("-id")[0]
    assert assigned.data["changes"]["assignee"][1] == {"pk": alice_pk, "label": "alice"}


def test_actstream_registry_is_not_used():
    from actstream.registry import registry

    for model in (Task, Project, Team, User):
        assert model not in registry
        assert not [f for f in model._meta.get_fields() if isinstance(f, GenericRelation)]


# --------------------------------------------------------------------------- transactions


def test_rolled_back_save_leaves_no_action(world):
    count = Action.objects.count()
    task = loaded_task(world.task.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        task.status = Task.Status.DONE
        task.save()
        assert Action.objects.count() == count + 1
        raise RuntimeError("the request failed")
    assert Action.objects.count() == count
    assert Task.objects.get(pk=task.pk).status == Task.Status.TODO


def _thread(target) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _wait_for_lock_waiter() -> None:
    """PostgreSQL: until another session waits on a row lock (bounded, never a sleep-assert)."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_each_record_their_own_change():
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    task = TaskFactory(title="Race")
    first_saved, first_commit = threading.Event(), threading.Event()

    def change(user, status: str, *, hold: bool) -> None:
        with transaction.atomic():
            locked = Task.objects.select_for_update().select_related("project").get(pk=task.pk)
            locked.status = status
            with acting_as(user):
                locked.save()
            if hold:
                first_saved.set()
                assert first_commit.wait(10)

    first, first_errors = _thread(lambda: change(alice, Task.Status.IN_PROGRESS, hold=True))
    assert first_saved.wait(10)
    if connection.vendor == "postgresql":
        # the second transaction starts while the first holds the row, and waits for it
        second, second_errors = _thread(lambda: change(bob, Task.Status.REVIEW, hold=False))
        _wait_for_lock_waiter()
        first_commit.set()
    else:
        # SQLite allows one writing transaction at a time: the second starts after the first
        first_commit.set()
        first.join()
        second, second_errors = _thread(lambda: change(bob, Task.Status.REVIEW, hold=False))
    first.join()
    second.join()
    assert first_errors == second_errors == []
    updates = [a for a in history_of(Task, task.pk) if a.verb == "updated"]
    assert [(a.actor, [v["value"] for v in a.data["changes"]["status"]]) for a in updates] == [
        (alice, ["todo", "in_progress"]),
        (bob, ["in_progress", "review"]),
    ]
    assert Task.objects.get(pk=task.pk).status == Task.Status.REVIEW


def test_stale_instance_records_the_change_it_made(world):
    """Without a lock, each save records old → new as its own instance saw them."""
    first, second = loaded_task(world.task.pk), loaded_task(world.task.pk)
    with transaction.atomic():
        first.status = Task.Status.IN_PROGRESS
        first.save()
    with transaction.atomic():
        second.status = Task.Status.REVIEW
        second.save()
    olds_news = [a.data["changes"]["status"] for a in history(first) if a.verb == "updated"]
    assert [(o["value"], n["value"]) for o, n in olds_news] == [
        ("todo", "in_progress"),
        ("todo", "review"),
    ]


# --------------------------------------------------------------------------- bulk


def test_queryset_update_and_bulk_create_are_not_captured(world):
    count = Action.objects.count()
    Task.objects.filter(pk=world.task.pk).update(status=Task.Status.DONE)
    Task.objects.bulk_create([Task(project=world.project, title="Bulk")])
    assert Action.objects.count() == count


def test_record_bulk_one_insert_per_call(world, warm_content_types, django_assert_num_queries):
    for number in range(3):
        TaskFactory(project=world.project, title=f"Bulk {number}")
    tasks = list(Task.objects.select_related("project").order_by("pk"))
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(status=Task.Status.DONE)
    with django_assert_num_queries(2):  # the actions, then their words for the text index
        actions = record_bulk(
            world.alice, "updated", tasks, changes={"status": ("todo", "done")}, reason="sprint"
        )
    assert len(actions) == 4
    stored = Action.objects.filter(pk__in=[a.pk for a in actions])
    assert stored.count() == 4
    for action in stored:
        assert action.target == world.project
        assert action.data["reason"] == "sprint"
        assert action.data["changes"]["status"][1] == {"value": "done", "label": "Done"}
        assert action.data["snapshot"]["target"]["label"] == "Apollo Web"


def test_record_bulk_after_bulk_create(world):
    tasks = Task.objects.bulk_create(
        [Task(project=world.project, title=f"Imported {n}") for n in range(3)]
    )
    actions = record_bulk(world.alice, "created", tasks)
    stored = Action.objects.filter(pk__in=[a.pk for a in actions]).order_by("id")
    assert [a.action_object for a in stored] == tasks
    assert {a.data["snapshot"]["target"]["label"] for a in stored} == {"Apollo Web"}
    assert [a.data["snapshot"]["action_object"]["label"] for a in stored] == [
        "Imported 0",
        "Imported 1",
        "Imported 2",
    ]


def test_record_bulk_without_target_and_empty(world):
    assert record_bulk(world.alice, "created", []) == []
    record_bulk(world.alice, "created", [world.task], target=None)
    assert last_action().target_object_id is None


# --------------------------------------------------------------------------- cost


def test_update_of_loaded_instance_costs_one_insert(
    world, warm_content_types, django_assert_num_queries
):
    task = Task.objects.select_related("project").get(pk=world.task.pk)
    task.status = Task.Status.DONE
    task.priority = Task.Priority.URGENT
    with acting_as(world.alice), django_assert_num_queries(3) as queries:
        task.save()
    # the action, then its words for the text index (activityui.search)
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE", "INSERT", "INSERT"]


def test_update_without_target_loaded_costs_one_select_for_its_label(
    world, warm_content_types, django_assert_num_queries
):
    task = Task.objects.get(pk=world.task.pk)
    task.status = Task.Status.DONE
    with acting_as(world.alice), django_assert_num_queries(4) as queries:
        task.save()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [
        "UPDATE",
        "SELECT",  # the project, for the target's label
        "INSERT",
        "INSERT",  # the text index
    ]


def test_update_changing_foreign_key_costs_one_select_for_old_label(
    world, warm_content_types, django_assert_num_queries
):
    task = loaded_task(world.task.pk)
    task.assignee = world.alice
    with acting_as(world.alice), django_assert_num_queries(3):
        task.save()  # old value None, new object in memory: nothing to look up
    task.assignee = world.bob
    with acting_as(world.alice), django_assert_num_queries(4) as queries:
        task.save()  # the old assignee is no longer in memory
    operations = [q["sql"].split()[0] for q in queries.captured_queries]
    assert operations == ["SELECT", "UPDATE", "INSERT", "INSERT"]  # the last: the text index


def test_update_of_instance_built_without_loading_costs_one_select(
    world, warm_content_types, django_assert_num_queries
):
    original = Task.objects.get(pk=world.task.pk)
    built = Task(
        pk=original.pk,
        project=world.project,  # in memory: no query for the target's label
        title="Fix login",
        status=Task.Status.DONE,
        priority=original.priority,
        created=original.created,
    )
    with acting_as(world.alice), django_assert_num_queries(4) as queries:
        built.save()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [
        "SELECT",  # the tracked columns' old values
        "UPDATE",
        "INSERT",
        "INSERT",  # the text index
    ]
    assert last_action().data["changes"] == {
        "status": [{"value": "todo", "label": "To do"}, {"value": "done", "label": "Done"}]
    }


def test_creation_with_explicit_pk_of_a_new_row_records_created(world):
    Task(pk=987654, project=world.project, title="Imported").save()
    assert last_action().verb == "created"

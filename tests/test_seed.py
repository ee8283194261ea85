from __future__ import annotations

import json
from io import StringIO

import pytest
from actstream.models import Action
from django.core.management import call_command
from django.db import connection

from demo_site.demo.models import Project, Task, Team
from tests.common_fixtures import only_on


def test_seed_creates_demo_world(demo):
    assert set(demo) >= {"alice", "bob", "carol", "staff"}
    assert (
        Team.objects.get(name="Apollo").members.filter(username__in=["alice", "bob"]).count() == 2
    )
    assert list(Team.objects.get(name="Zephyr").members.values_list("username", flat=True)) == [
        "carol"
    ]
    assert Project.objects.count() == 5
    assert Task.objects.count() == 32
    assert demo["staff"].has_perm("activityui.view_all_activity")
    assert not demo["alice"].has_perm("activityui.view_all_activity")
    assert demo["alice"].check_password("demo")


def test_seed_history_spans_a_year(demo):
    first = Action.objects.order_by("timestamp").first()
    last = Action.objects.order_by("-timestamp").first()
    assert (last.timestamp - first.timestamp).days >= 300
    assert Action.objects.filter(verb="updated", data__changes__has_key="status").exists()
    assert Action.objects.filter(verb="commented").exists()


def test_seed_is_deterministic(db):
    from demo_site.demo import seed

    seed.seed(tasks=10, seed_value=3)
    first = list(Task.objects.order_by("pk").values_list("title", "status", "priority"))
    Action.objects.all().delete()
    Team.objects.all().delete()
    seed.seed(tasks=10, seed_value=3)
    second = list(Task.objects.order_by("pk").values_list("title", "status", "priority"))
    assert first == second


def test_seed_command_rerun_is_safe(db):
    call_command("seed_demo", "--tasks", "5")
    count = Action.objects.count()
    call_command("seed_demo", "--tasks", "5")
    assert Action.objects.count() == count
    assert Team.objects.count() == 2


def test_seed_bulk_actions_reach_total(demo):
    call_command("seed_demo", "--actions", str(Action.objects.count() + 250))
    before = Action.objects.count()
    call_command("seed_demo", "--actions", str(before))
    assert Action.objects.count() == before


def test_seed_bulk_actions_are_in_the_chart_counts(demo):
    # COPY on PostgreSQL, bulk_create on SQLite: the database triggers count them
    from tests.test_action_counts import counted_kinds, kinds_of_actions

    call_command("seed_demo", "--actions", str(Action.objects.count() + 300))
    assert counted_kinds() == kinds_of_actions()
    assert sum(counted_kinds().values()) == Action.objects.count()


def test_bulk_history_labels_people_as_capture_does(demo):
    from activityui.capture import label_of

    call_command("seed_demo", actions=Action.objects.count() + 50, stdout=StringIO())
    names = {label_of(user) for user in demo.values()}
    labels = {a.data["snapshot"]["actor"]["label"] for a in Action.objects.order_by("-id")[:50]}
    assert labels and labels <= names


def test_seed_comments_are_dated_like_their_actions(demo):
    from demo_site.demo.models import Comment

    said = {
        (a.data["comment"], a.action_object_object_id, a.timestamp)
        for a in Action.objects.filter(verb="commented")
    }
    comments = list(Comment.objects.all())
    assert comments
    assert {(c.body, str(c.task_id), c.created) for c in comments} <= said


def _index_and_key_definitions(cursor, tables):
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1",
        [tables],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1",
        [tables],
    )
    return indexes, cursor.fetchall()


@only_on("postgresql")  # the COPY loader is PostgreSQL's
def test_large_load_rebuilds_every_index_and_key(demo, monkeypatch):
    from activityui import search
    from activityui.models import FieldChange
    from demo_site.demo import seed

    monkeypatch.setattr(seed, "COPY_BATCH", 40)  # several batches, several COPYs
    tables = ["actstream_action", search.TABLE, FieldChange._meta.db_table]
    with connection.cursor() as cursor:
        before = _index_and_key_definitions(cursor, tables)
    assert len(before[0]) > 20 and before[1]
    first = Action.objects.order_by("-pk").values_list("pk", flat=True).first()
    seen = []
    made = seed.bulk_actions(
        Action.objects.count() + 130, rebuild_over=0, progress=lambda d, m: seen.append((d, m))
    )
    assert made == 130 and seen == [(40, 130), (80, 130), (120, 130), (130, 130)]
    with connection.cursor() as cursor:
        assert _index_and_key_definitions(cursor, tables) == before
        cursor.execute(
            "SELECT a.id, a.verb, a.data::text, "
            "a.actor_content_type_id, a.actor_object_id, a.action_object_content_type_id, "
            "a.action_object_object_id, a.target_content_type_id, a.target_object_id, "
            f"array_to_string(tsvector_to_array(s.document), ' ')"
            f" FROM actstream_action a LEFT JOIN {search.TABLE} s ON s.action_id = a.id"
            " WHERE a.id > %s ORDER BY a.id",
            [first],
        )
        rows = cursor.fetchall()
    assert len(rows) == 130 and [row[0] for row in rows] == list(range(first + 1, first + 131))
    for _pk, verb, data, *roles, document in rows:
        # the words and branch keys COPY wrote are what capture would index for this action
        keys = search.action_keys(*zip(roles[::2], roles[1::2], strict=True))
        expected = search.postgres_document(search.document_words(verb, json.loads(data)), keys)
        assert sorted(document.split(" ")) == sorted(expected)
    updates = Action.objects.filter(pk__gt=first, verb="updated")
    assert updates.exists()
    # the field-change index filled itself (trigger) for every status change loaded
    assert FieldChange.objects.filter(action__in=updates).count() == updates.count()
    # and the indexes are used again: the nearest-change index answers a probe
    assert Action.objects.filter(pk__gt=first, data__changes__has_key="status").count() == (
        updates.count()
    )


@only_on("postgresql")  # the COPY loader is PostgreSQL's
def test_failed_large_load_still_rebuilds_indexes(demo, monkeypatch):
    from activityui import search
    from activityui.models import FieldChange
    from demo_site.demo import seed

    monkeypatch.setattr(seed, "COPY_BATCH", 25)
    tables = ["actstream_action", search.TABLE, FieldChange._meta.db_table]
    with connection.cursor() as cursor:
        before = _index_and_key_definitions(cursor, tables)
    count = Action.objects.count()

    def interrupted(done, missing):
        raise KeyboardInterrupt  # Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        seed.bulk_actions(count + 100, rebuild_over=0, progress=interrupted)
    with connection.cursor() as cursor:
        assert _index_and_key_definitions(cursor, tables) == before
    assert Action.objects.count() == count + 25  # the batch written stays; a rerun tops up
    assert seed.bulk_actions(count + 100, rebuild_over=0) == 75


def test_bulk_actions_report_progress_and_are_deterministic(demo):
    from demo_site.demo import seed

    count = Action.objects.count()
    seen = []
    assert seed.bulk_actions(count + 30, batch_size=20, progress=lambda d, m: seen.append(d)) == 30
    if connection.vendor != "postgresql":
        assert seen == [20, 30]
    else:
        assert seen == [30]
    out = StringIO()
    call_command("seed_demo", "--actions", str(count + 40), stdout=out)
    assert "10 / 10 actions (100%)" in out.getvalue()

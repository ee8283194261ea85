"""activityui's migration of composite indexes on actstream's tables: there, used, reversible."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tests.common_fixtures import only_on

INDEXES = {
    "aui_action_target_ts": [
        "target_content_type_id",
        "target_object_id",
        "timestamp",
        "id",
    ],
    "aui_action_actor_ts": ["actor_content_type_id", "actor_object_id", "timestamp", "id"],
    "aui_action_object_ts": [
        "action_object_content_type_id",
        "action_object_object_id",
        "timestamp",
        "id",
    ],
    "aui_action_ts": ["timestamp", "id"],
    "aui_action_verb_ts": ["verb", "timestamp", "id"],
}


def action_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "actstream_action")
    return {name: info["columns"] for name, info in constraints.items() if info["index"]}


@pytest.mark.django_db
def test_migration_creates_composite_indexes():
    indexes = action_indexes()
    for name, columns in INDEXES.items():
        assert indexes.get(name) == columns


@pytest.mark.django_db(transaction=True)
def test_migration_reverses_and_reapplies():
    call_command("migrate", "activityui", "0001", verbosity=0)
    try:
        assert not set(INDEXES) & set(action_indexes())
    finally:
        call_command("migrate", "activityui", verbosity=0)
    assert set(INDEXES) <= set(action_indexes())


@pytest.mark.django_db
def test_migration_leaves_model_state_alone():
    # RunSQL only: no AlterModel operation on actstream's models, so makemigrations stays quiet
    call_command("makemigrations", "activityui", "--check", "--dry-run", verbosity=0)


def feed_branch_plan() -> str:
    """The plan of one feed branch's page: a project's newest actions."""
    from django.contrib.contenttypes.models import ContentType

    from activityui.keyset import NEWEST_FIRST
    from activityui.selectors import _actions
    from demo_site.demo.models import Project

    content_type = ContentType.objects.get_for_model(Project)
    queryset = _actions().filter(target_content_type=content_type, target_object_id="1")
    return queryset.order_by(*NEWEST_FIRST)[:26].explain()


@only_on("sqlite3")
@pytest.mark.django_db
def test_feed_branch_uses_the_target_index_sqlite():
    plan = feed_branch_plan()
    assert "aui_action_target_ts (target_content_type_id=? AND target_object_id=?)" in plan, plan
    assert "TEMP B-TREE" not in plan  # the index gives the order: no sort


@only_on("postgresql")
@pytest.mark.django_db
def test_feed_branch_uses_the_target_index_postgresql():
    plan = feed_branch_plan()
    # read backwards along the index, which gives the order: no Sort node
    assert "Index Scan Backward using aui_action_target_ts on actstream_action" in plan, plan
    assert "Index Cond: ((target_content_type_id = " in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.django_db
def test_analyze_command_collects_statistics(demo):
    from io import StringIO

    out = StringIO()
    call_command("activityui_analyze", stdout=out)
    assert "Analyzed actstream_action, actstream_follow" in out.getvalue()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'actstream_action'")
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'actstream_action'")
        assert cursor.fetchone()[0] > 0

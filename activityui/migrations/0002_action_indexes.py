"""Composite indexes on django-activity-stream's action table for activityui's selectors.

actstream ships only single-column indexes, so "newest actions of this object" either scans
the whole table or sorts every action of the object. Each index below serves one kind of
branch of a feed or timeline in (timestamp, id) order: an equality on the object's content
type and id, then a backward range scan that stops after one page.

The indexes belong to another app's table, so they are plain SQL (``CREATE INDEX IF NOT
EXISTS`` / ``DROP INDEX IF EXISTS``, the same text on SQLite and PostgreSQL) and leave
Django's model state alone.
"""

from django.db import migrations

INDEXES = [
    (
        "aui_action_target_ts",
        "actstream_action",
        "target_content_type_id, target_object_id, timestamp, id",
    ),
    (
        "aui_action_actor_ts",
        "actstream_action",
        "actor_content_type_id, actor_object_id, timestamp, id",
    ),
    (
        "aui_action_object_ts",
        "actstream_action",
        "action_object_content_type_id, action_object_object_id, timestamp, id",
    ),
    ("aui_action_ts", "actstream_action", "timestamp, id"),
]


def create(name: str, table: str, columns: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"


def drop(name: str) -> str:
    return f"DROP INDEX IF EXISTS {name}"


class Migration(migrations.Migration):
    dependencies = [
        ("activityui", "0001_initial"),
        ("actstream", "0003_add_follow_flag"),
    ]

    operations = [
        migrations.RunSQL(sql=create(*index), reverse_sql=drop(index[0]))
        for index in INDEXES
    ]

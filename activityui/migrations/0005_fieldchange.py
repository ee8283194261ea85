"""The field-change index (``activityui.models.FieldChange``): one row per field named in an
action's ``data["changes"]``, keyed by (object, field, timestamp, action) so that history reads
find a field's nearest change before or after a point by one index probe.

Database triggers keep it in step with ``actstream_action`` whatever writes the actions
(capture, ``bulk_create``, raw SQL, a data migration): rows are added on INSERT, rewritten when
an action's object, timestamp or data change, and removed on DELETE (and TRUNCATE on
PostgreSQL). The actions that exist when this migration runs are indexed by one INSERT ...
SELECT over their JSON (about a minute for a million actions on these machines' PostgreSQL).
PostgreSQL and SQLite only, like the text index.
"""

from django.db import migrations, models

TABLE = "activityui_fieldchange"
COLUMNS = "action_id, content_type_id, object_id, field, timestamp"

# --- PostgreSQL: statement-level triggers with transition tables (one call per statement,
# however many rows a bulk_create writes)


def _pg_rows(source: str) -> str:
    # the CASE keeps jsonb_object_keys away from a "changes" that is not an object
    return (
        f"SELECT n.id, n.action_object_content_type_id, n.action_object_object_id, k.key, "
        f"n.timestamp FROM {source} CROSS JOIN LATERAL jsonb_object_keys("
        "CASE WHEN jsonb_typeof(n.data -> 'changes') = 'object' "
        "THEN n.data -> 'changes' ELSE '{}'::jsonb END) AS k(key) "
        "WHERE n.action_object_content_type_id IS NOT NULL "
        "AND n.action_object_object_id IS NOT NULL"
    )


POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION aui_fieldchange_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} ({COLUMNS}) {_pg_rows("aui_new n")};
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION aui_fieldchange_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- the DELETE and the INSERT see one snapshot: the rows written are not deleted
        WITH moved AS (
            SELECT n.id FROM aui_new n JOIN aui_old o ON o.id = n.id
            WHERE o.timestamp IS DISTINCT FROM n.timestamp
               OR o.data IS DISTINCT FROM n.data
               OR o.action_object_content_type_id IS DISTINCT FROM n.action_object_content_type_id
               OR o.action_object_object_id IS DISTINCT FROM n.action_object_object_id
        ), gone AS (
            DELETE FROM {TABLE} f USING moved m WHERE f.action_id = m.id
        )
        INSERT INTO {TABLE} ({COLUMNS})
            {_pg_rows("aui_new n JOIN moved m ON m.id = n.id")};
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION aui_fieldchange_forget() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {TABLE} f USING aui_gone g WHERE f.action_id = g.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION aui_fieldchange_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE {TABLE};
        RETURN NULL;
    EXCEPTION WHEN object_in_use THEN
        -- truncated in the same statement as the actions (Django's flush names both)
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS aui_fieldchange_insert ON actstream_action",
    "CREATE TRIGGER aui_fieldchange_insert AFTER INSERT ON actstream_action "
    "REFERENCING NEW TABLE AS aui_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_fieldchange_insert()",
    "DROP TRIGGER IF EXISTS aui_fieldchange_update ON actstream_action",
    "CREATE TRIGGER aui_fieldchange_update AFTER UPDATE ON actstream_action "
    "REFERENCING OLD TABLE AS aui_old NEW TABLE AS aui_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_fieldchange_update()",
    "DROP TRIGGER IF EXISTS aui_fieldchange_forget ON actstream_action",
    "CREATE TRIGGER aui_fieldchange_forget AFTER DELETE ON actstream_action "
    "REFERENCING OLD TABLE AS aui_gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_fieldchange_forget()",
    "DROP TRIGGER IF EXISTS aui_fieldchange_truncate ON actstream_action",
    "CREATE TRIGGER aui_fieldchange_truncate AFTER TRUNCATE ON actstream_action "
    "FOR EACH STATEMENT EXECUTE FUNCTION aui_fieldchange_truncate()",
    f"INSERT INTO {TABLE} ({COLUMNS}) {_pg_rows('actstream_action n')}",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_fieldchange_truncate ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_fieldchange_forget ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_fieldchange_update ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_fieldchange_insert ON actstream_action",
    "DROP FUNCTION IF EXISTS aui_fieldchange_truncate()",
    "DROP FUNCTION IF EXISTS aui_fieldchange_forget()",
    "DROP FUNCTION IF EXISTS aui_fieldchange_update()",
    "DROP FUNCTION IF EXISTS aui_fieldchange_insert()",
]

# --- SQLite: row triggers; json_each over the changes object


def _sqlite_rows(row: str) -> str:
    return (
        f"SELECT {row}.id, {row}.action_object_content_type_id, "
        f"{row}.action_object_object_id, j.key, {row}.timestamp "
        f"FROM json_each({row}.data, '$.changes') AS j"
    )


def _sqlite_when(row: str) -> str:
    return (
        f"{row}.action_object_content_type_id IS NOT NULL "
        f"AND {row}.action_object_object_id IS NOT NULL "
        f"AND json_valid({row}.data) AND json_type({row}.data, '$.changes') = 'object'"
    )


SQLITE = [
    "DROP TRIGGER IF EXISTS aui_fieldchange_insert",
    "CREATE TRIGGER aui_fieldchange_insert AFTER INSERT ON actstream_action "
    f"WHEN {_sqlite_when('NEW')} "
    f"BEGIN INSERT INTO {TABLE} ({COLUMNS}) {_sqlite_rows('NEW')}; END",
    "DROP TRIGGER IF EXISTS aui_fieldchange_update",
    "CREATE TRIGGER aui_fieldchange_update AFTER UPDATE OF "
    "timestamp, data, action_object_content_type_id, action_object_object_id "
    "ON actstream_action BEGIN "
    f"DELETE FROM {TABLE} WHERE action_id = OLD.id; "
    f"INSERT INTO {TABLE} ({COLUMNS}) {_sqlite_rows('NEW')} WHERE {_sqlite_when('NEW')}; "
    "END",
    "DROP TRIGGER IF EXISTS aui_fieldchange_forget",
    "CREATE TRIGGER aui_fieldchange_forget AFTER DELETE ON actstream_action "
    f"BEGIN DELETE FROM {TABLE} WHERE action_id = OLD.id; END",
    f"INSERT INTO {TABLE} ({COLUMNS}) "
    f"SELECT n.id, n.action_object_content_type_id, n.action_object_object_id, j.key, "
    f"n.timestamp FROM actstream_action n, json_each(n.data, '$.changes') AS j "
    f"WHERE {_sqlite_when('n')}",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_fieldchange_forget",
    "DROP TRIGGER IF EXISTS aui_fieldchange_update",
    "DROP TRIGGER IF EXISTS aui_fieldchange_insert",
]


def forwards(apps, schema_editor):
    statements = {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    for statement in statements or []:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}.get(vendor)
    for statement in statements or []:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("activityui", "0004_search"),
        ("actstream", "0003_add_follow_flag"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="FieldChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.CharField(max_length=255)),
                ("field", models.CharField(max_length=255)),
                ("timestamp", models.DateTimeField()),
                (
                    "action",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="actstream.action",
                    ),
                ),
                (
                    "content_type",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            options={
                "verbose_name": "field change",
                "verbose_name_plural": "field changes",
                "indexes": [
                    models.Index(
                        fields=["content_type", "object_id", "field", "timestamp", "action"],
                        name="aui_fieldchange_nearest",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]

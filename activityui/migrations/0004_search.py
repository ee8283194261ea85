"""The text index of actions (see activityui/search.py): a tsvector with a GIN index on
PostgreSQL, an FTS5 table on SQLite. Triggers forget the words of deleted actions (DELETE and,
on PostgreSQL, TRUNCATE). Existing actions are indexed by ``manage.py activityui_reindex``.
"""

from django.db import migrations

POSTGRES = [
    """
    CREATE TABLE IF NOT EXISTS activityui_actionsearch (
        action_id bigint PRIMARY KEY,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS aui_actionsearch_document "
    "ON activityui_actionsearch USING gin (document)",
    """
    CREATE OR REPLACE FUNCTION aui_actionsearch_forget() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM activityui_actionsearch s USING aui_gone g WHERE s.action_id = g.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION aui_actionsearch_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE activityui_actionsearch;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS aui_actionsearch_forget ON actstream_action",
    "CREATE TRIGGER aui_actionsearch_forget AFTER DELETE ON actstream_action "
    "REFERENCING OLD TABLE AS aui_gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_actionsearch_forget()",
    "DROP TRIGGER IF EXISTS aui_actionsearch_truncate ON actstream_action",
    "CREATE TRIGGER aui_actionsearch_truncate AFTER TRUNCATE ON actstream_action "
    "FOR EACH STATEMENT EXECUTE FUNCTION aui_actionsearch_truncate()",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actionsearch_truncate ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_actionsearch_forget ON actstream_action",
    "DROP FUNCTION IF EXISTS aui_actionsearch_truncate()",
    "DROP FUNCTION IF EXISTS aui_actionsearch_forget()",
    "DROP TABLE IF EXISTS activityui_actionsearch",
]
SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS activityui_actionsearch USING fts5("
    "document, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    "CREATE TRIGGER IF NOT EXISTS aui_actionsearch_forget AFTER DELETE ON actstream_action "
    "BEGIN DELETE FROM activityui_actionsearch WHERE rowid = OLD.id; END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actionsearch_forget",
    "DROP TABLE IF EXISTS activityui_actionsearch",
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
        ("activityui", "0003_action_verb_index"),
        ("actstream", "__first__"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

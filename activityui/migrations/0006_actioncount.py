"""The action counts of the staff chart (``activityui.models.ActionCount``): how many actions of
each kind (verb, public, object type, target type) happened in each quarter of each hour (UTC),
so the chart of a year sums at most a year of hours per kind instead of counting every action.

Database triggers keep it in step with ``actstream_action`` whatever writes the actions
(capture, ``bulk_create``, ``COPY``, raw SQL, ``prune``): counts go up on INSERT, move when an
action's timestamp, verb, public flag or types change, go down on DELETE (rows that reach 0 are
removed) and are emptied by TRUNCATE on PostgreSQL. The actions that exist when this migration
runs are counted by one INSERT ... SELECT ... GROUP BY. PostgreSQL and SQLite only, like the
field-change index (elsewhere the chart counts the actions).

PostgreSQL: a writer adds to a row of its kind and hour that no other open transaction holds
(``FOR UPDATE SKIP LOCKED``) or inserts a new one, so concurrent writers never wait for each
other nor deadlock; a kind may have a few rows per hour, and readers sum them.
"""

from django.db import migrations, models

TABLE = "activityui_actioncount"
KEY = "hour, verb, public, object_type, target_type"
QUARTERS = ("minute00", "minute15", "minute30", "minute45")
COUNTS = ", ".join(QUARTERS)

# --- PostgreSQL: statement-level triggers with transition tables (one call per statement,
# however many rows a bulk_create or COPY writes)


def _pg_kinds(source: str, sign: str) -> str:
    return (
        "SELECT date_bin('1 hour', timestamp, timestamptz '2000-01-01 00:00:00+00') AS hour, "
        "verb, public, coalesce(action_object_content_type_id, 0) AS object_type, "
        "coalesce(target_content_type_id, 0) AS target_type, "
        "extract(minute FROM timestamp AT TIME ZONE 'UTC')::int / 15 AS quarter, "
        f"{sign}1 AS n FROM {source}"
    )


def _pg_sums(rows: str) -> str:
    sums = ", ".join(
        f"coalesce(sum(n) FILTER (WHERE quarter = {q}), 0) AS {name}"
        for q, name in enumerate(QUARTERS)
    )
    return f"SELECT {KEY}, {sums} FROM ({rows}) AS rows GROUP BY {KEY}"


def _pg_apply(deltas: str) -> str:
    """Add each kind's hour to a row no other transaction holds (or a new row); drop rows
    that reach 0. ``deltas``: rows of (hour, verb, public, object_type, target_type, quarter,
    n)."""
    bump = ", ".join(f"{name} = c.{name} + p.{name}" for name in QUARTERS)
    empty = " AND ".join(f"{name} = 0" for name in QUARTERS)
    return f"""
        WITH d AS (
            SELECT * FROM ({_pg_sums(deltas)}) AS sums
            WHERE minute00 <> 0 OR minute15 <> 0 OR minute30 <> 0 OR minute45 <> 0
        ), pick AS (
            SELECT d.*, (
                SELECT c.id FROM {TABLE} c
                WHERE c.hour = d.hour AND c.verb = d.verb AND c.public = d.public
                  AND c.object_type = d.object_type AND c.target_type = d.target_type
                LIMIT 1 FOR UPDATE SKIP LOCKED
            ) AS row_id FROM d
        ), bumped AS (
            UPDATE {TABLE} c SET {bump} FROM pick p WHERE c.id = p.row_id
            RETURNING c.id, c.minute00, c.minute15, c.minute30, c.minute45
        ), added AS (
            INSERT INTO {TABLE} ({KEY}, {COUNTS})
            SELECT {KEY}, {COUNTS} FROM pick WHERE row_id IS NULL
        )
        SELECT array_agg(id) INTO emptied FROM bumped WHERE {empty};
        IF emptied IS NOT NULL THEN
            DELETE FROM {TABLE} WHERE id = ANY(emptied) AND {empty};
        END IF;
    """


def _pg_function(name: str, deltas: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        emptied bigint[];
    BEGIN
        {_pg_apply(deltas)}
        RETURN NULL;
    END $$
    """


POSTGRES = [
    _pg_function("aui_actioncount_insert", _pg_kinds("aui_new", "+")),
    _pg_function(
        "aui_actioncount_update",
        f"{_pg_kinds('aui_new', '+')} UNION ALL {_pg_kinds('aui_old', '-')}",
    ),
    _pg_function("aui_actioncount_forget", _pg_kinds("aui_gone", "-")),
    f"""
    CREATE OR REPLACE FUNCTION aui_actioncount_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE {TABLE};
        RETURN NULL;
    EXCEPTION WHEN object_in_use THEN
        -- truncated in the same statement as the actions (Django's flush names both)
        RETURN NULL;
    END $$
    """,
    # room on each page for an updated count (a HOT update: the index is not touched, since
    # it holds only the kind)
    f"ALTER TABLE {TABLE} SET (fillfactor = 50)",
    "DROP TRIGGER IF EXISTS aui_actioncount_insert ON actstream_action",
    "CREATE TRIGGER aui_actioncount_insert AFTER INSERT ON actstream_action "
    "REFERENCING NEW TABLE AS aui_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_actioncount_insert()",
    "DROP TRIGGER IF EXISTS aui_actioncount_update ON actstream_action",
    "CREATE TRIGGER aui_actioncount_update AFTER UPDATE ON actstream_action "
    "REFERENCING OLD TABLE AS aui_old NEW TABLE AS aui_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_actioncount_update()",
    "DROP TRIGGER IF EXISTS aui_actioncount_forget ON actstream_action",
    "CREATE TRIGGER aui_actioncount_forget AFTER DELETE ON actstream_action "
    "REFERENCING OLD TABLE AS aui_gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION aui_actioncount_forget()",
    "DROP TRIGGER IF EXISTS aui_actioncount_truncate ON actstream_action",
    "CREATE TRIGGER aui_actioncount_truncate AFTER TRUNCATE ON actstream_action "
    "FOR EACH STATEMENT EXECUTE FUNCTION aui_actioncount_truncate()",
    f"INSERT INTO {TABLE} ({KEY}, {COUNTS}) {_pg_sums(_pg_kinds('actstream_action', '+'))}",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actioncount_truncate ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_actioncount_forget ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_actioncount_update ON actstream_action",
    "DROP TRIGGER IF EXISTS aui_actioncount_insert ON actstream_action",
    "DROP FUNCTION IF EXISTS aui_actioncount_truncate()",
    "DROP FUNCTION IF EXISTS aui_actioncount_forget()",
    "DROP FUNCTION IF EXISTS aui_actioncount_update()",
    "DROP FUNCTION IF EXISTS aui_actioncount_insert()",
]

# --- SQLite: row triggers (one writer at a time: one row per kind and hour). Timestamps are
# text 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; the hour is written the same way.


def _sqlite_kind(row: str) -> tuple[str, ...]:
    return (
        f"strftime('%Y-%m-%d %H:00:00', {row}.timestamp)",
        f"{row}.verb",
        f"{row}.public",
        f"coalesce({row}.action_object_content_type_id, 0)",
        f"coalesce({row}.target_content_type_id, 0)",
    )


def _sqlite_quarter(row: str) -> str:
    return f"CAST(strftime('%M', {row}.timestamp) AS INTEGER) / 15"


def _sqlite_same_kind(row: str) -> str:
    columns = KEY.split(", ")
    return " AND ".join(
        f"{column} = {value}" for column, value in zip(columns, _sqlite_kind(row), strict=True)
    )


def _sqlite_row_of(row: str) -> str:
    return f"(SELECT id FROM {TABLE} WHERE {_sqlite_same_kind(row)} LIMIT 1)"


def _sqlite_add(row: str) -> str:
    quarter = _sqlite_quarter(row)
    bump = ", ".join(f"{name} = {name} + ({quarter} = {q})" for q, name in enumerate(QUARTERS))
    ones = ", ".join(f"{quarter} = {q}" for q in range(len(QUARTERS)))
    return (
        f"UPDATE {TABLE} SET {bump} WHERE id = {_sqlite_row_of(row)}; "
        f"INSERT INTO {TABLE} ({KEY}, {COUNTS}) SELECT {', '.join(_sqlite_kind(row))}, {ones} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE {_sqlite_same_kind(row)}); "
    )


def _sqlite_remove(row: str) -> str:
    # no row to take from: the counts were emptied first (Django's flush deletes each table)
    quarter = _sqlite_quarter(row)
    drop = ", ".join(f"{name} = {name} - ({quarter} = {q})" for q, name in enumerate(QUARTERS))
    empty = " AND ".join(f"{name} = 0" for name in QUARTERS)
    return (
        f"UPDATE {TABLE} SET {drop} WHERE id = {_sqlite_row_of(row)}; "
        f"DELETE FROM {TABLE} WHERE {_sqlite_same_kind(row)} AND {empty}; "
    )


def _sqlite_backfill() -> str:
    quarter = _sqlite_quarter("n")
    sums = ", ".join(f"sum({quarter} = {q})" for q in range(len(QUARTERS)))
    return (
        f"INSERT INTO {TABLE} ({KEY}, {COUNTS}) "
        f"SELECT {', '.join(_sqlite_kind('n'))}, {sums} FROM actstream_action n "
        "GROUP BY 1, 2, 3, 4, 5"
    )


SQLITE = [
    "DROP TRIGGER IF EXISTS aui_actioncount_insert",
    "CREATE TRIGGER aui_actioncount_insert AFTER INSERT ON actstream_action "
    f"BEGIN {_sqlite_add('NEW')}END",
    "DROP TRIGGER IF EXISTS aui_actioncount_update",
    "CREATE TRIGGER aui_actioncount_update AFTER UPDATE OF "
    "timestamp, verb, public, action_object_content_type_id, target_content_type_id "
    "ON actstream_action BEGIN "
    f"{_sqlite_remove('OLD')}{_sqlite_add('NEW')}END",
    "DROP TRIGGER IF EXISTS aui_actioncount_forget",
    "CREATE TRIGGER aui_actioncount_forget AFTER DELETE ON actstream_action "
    f"BEGIN {_sqlite_remove('OLD')}END",
    _sqlite_backfill(),
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actioncount_forget",
    "DROP TRIGGER IF EXISTS aui_actioncount_update",
    "DROP TRIGGER IF EXISTS aui_actioncount_insert",
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
        ("activityui", "0005_fieldchange"),
        ("actstream", "0003_add_follow_flag"),
    ]

    operations = [
        migrations.CreateModel(
            name="ActionCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("verb", models.CharField(max_length=255)),
                ("public", models.BooleanField()),
                ("object_type", models.IntegerField()),
                ("target_type", models.IntegerField()),
                ("minute00", models.BigIntegerField()),
                ("minute15", models.BigIntegerField()),
                ("minute30", models.BigIntegerField()),
                ("minute45", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "action count",
                "verbose_name_plural": "action counts",
                "indexes": [
                    models.Index(
                        fields=["hour", "verb", "public", "object_type", "target_type"],
                        name="aui_actioncount_hour",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]

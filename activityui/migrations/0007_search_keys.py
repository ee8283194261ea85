"""Each action's search document gets its **keys**: one per role it has (actor, action object,
target), its content type and object id (see ``activityui.search.action_keys``), so that a
common word is looked up together with one feed branch in the text index.

PostgreSQL: the keys are lexemes ``_<role><content type>x<object id in hex>`` of the same
tsvector (no search term starts with ``_``); the table is rewritten in one INSERT … SELECT and
its indexes built after. SQLite: the FTS5 table gets a second column, ``keys`` (user searches
match the ``document`` column only); it is made anew from the old one. A trigger keeps the keys
right when an action's roles are updated behind capture's back.

The keys are computed here in SQL exactly as ``activityui.search.action_keys`` computes them in
Python (``activityui_reindex --rebuild`` writes the same documents; a test compares them).
"""

from django.db import migrations

ROLES = (
    ("a", "actor_content_type_id", "actor_object_id"),
    ("o", "action_object_content_type_id", "action_object_object_id"),
    ("t", "target_content_type_id", "target_object_id"),
)
ROLE_COLUMNS = ", ".join(column for _letter, *columns in ROLES for column in columns)


def _pg_keys(row: str) -> str:
    """The keys of ``row`` (an alias of actstream_action, or NEW / OLD) as a text[]."""
    return f"aui_action_keys({', '.join(f'{row}.{c}' for _l, *cs in ROLES for c in cs)})"


POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION aui_action_keys(
        actor_type integer, actor_id text, object_type integer, object_id text,
        target_type integer, target_id text
    ) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
        SELECT array_remove(ARRAY[
            '_a' || actor_type || 'x' || encode(convert_to(actor_id, 'UTF8'), 'hex'),
            '_o' || object_type || 'x' || encode(convert_to(object_id, 'UTF8'), 'hex'),
            '_t' || target_type || 'x' || encode(convert_to(target_id, 'UTF8'), 'hex')
        ], NULL)
    $$
    """,
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE TABLE aui_actionsearch_new (action_id bigint NOT NULL, document tsvector NOT NULL)",
    f"""
    INSERT INTO aui_actionsearch_new (action_id, document)
    SELECT s.action_id, s.document || array_to_tsvector({_pg_keys("a")})
    FROM activityui_actionsearch s JOIN actstream_action a ON a.id = s.action_id
    """,
    "DROP TABLE activityui_actionsearch",
    "ALTER TABLE aui_actionsearch_new RENAME TO activityui_actionsearch",
    "ALTER TABLE activityui_actionsearch ADD PRIMARY KEY (action_id)",
    "CREATE INDEX aui_actionsearch_document ON activityui_actionsearch USING gin (document)",
    # the words of each action *in* each of its branches, ``<key>_<word>``: a GIN index of
    # this expression serves "this word in this branch" with a posting list of exactly those
    # actions (the table stores no more than before). Costly per row, so that the planner
    # never evaluates it row by row in a scan when the index can answer.
    """
    CREATE OR REPLACE FUNCTION aui_branch_words(document tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
        SELECT array_to_tsvector(coalesce(array_agg(k.lexeme || '_' || w.lexeme), '{}'))
        FROM unnest(document) k, unnest(document) w
        WHERE left(k.lexeme, 1) = '_' AND left(w.lexeme, 1) <> '_'
    $$
    """,
    "CREATE INDEX aui_actionsearch_branch_words ON activityui_actionsearch "
    "USING gin (aui_branch_words(document))",
    # One branch's matches (activityui.search._read_branches): its newest p_sample actions
    # tested first, stopping at p_dense matches (then one NULL row: the word is common in the
    # branch, walk it); else up to p_wanted matches of "these words in this branch" from the
    # index above. PL/pgSQL keeps its plans for the session (no planning per page); its
    # settings keep the index read on that index, without parallel workers or JIT (the
    # expression's cost would make a plan of it both, each costing more than the read).
    """
    CREATE OR REPLACE FUNCTION aui_branch_read(
        p_role text, p_type integer, p_id text, p_words tsquery, p_branch_words tsquery,
        p_sample integer, p_dense integer, p_wanted integer
    ) RETURNS SETOF bigint LANGUAGE plpgsql STABLE
    SET enable_seqscan = off SET jit = off SET max_parallel_workers_per_gather = 0 AS $$
    DECLARE
        hits integer;
    BEGIN
        IF p_role = 'a' THEN
            SELECT count(*) INTO hits FROM (SELECT 1 FROM (
                SELECT a.id FROM actstream_action a
                WHERE a.actor_content_type_id = p_type AND a.actor_object_id = p_id
                ORDER BY a.timestamp DESC, a.id DESC LIMIT p_sample
            ) x WHERE (SELECT s.document FROM activityui_actionsearch s WHERE s.action_id = x.id)
                @@ p_words LIMIT p_dense) y;
        ELSIF p_role = 'o' THEN
            SELECT count(*) INTO hits FROM (SELECT 1 FROM (
                SELECT a.id FROM actstream_action a
                WHERE a.action_object_content_type_id = p_type AND a.action_object_object_id = p_id
                ORDER BY a.timestamp DESC, a.id DESC LIMIT p_sample
            ) x WHERE (SELECT s.document FROM activityui_actionsearch s WHERE s.action_id = x.id)
                @@ p_words LIMIT p_dense) y;
        ELSIF p_role = 't' THEN
            SELECT count(*) INTO hits FROM (SELECT 1 FROM (
                SELECT a.id FROM actstream_action a
                WHERE a.target_content_type_id = p_type AND a.target_object_id = p_id
                ORDER BY a.timestamp DESC, a.id DESC LIMIT p_sample
            ) x WHERE (SELECT s.document FROM activityui_actionsearch s WHERE s.action_id = x.id)
                @@ p_words LIMIT p_dense) y;
        ELSE
            RAISE EXCEPTION 'aui_branch_read: no such role';
        END IF;
        IF hits >= p_dense THEN
            RETURN NEXT NULL;
            RETURN;
        END IF;
        RETURN QUERY SELECT s.action_id FROM activityui_actionsearch s
            WHERE aui_branch_words(s.document) @@ p_branch_words LIMIT p_wanted;
    END $$
    """,
    "ANALYZE activityui_actionsearch",  # a new table: the planner's statistics of it
    f"""
    CREATE OR REPLACE FUNCTION aui_actionsearch_move() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE activityui_actionsearch
        SET document = ts_delete(document, {_pg_keys("OLD")})
            || array_to_tsvector({_pg_keys("NEW")})
        WHERE action_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER aui_actionsearch_move AFTER UPDATE OF {ROLE_COLUMNS} ON actstream_action
    FOR EACH ROW WHEN (({", ".join(f"OLD.{c}" for c in ROLE_COLUMNS.split(", "))})
        IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in ROLE_COLUMNS.split(", "))}))
    EXECUTE FUNCTION aui_actionsearch_move()
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actionsearch_move ON actstream_action",
    "DROP FUNCTION IF EXISTS aui_actionsearch_move()",
    "DROP INDEX IF EXISTS aui_actionsearch_branch_words",
    """
    UPDATE activityui_actionsearch SET document = array_to_tsvector(ARRAY(
        SELECT u.lexeme FROM unnest(document) u WHERE left(u.lexeme, 1) <> '_'
    ))
    """,
    "DROP FUNCTION IF EXISTS aui_branch_read(text, integer, text, tsquery, tsquery, integer, "
    "integer, integer)",
    "DROP FUNCTION IF EXISTS aui_branch_words(tsvector)",
    "DROP FUNCTION IF EXISTS aui_action_keys(integer, text, integer, text, integer, text)",
]


def _sqlite_keys(row: str) -> str:
    """The keys of ``row`` as FTS5 text: the tokens joined by one space (as in Python)."""
    parts = [
        f"coalesce(' {letter}' || {row}.{type_column} || 'x' || lower(hex({row}.{id_column})), '')"
        for letter, type_column, id_column in ROLES
    ]
    return f"ltrim({' || '.join(parts)})"


FTS5 = (
    "USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)
SQLITE = [
    "CREATE TEMP TABLE aui_keep AS SELECT s.rowid AS id, s.document AS document, "
    f"{_sqlite_keys('a')} AS keys "
    "FROM activityui_actionsearch s JOIN actstream_action a ON a.id = s.rowid",
    "DROP TABLE activityui_actionsearch",
    f"CREATE VIRTUAL TABLE activityui_actionsearch {FTS5.format(columns='document, keys')}",
    "INSERT INTO activityui_actionsearch (rowid, document, keys) "
    "SELECT id, document, keys FROM aui_keep ORDER BY id",
    "DROP TABLE aui_keep",
    f"CREATE TRIGGER aui_actionsearch_move AFTER UPDATE OF {ROLE_COLUMNS} ON actstream_action "
    f"BEGIN UPDATE activityui_actionsearch SET keys = {_sqlite_keys('NEW')} "
    "WHERE rowid = NEW.id; END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS aui_actionsearch_move",
    "CREATE TEMP TABLE aui_keep AS SELECT rowid AS id, document FROM activityui_actionsearch",
    "DROP TABLE activityui_actionsearch",
    f"CREATE VIRTUAL TABLE activityui_actionsearch {FTS5.format(columns='document')}",
    "INSERT INTO activityui_actionsearch (rowid, document) SELECT id, document FROM aui_keep",
    "DROP TABLE aui_keep",
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
    dependencies = [("activityui", "0006_actioncount")]

    operations = [migrations.RunPython(forwards, backwards)]

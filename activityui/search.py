"""Text search over actions through the database's own index, never a scan.

The words of each action's sentence -- actor, verb, object and target labels, the names and
values of changed fields, comment text and every other text value an action carries -- are
written to ``activityui_actionsearch`` in the same transaction as the action (one INSERT).

The matching rule is the same on every database because the words are made here, in Python:
text is split into words (runs of letters and digits), lower-cased (case-folded) and stripped
of accents. A search matches an action when **every word of the search is the beginning of a
word of the action** (``inv 47`` finds "Invoice 4711"). The database only stores and looks up
those words:

* PostgreSQL: a ``tsvector`` built from the words (``array_to_tsvector``: no parser, no
  stemming) with a GIN index; the search is a ``tsquery`` of ``'word':*`` terms.
* SQLite: an FTS5 table (``unicode61 remove_diacritics 2``, prefix indexes of 2 and 3
  characters) keyed by the action id; the search is ``"word"* "word"*``.

Each action's document also holds its **keys**: one per role it has (actor, action object,
target), its content type and object id (:func:`action_keys`). Keys can never be matched by a
user's search: on PostgreSQL they are lexemes starting with ``_`` (a search term is letters and
digits only), on SQLite they are a second FTS5 column (``keys``) that the user's terms are not
matched against. PostgreSQL also indexes ``aui_branch_words(document)``: each word *in* each
of the action's branches (``_t12x3334_invoice``), one posting list per word and branch.

A search reads matching ids from the index when its query is compiled (:class:`TextMatch`).
In a feed branch (a query whose WHERE pins a role's type and id), one query for every branch
of a page: on PostgreSQL the branch's newest :data:`SAMPLE_ROWS` actions are tested first and
:data:`SAMPLE_DENSE` matches among them make the word common there (walk); else the matches of
the word in that branch, up to :data:`BRANCH_HITS` + 1 (SQLite: the word's and the keys' lists
intersected by FTS5). Elsewhere (the staff console) the site's newest actions are sampled alike
(PostgreSQL), else the word's matches read, up to :data:`DENSE_HITS` + 1. Few matches: the rows
are read by those ids. Many: on PostgreSQL the query walks the usual (timestamp, id) order and
tests each row's stored words (one primary-key probe a row), and finds a page after a few rows
because matches are common where it walks; SQLite reads the matching ids from the index once
(an FTS5 probe per row would read the word's whole list of actions each time). No query reads
every action, and no branch is walked for a word that is rare in it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, F
from django.db.models.expressions import Col, RawSQL
from django.db.models.lookups import Exact
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.where import AND, WhereNode

TABLE = "activityui_actionsearch"
MAX_DOCUMENT_WORDS = 2_000  # a huge comment is indexed by its first words
MAX_QUERY_WORDS = 8
DENSE_HITS = 20_000  # more matches than this: a common search (see match_expression)
BRANCH_HITS = 2_000  # more matches than this in one branch: walk it (see TextMatch)
KEY_MARK = "_"  # PostgreSQL: keys are lexemes starting with this; no search term can
ROLES = (("actor", "a"), ("action_object", "o"), ("target", "t"))
_KEY_COLUMNS = {
    f"{role}_{part}": (letter, part)
    for role, letter in ROLES
    for part in ("content_type_id", "object_id")
}
_WORD = re.compile(r"[^\W_]+")
_SKIP_KEYS = frozenset({"url"})  # snapshot URLs are not words of the sentence


def supported(alias: str) -> bool:
    """Does this database have a text index (PostgreSQL, SQLite)?"""
    return connections[alias].vendor in ("postgresql", "sqlite")


def words(text: str) -> list[str]:
    """The words of ``text`` as the index stores them: lower-case, no accents."""
    text = text.casefold()
    if not text.isascii():  # ASCII has no accents to strip: the common case stays cheap
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(text)


def _texts(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, str):
        if key not in _SKIP_KEYS:
            yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, dict):
        for child_key, child in value.items():
            yield from _texts(child, str(child_key))
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _texts(child, key)


def document_words(verb: str, data: Any) -> list[str]:
    """The distinct words of one action: its verb, the text values of its ``data`` (labels,
    comment, changed values) and the names of its changed fields; not URLs, not JSON keys."""
    parts = [verb]
    if isinstance(data, dict):
        changes = data.get("changes")
        if isinstance(changes, dict):
            parts.extend(str(name) for name in changes)
        parts.extend(_texts(data))
    unique = list(dict.fromkeys(words("\n".join(parts))))
    return unique[:MAX_DOCUMENT_WORDS]


def branch_key(letter: str, content_type_id: Any, object_id: Any) -> str:
    """The key of one role of an action: ``t12x3334`` is the target (``t``) of content type
    12 whose object id reads "34" (its UTF-8 bytes in hex: letters and digits only, one token
    for FTS5, and computed alike in SQL by the migration and the triggers)."""
    return f"{letter}{int(content_type_id)}x{str(object_id).encode().hex()}"


def action_keys(*roles: tuple[Any, Any]) -> list[str]:
    """The keys of an action from its (content type id, object id) of actor, action object
    and target, in that order; a role without a content type has none."""
    return [
        branch_key(letter, content_type_id, object_id)
        for (_role, letter), (content_type_id, object_id) in zip(ROLES, roles, strict=True)
        if content_type_id is not None and object_id is not None
    ]


def _action_roles(action: Any) -> tuple[tuple[Any, Any], ...]:
    return tuple(
        (getattr(action, f"{role}_content_type_id"), getattr(action, f"{role}_object_id"))
        for role, _letter in ROLES
    )


def query_words(value: str) -> list[str]:
    """The words of a search, each one to match as a word prefix (at most
    :data:`MAX_QUERY_WORDS`; repeated words once)."""
    return list(dict.fromkeys(words(value)))[:MAX_QUERY_WORDS]


def _engine_query(vendor: str, terms: Sequence[str], keys: Sequence[str] = ()) -> str:
    """The index's query of ``terms`` (each a word prefix), and on SQLite of ``keys`` too.
    Terms are runs of letters and digits, keys letters and digits: nothing to escape."""
    if vendor == "postgresql":
        return " & ".join(f"'{term}':*" for term in terms)
    words = " ".join(f'"{term}"*' for term in terms)
    if not keys:
        return words
    # the table's name on the left of MATCH: these column filters say which column is which
    quoted = " ".join(f'"{key}"' for key in keys)
    return f"document : ({words}) AND keys : ({quoted})"


def _matching_ids_sql(vendor: str, *, keys: bool = False) -> str:
    if vendor == "postgresql":
        return f"SELECT action_id FROM {TABLE} WHERE document @@ %s::tsquery"
    column = TABLE if keys else "document"  # a column on the left restricts MATCH to it
    return f"SELECT rowid FROM {TABLE} WHERE {column} MATCH %s"


# --- writing ---


Row = tuple[int, list[str], list[str]]  # (action id, words, keys)


def _rows(actions: Iterable[Any]) -> list[Row]:
    return [
        (action.pk, document_words(action.verb, action.data), action_keys(*_action_roles(action)))
        for action in actions
    ]


def postgres_document(words: Sequence[str], keys: Sequence[str]) -> list[str]:
    """The lexemes of an action's tsvector: its words and its keys (marked)."""
    return [*words, *(f"{KEY_MARK}{key}" for key in keys)]


def index_rows(alias: str, rows: Sequence[Row], *, replace: bool) -> None:
    """Write ``(action id, words, keys)`` rows in one statement. ``replace``: rows already
    indexed are rewritten (the backfill), else they must be new (capture)."""
    if not rows or not supported(alias):
        return
    connection = connections[alias]
    params: list[Any] = []
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s, array_to_tsvector(%s::text[]))"] * len(rows))
        for pk, document, keys in rows:
            params += [pk, postgres_document(document, keys)]
        conflict = " ON CONFLICT (action_id) DO UPDATE SET document = EXCLUDED.document"
        sql = f"INSERT INTO {TABLE} (action_id, document) VALUES {values}"
        sql += conflict if replace else ""
    else:
        values = ", ".join(["(%s, %s, %s)"] * len(rows))
        for pk, document, keys in rows:
            params += [pk, " ".join(document), " ".join(keys)]
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO {TABLE} (rowid, document, keys) VALUES {values}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def index_actions(
    actions: Iterable[Any], *, using: str | None = None, replace: bool = False
) -> None:
    """Index new actions (one INSERT for all of them)."""
    actions = list(actions)
    if not actions:
        return
    alias = using or router.db_for_write(type(actions[0]))
    index_rows(alias, _rows(actions), replace=replace)


def index_saved_action(
    sender: Any,
    instance: Any,
    created: bool,
    raw: bool = False,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    if created and not raw:
        index_actions([instance], using=using)


# --- reading ---


def matching_ids(alias: str, terms: Sequence[str], *, limit: int) -> list[int]:
    """Up to ``limit + 1`` ids of actions matching ``terms`` (one index lookup)."""
    vendor = connections[alias].vendor
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"{_matching_ids_sql(vendor)} LIMIT %s", [_engine_query(vendor, terms), limit + 1]
        )
        return [int(row[0]) for row in cursor.fetchall()]


Pin = tuple[str, int, str]  # (role letter, content type id, object id) a branch fixes
Pins = tuple[Pin, ...]


def pinned_roles(query: Any) -> Pins:
    """The roles a query's WHERE pins: each role whose content type and object id it compares
    for equality at its top level (ANDed), as (letter, content type id, object id)."""
    found: dict[str, dict[str, Any]] = {}
    _pins(query.where, query.base_table, found)
    return tuple(
        sorted(
            (letter, int(parts["content_type_id"]), str(parts["object_id"]))
            for letter, parts in found.items()
            if parts.get("content_type_id") is not None and parts.get("object_id") is not None
        )
    )


def _pins(node: WhereNode, table: str | None, found: dict[str, dict[str, Any]]) -> None:
    if node.negated or node.connector != AND:
        return
    for child in node.children:
        if isinstance(child, WhereNode):
            _pins(child, table, found)
            continue
        if not isinstance(child, Exact) or not isinstance(child.lhs, Col):
            continue
        pinned = _KEY_COLUMNS.get(child.lhs.target.column or "")
        rhs = child.rhs
        if pinned is None or child.lhs.alias != table or hasattr(rhs, "resolve_expression"):
            continue
        letter, part = pinned
        found.setdefault(letter, {})[part] = getattr(rhs, "pk", rhs)


class _Reads:
    """What one search has read from the index, shared by every copy of its
    :class:`TextMatch` (the arms of a page, its count): the word's matches; per branch (its
    pins) the matches in it, or None when the word is common in it (walk it); and the
    branches announced but not read yet."""

    def __init__(self) -> None:
        self.word: list[int] | None = None
        self.word_dense = False
        self.branches: dict[Pins, list[int] | None] = {}
        self.pending: dict[Pins, None] = {}


class TextMatch(RawSQL):
    """The action (``column``, its id) matches the search ``terms``.

    (A ``RawSQL`` only so that Django writes it in a WHERE clause as it is, as it does for
    ``Exists`` and lookups: any other expression is compared with ``= 1`` on databases without
    a boolean type, and SQLite cannot use an index for ``id IN (...) = 1``: it walked every
    action for a rare word. Nothing of ``RawSQL`` is used but that.)

    Nothing is read until the query is compiled. Then, in a query whose WHERE pins a branch
    (:func:`pinned_roles`), the matches of the terms in that branch are read from the index
    (one query for every branch announced so far: the arms of a page; see
    :func:`_read_branches`); elsewhere the terms' matches, up to ``dense_hits + 1``. Few: the
    action's id is one of them (a literal list the planner can count). Many: its stored words
    match (PostgreSQL: tested per row read, a primary-key probe; SQLite: the index's ids read
    once).
    """

    output_field = BooleanField()
    conditional = True

    def __init__(
        self,
        terms: Sequence[str],
        *,
        dense_hits: int = DENSE_HITS,
        branch_hits: int = BRANCH_HITS,
        sample_dense: int = 0,
        column: Any = None,
    ) -> None:
        super().__init__("", (), output_field=BooleanField())
        self.terms = tuple(terms)
        self.dense_hits = dense_hits
        self.branch_hits = branch_hits
        self.sample_dense = sample_dense or SAMPLE_DENSE
        self.column: Any = column if column is not None else F("pk")
        self.reads = _Reads()

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def resolve_expression(self, query: Any = None, *args: Any, **kwargs: Any) -> TextMatch:
        clone: TextMatch = self.copy()  # a shallow copy: the reads stay shared
        clone.column = self.column.resolve_expression(query, *args, **kwargs)
        pins = pinned_roles(query)  # announce the branch: its page reads every branch at once
        if pins and pins not in self.reads.branches:
            self.reads.pending[pins] = None
        return clone

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.column)
        vendor = connection.vendor
        pins = pinned_roles(compiler.query)
        if pins:
            ids, bound = self._branch_ids(connection, pins), self.branch_hits
        else:
            ids, bound = self._word_ids(connection), self.dense_hits
        if ids is not None and len(ids) <= bound:
            # a literal list: the planner knows how few rows it is and reads them by id
            if vendor == "postgresql":
                return f"{column_sql} = ANY(%s)", (*column_params, ids)
            if not ids:
                return "0 = 1", ()
            marks = ", ".join(["%s"] * len(ids))
            return f"{column_sql} IN ({marks})", (*column_params, *ids)
        if vendor == "postgresql":
            return f"{_probe_sql(column_sql)} @@ %s::tsquery", (
                *column_params,
                _engine_query(vendor, self.terms),
            )
        keys = [branch_key(*pin) for pin in pins]
        # many matches: walk the actions in their order and test each against the index's ids
        # (read once); the unary + keeps SQLite from driving the query by those ids instead
        # (every match read by id, then sorted)
        sql = f"+{column_sql} IN ({_matching_ids_sql(vendor, keys=bool(keys))})"
        return sql, (*column_params, _engine_query(vendor, self.terms, keys))

    def _word_ids(self, connection: Any) -> list[int] | None:
        """The matches on the whole site, up to ``dense_hits + 1`` (None: common among the
        newest actions, see :func:`_sampled_word_ids`: walk without reading them)."""
        reads = self.reads
        if reads.word is None and not reads.word_dense:
            if connection.vendor == "postgresql":
                reads.word = _sampled_word_ids(connection, self)
                reads.word_dense = reads.word is None
            else:
                reads.word = matching_ids(connection.alias, self.terms, limit=self.dense_hits)
        return reads.word

    def _branch_ids(self, connection: Any, pins: Pins) -> list[int] | None:
        """The matches in the branch ``pins`` (None: common in it), read with those of every
        branch announced and not read yet: one query."""
        reads = self.reads
        if pins not in reads.branches:
            wanted = [k for k in reads.pending if k not in reads.branches]
            wanted = wanted if pins in wanted else [*wanted, pins]
            reads.pending.clear()
            reads.branches.update(_read_branches(connection, self, wanted))
        return reads.branches[pins]


def _probe_sql(column_sql: str) -> str:
    # a scalar subquery, not EXISTS: the planner cannot turn it into a join that reads every
    # match first; each row read costs one primary-key probe
    return f"(SELECT aui_s.document FROM {TABLE} aui_s WHERE aui_s.action_id = {column_sql})"


def _sampled_word_ids(connection: Any, match: TextMatch) -> list[int] | None:
    """PostgreSQL, one query: None when ``match.sample_dense`` (:data:`SAMPLE_DENSE`) or more
    of the site's newest :data:`SAMPLE_ROWS` actions match (one probe each, stopping there: a
    page is then found after a short walk); else the matching ids, up to
    ``match.dense_hits + 1``."""
    words = _engine_query("postgresql", match.terms)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH aui_d AS MATERIALIZED (SELECT count(*) >= %s AS dense FROM (SELECT 1 FROM"
            " (SELECT a.id FROM actstream_action a ORDER BY a.timestamp DESC, a.id DESC"
            f" LIMIT %s) x WHERE {_probe_sql('x.id')} @@ %s::tsquery LIMIT %s) y)"
            " SELECT NULL::bigint FROM aui_d WHERE dense UNION ALL SELECT * FROM"
            f" ({_matching_ids_sql('postgresql')} AND NOT (SELECT dense FROM aui_d) LIMIT %s) w",
            [
                match.sample_dense,
                SAMPLE_ROWS,
                words,
                match.sample_dense,
                words,
                match.dense_hits + 1,
            ],
        )
        rows = cursor.fetchall()
    if rows and rows[0][0] is None:
        return None
    return [int(row[0]) for row in rows]


SAMPLE_ROWS = 100  # PostgreSQL: a branch's newest rows tested before its matches are read...
SAMPLE_DENSE = 5  # ...and this many matches among them (5%) make the word common in it


def _read_branches(
    connection: Any, match: TextMatch, branches: Sequence[Pins]
) -> dict[Pins, list[int] | None]:
    """Per branch, up to ``match.branch_hits + 1`` ids matching ``match.terms`` in it, or None
    when the terms are common in it: one query for every branch.

    PostgreSQL (``aui_branch_read``, one call per branch): the branch's newest
    :data:`SAMPLE_ROWS` actions are tested first (one probe each, through the branch's (type,
    id, timestamp, id) index, stopping at :data:`SAMPLE_DENSE` matches); with that many the
    branch is walked (None, nothing else read); else its matches are read
    from a GIN index of the document's words *in* each of its branches (lexemes
    ``<key>_<word>``, ``aui_branch_words``), whose posting lists hold only the branch's
    matches. SQLite: the word's and the keys' lists intersected by FTS5."""
    vendor = connection.vendor
    ids: list[list[int]] = [[] for _pins in branches]
    common: set[int] = set()  # PostgreSQL: one NULL row says "common in this branch"
    sql, params = (_postgres_branches if vendor == "postgresql" else _sqlite_branches)(
        match, branches
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for number, pk in cursor.fetchall():
            if pk is None:
                common.add(number)
            else:
                ids[number].append(int(pk))
    return {pins: None if n in common else ids[n] for n, pins in enumerate(branches)}


def _postgres_branches(match: TextMatch, branches: Sequence[Pins]) -> tuple[str, list[Any]]:
    arms, params = [], []
    terms = match.terms
    words = _engine_query("postgresql", terms)
    for number, pins in enumerate(branches):
        key = f"{KEY_MARK}{branch_key(*pins[0])}{KEY_MARK}"
        arms.append(
            f"SELECT {number}, aui_branch_read(%s, %s, %s, %s::tsquery, %s::tsquery, %s, %s, %s)"
            f" AS aui_b{number}"
        )
        params += [
            *pins[0],
            words,
            " & ".join(f"'{key}{term}':*" for term in terms),
            SAMPLE_ROWS,
            match.sample_dense,
            match.branch_hits + 1,
        ]
    return " UNION ALL ".join(arms), params


def _sqlite_branches(match: TextMatch, branches: Sequence[Pins]) -> tuple[str, list[Any]]:
    arms, params = [], []
    for number, pins in enumerate(branches):
        sql = _matching_ids_sql("sqlite", keys=True).replace("SELECT ", f"SELECT {number}, ", 1)
        arms.append(f"SELECT * FROM ({sql} LIMIT %s) aui_b{number}")
        keys = [branch_key(*pin) for pin in pins]
        params += [_engine_query("sqlite", match.terms, keys), match.branch_hits + 1]
    return " UNION ALL ".join(arms), params


def count_alone(queryset: Any, *, limit: int) -> int | None:
    """The number of rows of ``queryset`` up to ``limit`` (else ``limit + 1``) when its only
    condition is a search: the matching ids the search reads when they are few, else counted
    in the index (one row there per indexed action), no action read; None for any other
    queryset."""
    where = queryset.query.where
    if where.negated or len(where.children) != 1:
        return None
    (condition,) = where.children
    if isinstance(condition, Exact) and condition.rhs is True:  # filter(match): "match = true"
        condition = condition.lhs
    if not isinstance(condition, TextMatch):
        return None
    connection = connections[queryset.db]
    ids = condition._word_ids(connection)  # what the page reads anyway
    if ids is not None and len(ids) <= condition.dense_hits:  # all of them
        return min(len(ids), limit + 1)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({_matching_ids_sql(vendor)} LIMIT %s) aui_c",
            [_engine_query(vendor, condition.terms), limit + 1],
        )
        return int(cursor.fetchone()[0])


def match_expression(
    value: str,
    *,
    alias: str,
    dense_hits: int | None = None,
    branch_hits: int | None = None,
    sample_dense: int | None = None,
) -> TextMatch | None:
    """The condition "this action matches the search ``value``" for the database ``alias``
    (None when ``value`` has no words: nothing to narrow by). Reads nothing yet: see
    :class:`TextMatch` (more than ``dense_hits`` matches, or ``branch_hits`` in a branch, is a
    common search; default :data:`DENSE_HITS` and :data:`BRANCH_HITS`; ``sample_dense``
    matches among the newest :data:`SAMPLE_ROWS` make it common too, default
    :data:`SAMPLE_DENSE`, more than :data:`SAMPLE_ROWS`: never). ``alias`` is the
    database the condition is meant for; the reads happen on the one its query runs on."""
    terms = query_words(value)
    if not terms:
        return None
    return TextMatch(
        terms,
        dense_hits=DENSE_HITS if dense_hits is None else dense_hits,
        branch_hits=BRANCH_HITS if branch_hits is None else branch_hits,
        sample_dense=SAMPLE_DENSE if sample_dense is None else sample_dense,
    )


# --- backfill ---


def indexed_ids(alias: str, low: int, high: int) -> set[int]:
    """The ids in ``[low, high)`` that the index already holds (one range read of its key)."""
    vendor = connections[alias].vendor
    key = "action_id" if vendor == "postgresql" else "rowid"
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT {key} FROM {TABLE} WHERE {key} >= %s AND {key} < %s", [low, high])
        return {int(row[0]) for row in cursor.fetchall()}


def reindex_range(alias: str, low: int, high: int, *, rebuild: bool = False) -> int:
    """Index the actions with ids in ``[low, high)`` that are missing from the index (all of
    them when ``rebuild``). Returns how many were written. Raw rows, no model instances."""
    from actstream.models import Action

    done = set() if rebuild else indexed_ids(alias, low, high)
    columns = [f"{role}_{part}" for role, _ in ROLES for part in ("content_type_id", "object_id")]
    rows = [
        (pk, document_words(verb, data), action_keys(*zip(roles[::2], roles[1::2], strict=True)))
        for pk, verb, data, *roles in Action.objects.using(alias)
        .filter(pk__gte=low, pk__lt=high)
        .order_by()
        .values_list("pk", "verb", "data", *columns)
        if pk not in done
    ]
    index_rows(alias, rows, replace=rebuild)
    return len(rows)

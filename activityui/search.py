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

A search first reads the matching ids from the index, up to :data:`DENSE_HITS` + 1. Few
matches: the page is read by those ids. Many: on PostgreSQL the page walks the usual
(timestamp, id) order and tests each row's stored words (one primary-key probe a row), and
finds a page after a few rows because matches are common; SQLite reads the matching ids from
the index once (an FTS5 probe per row would read the word's whole list of actions each time).
Either way no query reads every action.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, Expression, F
from django.db.models.sql.compiler import SQLCompiler

TABLE = "activityui_actionsearch"
MAX_DOCUMENT_WORDS = 2_000  # a huge comment is indexed by its first words
MAX_QUERY_WORDS = 8
DENSE_HITS = 20_000  # more matches than this: a common search (see match_expression)
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


def query_words(value: str) -> list[str]:
    """The words of a search, each one to match as a word prefix (at most
    :data:`MAX_QUERY_WORDS`; repeated words once)."""
    return list(dict.fromkeys(words(value)))[:MAX_QUERY_WORDS]


def _engine_query(vendor: str, terms: Sequence[str]) -> str:
    # terms are runs of letters and digits only: nothing to escape in either syntax
    if vendor == "postgresql":
        return " & ".join(f"'{term}':*" for term in terms)
    return " ".join(f'"{term}"*' for term in terms)


def _matching_ids_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return f"SELECT action_id FROM {TABLE} WHERE document @@ %s::tsquery"
    return f"SELECT rowid FROM {TABLE} WHERE document MATCH %s"


# --- writing ---


def _rows(actions: Iterable[Any]) -> list[tuple[int, list[str]]]:
    return [(action.pk, document_words(action.verb, action.data)) for action in actions]


def index_rows(alias: str, rows: Sequence[tuple[int, list[str]]], *, replace: bool) -> None:
    """Write ``(action id, words)`` rows in one statement. ``replace``: rows already indexed
    are rewritten (the backfill), else they must be new (capture)."""
    if not rows or not supported(alias):
        return
    connection = connections[alias]
    params: list[Any] = []
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s, array_to_tsvector(%s::text[]))"] * len(rows))
        for pk, document in rows:
            params += [pk, document]
        conflict = " ON CONFLICT (action_id) DO UPDATE SET document = EXCLUDED.document"
        sql = f"INSERT INTO {TABLE} (action_id, document) VALUES {values}"
        sql += conflict if replace else ""
    else:
        values = ", ".join(["(%s, %s)"] * len(rows))
        for pk, document in rows:
            params += [pk, " ".join(document)]
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        sql = f"{verb} INTO {TABLE} (rowid, document) VALUES {values}"
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


class TextMatch(Expression):
    """The action (``column``, its id) matches the search: its id is one of ``ids`` (the few
    matches, read from the index first), or -- ``ids`` None, many matches -- its stored words
    match ``query`` (PostgreSQL: tested per row read; SQLite: the index's ids read once)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, query: str, *, ids: Sequence[int] | None, column: Any = None) -> None:
        super().__init__()
        self.query = query
        self.ids = None if ids is None else tuple(ids)
        self.column: Any = column if column is not None else F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> TextMatch:
        clone: TextMatch = self.copy()
        clone.column = self.column.resolve_expression(*args, **kwargs)
        return clone

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.column)
        vendor = connection.vendor
        if self.ids is not None:
            # a literal list: the planner knows how few rows it is and reads them by id
            if vendor == "postgresql":
                return f"{column_sql} = ANY(%s)", (*column_params, list(self.ids))
            if not self.ids:
                return "0 = 1", ()
            marks = ", ".join(["%s"] * len(self.ids))
            return f"{column_sql} IN ({marks})", (*column_params, *self.ids)
        if vendor == "postgresql":
            # a scalar subquery, not EXISTS: the planner cannot turn it into a join that
            # reads every match first; each row read costs one primary-key probe
            sql = (
                f"(SELECT aui_s.document FROM {TABLE} aui_s WHERE aui_s.action_id = {column_sql})"
                " @@ %s::tsquery"
            )
        else:
            sql = f"{column_sql} IN ({_matching_ids_sql(vendor)})"
        return sql, (*column_params, self.query)


def match_expression(value: str, *, alias: str, dense_hits: int = DENSE_HITS) -> TextMatch | None:
    """The condition "this action matches the search ``value``" for the database ``alias``
    (None when ``value`` has no words: nothing to narrow by). Reads up to ``dense_hits + 1``
    matching ids from the index first; more than ``dense_hits`` is a common search."""
    terms = query_words(value)
    if not terms:
        return None
    vendor = connections[alias].vendor
    ids = matching_ids(alias, terms, limit=dense_hits)
    return TextMatch(_engine_query(vendor, terms), ids=ids if len(ids) <= dense_hits else None)


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
    rows = [
        (pk, document_words(verb, data))
        for pk, verb, data in Action.objects.using(alias)
        .filter(pk__gte=low, pk__lt=high)
        .order_by()
        .values_list("pk", "verb", "data")
        if pk not in done
    ]
    index_rows(alias, rows, replace=rebuild)
    return len(rows)

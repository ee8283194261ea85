"""Streaming exports of the staff console: CSV and JSON Lines in constant memory.

Two writers give the same bytes for the same rows:

- **PostgreSQL** (psycopg 3): the database writes the file. The filtered queryset is compiled by
  Django (so every staff filter applies unchanged) and wrapped in one
  ``COPY (SELECT …) TO STDOUT``: the outer SELECT computes every cell -- type keys through a
  join, labels out of the JSON, times in UTC, formula defusing, the whole JSON Lines line --
  and COPY's CSV format quotes the cells. Python only gathers the rows COPY sends (one message
  a row) into chunks of the response, turning CSV's LF row ends into the CRLF of Python's
  ``csv`` module.
- **Elsewhere** (SQLite, the embedded default): rows come from
  ``QuerySet.values_list(...).iterator(chunk_size=...)`` as plain tuples -- labels and
  changes taken out of the JSON by the database, ``data`` as JSON text -- and Python writes
  them.

Either way rows leave as soon as a batch is written, so a million actions never sit in memory
at once and no model instance is built per row. CSV cells that a spreadsheet would run as a
formula are defused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import F, QuerySet, TextField
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse

from activityui.keys import type_key

logger = logging.getLogger("activityui.exports")
EXPORT_COUNT_LIMIT = 100_000_000  # counted exactly below this many rows
PROGRESS_EVERY = 100_000  # rows between two progress lines in the log
CHUNK_SIZE = 5_000  # rows fetched from the database at a time (the Python writer)
BATCH_SIZE = 500  # rows written per chunk of the response
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "timestamp",
    "actor_type",
    "actor_id",
    "actor",
    "verb",
    "object_type",
    "object_id",
    "object",
    "target_type",
    "target_id",
    "target",
    "public",
    "changes",
    "data",
)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/x-ndjson; charset=utf-8",
}
CSV_HEADER = "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"  # a BOM first, for spreadsheets


# a formula character after leading whitespace or line breaks still starts a formula in some
# spreadsheets (they trim the cell first); full-width forms too, in some locales
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# what str.lstrip() strips: every character whose str.isspace() is true (a test keeps this
# list equal to Python's own); the SQL writer needs it spelled out
LSTRIP_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# a cell can only be a formula if its first character is one of these (checked first: cheap)
RISKY_FIRST = frozenset(LSTRIP_WHITESPACE + "".join(FORMULA_CHARACTERS))


def defuse_formula(value: str) -> str:
    """A leading ``'`` keeps spreadsheets from running a cell as a formula (CSV injection)."""
    if (
        value
        and value[0] in RISKY_FIRST
        and (value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_CHARACTERS))
    ):
        return "'" + value
    return value


def _type_key(content_type_id: int | None) -> str:
    if content_type_id is None:
        return ""
    content_type = ContentType.objects.get_for_id(content_type_id)  # cached after the first
    return type_key(content_type)


def _label(data: dict[str, Any], role: str) -> str:
    snapshot = data.get("snapshot")
    part = snapshot.get(role) if isinstance(snapshot, dict) else None
    label = part.get("label") if isinstance(part, dict) else None
    return "" if label is None else str(label)


def _object_as_dict(action: Any, role: str, data: dict[str, Any]) -> dict[str, str] | None:
    content_type_id = getattr(action, f"{role}_content_type_id")
    if content_type_id is None:
        return None
    object_id = getattr(action, f"{role}_object_id")
    return {
        "type": _type_key(content_type_id),
        "id": "" if object_id is None else str(object_id),
        "label": _label(data, role),
    }


def action_as_dict(action: Any) -> dict[str, Any]:
    """One action as a JSON-ready dict: ids, UTC time, the three objects, all of ``data``."""
    data = action.data if isinstance(action.data, dict) else {}
    return {
        "id": action.pk,
        "timestamp": action.timestamp.astimezone(dt.UTC).isoformat(),
        "actor": _object_as_dict(action, "actor", data),
        "verb": action.verb,
        "object": _object_as_dict(action, "action_object", data),
        "target": _object_as_dict(action, "target", data),
        "public": action.public,
        "description": action.description or "",
        "data": data,
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def csv_row(action: Any) -> list[str]:
    """One action (a model instance) as the cells of a CSV row: the reference the streamed
    writers are tested against."""
    item = action_as_dict(action)
    cells: list[str] = [str(item["id"]), item["timestamp"]]
    for role in ("actor",):
        ref = item[role] or {}
        cells += [ref.get("type", ""), ref.get("id", ""), ref.get("label", "")]
    cells.append(item["verb"])
    for role in ("object", "target"):
        ref = item[role] or {}
        cells += [ref.get("type", ""), ref.get("id", ""), ref.get("label", "")]
    changes = item["data"].get("changes")
    cells += [
        "true" if item["public"] else "false",
        "" if changes is None or changes in ({}, [], "") else _json(changes),
        _json(item["data"]),
    ]
    return [defuse_formula(cell) for cell in cells]


# --- the Python writer: raw rows, JSON taken apart by the database, no model instances ---

ROW_FIELDS = (
    "pk",
    "timestamp",
    "actor_content_type_id",
    "actor_object_id",
    "aui_actor",
    "verb",
    "action_object_content_type_id",
    "action_object_object_id",
    "aui_object",
    "target_content_type_id",
    "target_object_id",
    "aui_target",
    "public",
    "description",
    "aui_changes",
    "aui_data",
)


def _row_values(queryset: QuerySet[Any]) -> QuerySet[Any]:
    # labels as text even where they are not (SQLite's JSON functions give numbers as numbers)
    annotated: QuerySet[Any] = queryset.annotate(
        aui_actor=Cast(KT("data__snapshot__actor__label"), TextField()),
        aui_object=Cast(KT("data__snapshot__action_object__label"), TextField()),
        aui_target=Cast(KT("data__snapshot__target__label"), TextField()),
        aui_changes=Cast(KeyTransform("changes", "data"), TextField()),
        aui_data=Cast("data", TextField()),
    )
    return annotated


def export_rows(queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """``queryset`` as tuples of :data:`ROW_FIELDS` through a server-side cursor (PostgreSQL;
    chunked reads elsewhere): the labels and ``changes`` come out of the JSON in SQL and
    ``data`` arrives as JSON text, written out as it is (never decoded in Python)."""
    rows = _row_values(queryset).values_list(*ROW_FIELDS)
    yield from rows.iterator(chunk_size=CHUNK_SIZE)


class _TypeKeys(dict[int | None, str]):
    """content type id -> "app_label.model", each looked up once."""

    def __missing__(self, key: int | None) -> str:
        value = _type_key(key)
        self[key] = value
        return value


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _no_json_null(text: str | None) -> str:
    return "" if text is None or text == "null" else text


EMPTY_CHANGES = frozenset(("", "{}", "[]", '""'))


def _csv_cells(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[str, ...]]:
    """The cells of each row, defused: only the cells that carry text from users or objects
    can hold a formula (ids and types of the database, times, booleans cannot)."""
    types = _TypeKeys()
    defuse = defuse_formula
    for (
        pk,
        timestamp,
        actor_type,
        actor_id,
        actor,
        verb,
        object_type,
        object_id,
        object_label,
        target_type,
        target_id,
        target_label,
        public,
        _description,
        changes,
        data,
    ) in rows:
        changes = _no_json_null(changes)
        has_object = object_type is not None
        has_target = target_type is not None
        yield (
            str(pk),
            _utc(timestamp),
            types[actor_type],
            defuse(actor_id or ""),
            defuse(actor or ""),
            defuse(verb or ""),
            types[object_type] if has_object else "",
            defuse(object_id or "") if has_object else "",
            defuse(object_label or "") if has_object else "",
            types[target_type] if has_target else "",
            defuse(target_id or "") if has_target else "",
            defuse(target_label or "") if has_target else "",
            "true" if public else "false",
            "" if changes in EMPTY_CHANGES else defuse(changes),
            defuse(_no_json_null(data) or "{}"),
        )


def _csv_batches(queryset: QuerySet[Any]) -> Iterator[tuple[int, str]]:
    """(rows, text) of each batch of CSV lines, written by Python's ``csv`` module."""
    buffer = io.StringIO()
    writerows = csv.writer(buffer).writerows
    batch: list[tuple[str, ...]] = []
    for cells in _csv_cells(export_rows(queryset)):
        batch.append(cells)
        if len(batch) >= BATCH_SIZE:
            writerows(batch)
            yield len(batch), buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            batch = []
    if batch:
        writerows(batch)
        yield len(batch), buffer.getvalue()


def csv_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """The header, then the CSV lines of ``queryset`` in batches (the Python writer)."""
    yield CSV_HEADER
    for _count, text in _csv_batches(queryset):
        yield text


def _ref_json(types: _TypeKeys, type_id: int | None, object_id: Any, label: Any) -> Any:
    if type_id is None:
        return None
    return {
        "type": types[type_id],
        "id": "" if object_id is None else str(object_id),
        "label": "" if label is None else label,
    }


def _jsonl_line_texts(queryset: QuerySet[Any]) -> Iterator[str]:
    types = _TypeKeys()
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for row in export_rows(queryset):
        head = dumps(
            {
                "id": row[0],
                "timestamp": _utc(row[1]),
                "actor": _ref_json(types, row[2], row[3], row[4]),
                "verb": row[5],
                "object": _ref_json(types, row[6], row[7], row[8]),
                "target": _ref_json(types, row[9], row[10], row[11]),
                "public": row[12],
                "description": row[13] or "",
            }
        )
        yield f'{head[:-1]}, "data": {_no_json_null(row[15]) or "{}"}}}\n'


def _batched(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH_SIZE:
            yield len(batch), "".join(batch)
            batch = []
    if batch:
        yield len(batch), "".join(batch)


def jsonl_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """One JSON object per line and per action (JSON Lines), in batches (the Python writer);
    ``data`` spliced in as the database's JSON text."""
    for _count, text in _batched(_jsonl_line_texts(queryset)):
        yield text


# --- the PostgreSQL writer: the database writes the file through COPY ---

# the columns of the compiled queryset, renamed for the outer SELECT (the order of
# ROW_FIELDS, then the app label and model of the three content types)
COPY_COLUMNS = (
    "id",
    "ts",
    "actor_ct",
    "actor_id",
    "actor_label",
    "verb",
    "object_ct",
    "object_id",
    "object_label",
    "target_ct",
    "target_id",
    "target_label",
    "public",
    "description",
    "changes",
    "data",
    "actor_app",
    "actor_model",
    "object_app",
    "object_model",
    "target_app",
    "target_model",
)
TYPE_FIELDS = {
    "aui_actor_app": "actor_content_type__app_label",
    "aui_actor_model": "actor_content_type__model",
    "aui_object_app": "action_object_content_type__app_label",
    "aui_object_model": "action_object_content_type__model",
    "aui_target_app": "target_content_type__app_label",
    "aui_target_model": "target_content_type__model",
}
# defuse_formula as a regular expression (PostgreSQL's ARE): a tab or carriage return first,
# or a formula character after any leading whitespace
FORMULA_PATTERN = (
    "^(?:[\t\r]|["
    + LSTRIP_WHITESPACE
    + "]*["
    + "".join(char for char in FORMULA_CHARACTERS if char != "-")
    + "-])"  # '-' last in the bracket, where it is literal
)
RISKY_CODES = ", ".join(str(code) for code in sorted(ord(char) for char in RISKY_FIRST))


def _defuse_sql(cell: str) -> tuple[str, list[str]]:
    """SQL of :func:`defuse_formula` for the text ``cell`` (NULL stays NULL): the regular
    expression only for the few cells whose first character could start a formula."""
    sql = (
        f"CASE WHEN ascii({cell}) IN ({RISKY_CODES}) AND {cell} ~ %s "
        f"THEN '''' || {cell} ELSE {cell} END"
    )
    return sql, [FORMULA_PATTERN]


def _utc_sql(cell: str) -> str:
    """SQL of ``moment.astimezone(UTC).isoformat()``: microseconds only when not zero."""
    return (
        f"replace(to_char({cell} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
        f"'.000000', '') || '+00:00'"
    )


def _csv_select() -> tuple[str, list[str]]:
    """The cells of a CSV row over the columns ``r.*`` (:data:`COPY_COLUMNS`). Empty cells are
    NULL, which COPY writes as nothing (it writes an empty text as ``""``)."""
    cells = ["r.id", _utc_sql("r.ts"), "r.actor_app || '.' || r.actor_model"]
    params: list[str] = []

    def defused(cell: str) -> str:
        sql, more = _defuse_sql(cell)
        params.extend(more)
        return sql

    cells += [defused("NULLIF(r.actor_id, '')"), defused("NULLIF(r.actor_label, '')")]
    cells.append(defused("NULLIF(r.verb, '')"))
    for role in ("object", "target"):
        present = f"r.{role}_ct IS NOT NULL"
        cells.append(f"CASE WHEN {present} THEN r.{role}_app || '.' || r.{role}_model END")
        for part in ("id", "label"):
            cell = defused(f"NULLIF(r.{role}_{part}, '')")
            cells.append(f"CASE WHEN {present} THEN {cell} END")
    cells.append("CASE WHEN r.public THEN 'true' ELSE 'false' END")
    changes = defused("r.changes")
    cells.append(
        f"CASE WHEN r.changes IN ('null', '{{}}', '[]', '\"\"') THEN NULL ELSE {changes} END"
    )
    cells.append(defused("COALESCE(NULLIF(r.data, 'null'), '{}')"))
    return ", ".join(cells), params


def _json_text_sql(cell: str) -> str:
    """SQL of ``json.dumps(cell, ensure_ascii=False)`` for text: PostgreSQL's escape_json
    escapes the same characters the same way (\\", \\\\, \\b \\f \\n \\r \\t, \\u00XX)."""
    return f"to_json({cell})::text"


def _ref_sql(role: str) -> str:
    """SQL of :func:`_ref_json`: null, or the object's type, id and label."""
    type_key = _json_text_sql(f"r.{role}_app || '.' || r.{role}_model")
    object_id = _json_text_sql(f"COALESCE(r.{role}_id, '')")
    label = _json_text_sql(f"COALESCE(r.{role}_label, '')")
    return (
        f"CASE WHEN r.{role}_ct IS NULL THEN 'null' ELSE "
        f"'{{\"type\": ' || {type_key} || ', \"id\": ' || {object_id} "
        f"|| ', \"label\": ' || {label} || '}}' END"
    )


def _jsonl_select() -> tuple[str, list[str]]:
    """One column: the whole JSON Lines line of a row over ``r.*`` (without its newline)."""
    parts = [
        "'{\"id\": ' || r.id",
        f"', \"timestamp\": \"' || {_utc_sql('r.ts')} || '\"'",
        f"', \"actor\": ' || {_ref_sql('actor')}",
        f"', \"verb\": ' || COALESCE({_json_text_sql('r.verb')}, 'null')",
        f"', \"object\": ' || {_ref_sql('object')}",
        f"', \"target\": ' || {_ref_sql('target')}",
        "', \"public\": ' || CASE r.public WHEN true THEN 'true' WHEN false THEN 'false' "
        "ELSE 'null' END",
        "', \"description\": ' || " + _json_text_sql("COALESCE(r.description, '')"),
        "', \"data\": ' || COALESCE(NULLIF(r.data, 'null'), '{}') || '}'",
    ]
    return " || ".join(parts), []


# COPY's CSV options. For JSON Lines: a delimiter and quote that a line never holds (every
# control character is escaped in JSON), so the one column is never quoted and COPY's rows are
# the lines as they are.
COPY_OPTIONS = {
    "csv": "FORMAT csv",
    "json": "FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'",
}


def copy_statement(queryset: QuerySet[Any], *, format: str) -> tuple[str, list[Any]]:
    """The ``COPY (SELECT …) TO STDOUT`` that writes ``queryset`` as ``format`` ("csv" or
    "json"), and its parameters (bound client-side by psycopg: COPY takes none). Raises
    EmptyResultSet when the queryset can match nothing."""
    rows = _row_values(queryset).annotate(**{name: F(path) for name, path in TYPE_FIELDS.items()})
    inner, inner_params = rows.values_list(*ROW_FIELDS, *TYPE_FIELDS).query.sql_with_params()
    select, params = _csv_select() if format == "csv" else _jsonl_select()
    names = ", ".join(COPY_COLUMNS)
    # the inner query keeps its ORDER BY, so it is not flattened: each row's values are
    # computed once, in order, and the outer SELECT only formats them
    sql = f"COPY (SELECT {select} FROM ({inner}) AS r({names})) TO STDOUT ({COPY_OPTIONS[format]})"
    return sql, [*params, *inner_params]


def copy_supported(alias: str) -> bool:
    """Whether the database of ``alias`` can write exports itself: PostgreSQL through psycopg
    3 (``cursor.copy()``), with aware times (the SQL writes them in UTC)."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return connections[alias].vendor == "postgresql" and is_psycopg3 and settings.USE_TZ


def copy_batches(queryset: QuerySet[Any], *, format: str) -> Iterator[tuple[int, bytes]]:
    """(rows, bytes) of each batch of ``queryset`` written by PostgreSQL's COPY.

    COPY sends one message a row; the rows are joined :data:`BATCH_SIZE` at a time. The
    connection is busy with the COPY until the stream ends or is closed; closed early, psycopg
    cancels the statement and reads what is left in flight, so the connection can serve the
    next request. Inside a transaction (tests, ``ATOMIC_REQUESTS``) the COPY runs in a
    savepoint, rolled back if it is cancelled, so the transaction survives it too."""
    try:
        sql, params = copy_statement(queryset, format=format)
    except EmptyResultSet:
        return
    alias = queryset.db
    connection = connections[alias]
    connection.ensure_connection()
    savepoint = transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext()
    crlf = format == "csv"
    with savepoint, connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        started = time.perf_counter()
        with raw.copy(sql, params) as copy:
            if connection.queries_logged:  # as Django logs a query (DEBUG, tests)
                elapsed = time.perf_counter() - started  # until the COPY began
                ops: Any = connection.ops  # PostgreSQL's: compose_sql() merges the params
                logged = {"sql": ops.compose_sql(sql, params), "time": f"{elapsed:.3f}"}
                connection.queries_log.append(logged)
            batch: list[Any] = []
            for row in copy:  # one row a message
                batch.append(row[:-1] if crlf else row)
                if len(batch) >= BATCH_SIZE:
                    yield len(batch), _joined(batch, crlf=crlf)
                    batch = []
            if batch:
                yield len(batch), _joined(batch, crlf=crlf)


def _joined(rows: list[Any], *, crlf: bool) -> bytes:
    if crlf:  # the rows' LF taken off: CRLF after each, as Python's csv module writes
        return b"\r\n".join(rows) + b"\r\n"
    return b"".join(rows)


# --- the response ---


def export_batches(queryset: QuerySet[Any], *, format: str) -> Iterator[tuple[int, str | bytes]]:
    """(rows, text) of each batch of the export of ``queryset`` as ``format``, CSV's header
    first (0 rows): written by the database where it can (:func:`copy_supported`), else by
    Python."""
    if format == "csv":
        yield 0, CSV_HEADER
    if copy_supported(queryset.db):
        yield from copy_batches(queryset, format=format)
    elif format == "csv":
        yield from _csv_batches(queryset)
    else:
        yield from _batched(_jsonl_line_texts(queryset))


def _logged(batches: Iterator[tuple[int, str | bytes]], *, total: int) -> Iterator[str | bytes]:
    """The batches' text; a progress line in the server's log every :data:`PROGRESS_EVERY`
    rows of a long export, and one at its end."""
    rows = 0
    reported = 0
    started = time.perf_counter()
    for count, text in batches:
        rows += count
        if rows - reported >= PROGRESS_EVERY:
            reported = rows
            logger.info("export: %s of %s rows written", rows, total)
        yield text
    seconds = time.perf_counter() - started
    if rows >= PROGRESS_EVERY:
        logger.info("export: done, %s rows in %.1f s (%.0f rows/s)", rows, seconds, rows / seconds)


def export_response(
    queryset: QuerySet[Any], *, format: str, filename: str
) -> StreamingHttpResponse:
    """A streamed download of ``queryset`` as ``format`` ("csv" or "json"). The number of rows
    comes first, in the ``X-Export-Rows`` header (one capped count), so a client can show
    progress; the server logs progress lines while a long export streams."""
    from activityui.selectors import count_up_to

    total = count_up_to(queryset, limit=EXPORT_COUNT_LIMIT)
    batches = export_batches(queryset, format=format)
    response = StreamingHttpResponse(_logged(batches, total=total), content_type=FORMATS[format])
    response["X-Export-Rows"] = str(total)
    extension = "csv" if format == "csv" else "jsonl"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

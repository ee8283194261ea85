"""Streaming exports of the staff console: CSV and JSON Lines in constant memory.

Rows come from ``QuerySet.values_list(...).iterator(chunk_size=...)`` (a server-side cursor on
PostgreSQL, chunked reads on SQLite) as plain tuples -- labels and changes taken out of the JSON
by the database, ``data`` as JSON text -- and leave as soon as a batch is written, so a million
actions never sit in memory at once and no model instance is built per row. CSV cells that a
spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet, TextField
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse

from activityui.keys import type_key

logger = logging.getLogger("activityui.exports")
EXPORT_COUNT_LIMIT = 100_000_000  # counted exactly below this many rows
PROGRESS_EVERY = 100_000  # rows between two progress lines in the log
CHUNK_SIZE = 5_000  # rows fetched from the database at a time
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


# a formula character after leading whitespace or line breaks still starts a formula in some
# spreadsheets (they trim the cell first); full-width forms too, in some locales
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def defuse_formula(value: str) -> str:
    """A leading ``'`` keeps spreadsheets from running a cell as a formula (CSV injection)."""
    if value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_CHARACTERS):
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
    return {
        "type": _type_key(content_type_id),
        "id": str(getattr(action, f"{role}_object_id")),
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
        _json(changes) if changes else "",
        _json(item["data"]),
    ]
    return [defuse_formula(cell) for cell in cells]


class _Echo:
    """A file-like object whose ``write`` returns what it is given (for ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def _batched(lines: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH_SIZE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


# --- the fast path: raw rows, JSON taken apart by the database, no model instances ---

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


def export_rows(queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """``queryset`` as tuples of :data:`ROW_FIELDS` through a server-side cursor (PostgreSQL;
    chunked reads elsewhere): the labels and ``changes`` come out of the JSON in SQL and
    ``data`` arrives as JSON text, written out as it is (never decoded in Python)."""
    rows = queryset.annotate(
        aui_actor=KT("data__snapshot__actor__label"),
        aui_object=KT("data__snapshot__action_object__label"),
        aui_target=KT("data__snapshot__target__label"),
        aui_changes=Cast(KeyTransform("changes", "data"), TextField()),
        aui_data=Cast("data", TextField()),
    ).values_list(*ROW_FIELDS)
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


def csv_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """The header, then one CSV line per action (a UTF-8 BOM first, for spreadsheets)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    types = _TypeKeys()
    defuse = defuse_formula
    writerow = writer.writerow

    def lines() -> Iterator[str]:
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
        ) in export_rows(queryset):
            has_object = object_type is not None
            has_target = target_type is not None
            changes = _no_json_null(changes)
            # only the cells that carry text from users or objects can hold a formula: ids
            # and types of the database, times, booleans and JSON objects cannot
            yield writerow(
                (
                    str(pk),
                    _utc(timestamp),
                    types[actor_type],
                    defuse(actor_id or ""),
                    defuse(actor or ""),
                    defuse(verb),
                    types[object_type] if has_object else "",
                    defuse(object_id or "") if has_object else "",
                    defuse(object_label or "") if has_object else "",
                    types[target_type] if has_target else "",
                    defuse(target_id or "") if has_target else "",
                    defuse(target_label or "") if has_target else "",
                    "true" if public else "false",
                    "" if changes in ("", "{}", "[]", '""') else defuse(changes),
                    defuse(_no_json_null(data) or "{}"),
                )
            )

    yield from _batched(lines())


def _ref_json(types: _TypeKeys, type_id: int | None, object_id: Any, label: Any) -> Any:
    if type_id is None:
        return None
    return {"type": types[type_id], "id": str(object_id), "label": "" if label is None else label}


def jsonl_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """One JSON object per line and per action (JSON Lines); ``data`` spliced in as stored."""
    types = _TypeKeys()
    dumps = json.JSONEncoder(ensure_ascii=False).encode

    def lines() -> Iterator[str]:
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

    yield from _batched(lines())


def _logged(chunks: Iterator[str], *, total: int) -> Iterator[str]:
    """``chunks`` unchanged; a progress line in the server's log every
    :data:`PROGRESS_EVERY` rows of a long export."""
    rows = 0
    reported = 0
    for chunk in chunks:
        rows += chunk.count("\n")
        if rows - reported >= PROGRESS_EVERY:
            reported = rows
            logger.info("export: %s of %s rows written", rows, total)
        yield chunk


def export_response(
    queryset: QuerySet[Any], *, format: str, filename: str
) -> StreamingHttpResponse:
    """A streamed download of ``queryset`` as ``format`` ("csv" or "json"). The number of rows
    comes first, in the ``X-Export-Rows`` header (one capped count), so a client can show
    progress; the server logs progress lines while a long export streams."""
    from activityui.selectors import count_up_to

    total = count_up_to(queryset, limit=EXPORT_COUNT_LIMIT)
    lines = csv_lines(queryset) if format == "csv" else jsonl_lines(queryset)
    response = StreamingHttpResponse(_logged(lines, total=total), content_type=FORMATS[format])
    response["X-Export-Rows"] = str(total)
    extension = "csv" if format == "csv" else "jsonl"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

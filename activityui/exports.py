"""Streaming exports of the staff console: CSV and JSON Lines in constant memory.

Rows come from ``QuerySet.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL,
chunked reads on SQLite) and leave as soon as a batch is written, so a million actions never
sit in memory at once. CSV cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

CHUNK_SIZE = 2_000  # rows fetched from the database at a time
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
    return f"{content_type.app_label}.{content_type.model}"


def _label(data: dict[str, Any], role: str) -> str:
    snapshot = data.get("snapshot")
    part = snapshot.get(role) if isinstance(snapshot, dict) else None
    label = part.get("label") if isinstance(part, dict) else None
    return "" if label is None else str(label)


def _ref(action: Any, role: str, data: dict[str, Any]) -> dict[str, str] | None:
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
        "actor": _ref(action, "actor", data),
        "verb": action.verb,
        "object": _ref(action, "action_object", data),
        "target": _ref(action, "target", data),
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


def csv_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """The header, then one CSV line per action (a UTF-8 BOM first, for spreadsheets)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    rows = (writer.writerow(csv_row(a)) for a in queryset.iterator(chunk_size=CHUNK_SIZE))
    yield from _batched(rows)


def jsonl_lines(queryset: QuerySet[Any]) -> Iterator[str]:
    """One JSON object per line and per action (JSON Lines)."""
    rows = (_json(action_as_dict(a)) + "\n" for a in queryset.iterator(chunk_size=CHUNK_SIZE))
    yield from _batched(rows)


def export_response(
    queryset: QuerySet[Any], *, format: str, filename: str
) -> StreamingHttpResponse:
    """A streamed download of ``queryset`` as ``format`` ("csv" or "json")."""
    lines = csv_lines(queryset) if format == "csv" else jsonl_lines(queryset)
    response = StreamingHttpResponse(lines, content_type=FORMATS[format])
    extension = "csv" if format == "csv" else "jsonl"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

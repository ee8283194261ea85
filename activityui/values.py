"""The stored forms of values: JSON-safe, truncated, labelled as they read when captured."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.encoding import force_str
from django.utils.functional import Promise

from activityui.conf import app_settings

# The Field API used here spans plain, relational and many-to-many fields (target_field,
# related_model, get_cached_value...), which django-stubs splits across classes.
FieldT = Any

TRUNCATION_MARKER = " […]"


def truncate(text: str, limit: int | None = None) -> str:
    """``text`` cut to ``limit`` characters (default ``MAX_TEXT_LENGTH``), marker included."""
    limit = limit or app_settings.MAX_TEXT_LENGTH
    # PostgreSQL's jsonb refuses NUL characters; keep a visible trace of them
    text = text.replace("\x00", "\ufffd")
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATION_MARKER), 0)] + TRUNCATION_MARKER


def _text(value: Any) -> str:
    try:
        return force_str(value)
    except Exception:  # a broken __str__ must not lose the action
        return f"<{type(value).__name__}>"


def json_safe(value: Any) -> Any:
    """A JSON-serialisable form of ``value`` that still reads well.

    Dates and times become ISO strings, decimals and UUIDs strings, models ``{pk, label}``,
    sets sorted lists, bytes text; long text is truncated; anything else becomes its ``str()``.
    """
    if value is None or isinstance(value, bool | int):
        return value
    for types, convert in _CONVERSIONS:
        if isinstance(value, types):
            return convert(value)
    return truncate(_text(value))


def _finite(value: float) -> float | str:
    # NaN and infinities are not JSON (PostgreSQL's jsonb refuses them)
    return value if math.isfinite(value) else str(value)


# In this order: the first type that matches wins (a str-based enum is a str; datetime is a
# date; an int-based enum never gets here, as ints are returned as they are).
_CONVERSIONS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...] = (
    (float, _finite),
    ((str, Promise), lambda value: truncate(force_str(value))),
    (enum.Enum, lambda value: json_safe(value.value)),
    ((dt.date, dt.time), lambda value: value.isoformat()),
    (dt.timedelta, lambda value: value.total_seconds()),
    ((decimal.Decimal, uuid.UUID), str),
    (
        (bytes, bytearray, memoryview),
        lambda value: truncate(bytes(value).decode("utf-8", "replace")),
    ),
    (models.Model, lambda value: {"pk": json_safe(value.pk), "label": label_of(value)}),
    (dict, lambda value: {truncate(_text(k)): json_safe(v) for k, v in value.items()}),
    ((set, frozenset), lambda value: [json_safe(v) for v in sorted(value, key=_text)]),
    ((list, tuple), lambda value: [json_safe(v) for v in value]),
)


def label_of(obj: models.Model) -> str:
    """The object's ``str()`` (a user's full name when it has one), cut to ``MAX_LABEL_LENGTH``.

    People read "Alice Martin changed…", not "alice changed…"; the username stays findable
    through the actor filters, which match users, not labels.
    """
    text = ""
    get_full_name = getattr(obj, "get_full_name", None)
    if callable(get_full_name):
        try:
            text = _text(get_full_name()).strip()
        except Exception:  # a broken get_full_name must not lose the action
            text = ""
    return truncate(text or _text(obj), app_settings.MAX_LABEL_LENGTH)


def url_of(obj: models.Model) -> str | None:
    """The object's ``get_absolute_url()``, or None when it has none or it fails."""
    get_url = getattr(obj, "get_absolute_url", None)
    if get_url is None:
        return None
    try:
        return str(get_url())
    except Exception:  # a broken get_absolute_url must not lose the action
        return None


def snapshot_of(obj: models.Model | None, *, gone: bool = False) -> dict[str, Any] | None:
    """``{"label", "url"}`` of ``obj`` as it is now (no URL for an object being deleted)."""
    if obj is None:
        return None
    return {"label": label_of(obj), "url": None if gone else url_of(obj)}


def normalise(model_field: FieldT, value: Any) -> Any:
    """The Python value the database will hand back (``"3"`` → 3, ``"2026-01-05"`` → date)."""
    if value is None:
        return None
    target = model_field.target_field if model_field.is_relation else model_field
    try:
        return target.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return value


def stored_value(model_field: FieldT, raw: Any, related: models.Model | None = None) -> Any:
    """The stored form of one field value: choices keep their display text, foreign keys
    their pk and label (``related`` is the object ``raw`` points to, when known)."""
    if raw is None:
        return None
    if model_field.is_relation:
        return {"pk": json_safe(raw), "label": label_of(related) if related is not None else None}
    if model_field.choices:
        display = dict(model_field.flatchoices).get(raw, raw)
        return {
            "value": json_safe(raw),
            "label": truncate(_text(display), app_settings.MAX_LABEL_LENGTH),
        }
    return json_safe(raw)


def related_objects(
    wanted: Iterable[tuple[FieldT, Any]], using: str | None
) -> dict[tuple[Any, Any], models.Model]:
    """Load the objects behind foreign key values, one query per related model."""
    by_model: dict[tuple[Any, str], set[Any]] = {}
    for model_field, raw in wanted:
        if raw is not None:
            key = (model_field.related_model, model_field.target_field.attname)
            by_model.setdefault(key, set()).add(raw)
    found: dict[tuple[Any, Any], models.Model] = {}
    for (model, attname), values in by_model.items():
        manager = model._base_manager.db_manager(using)
        for value, obj in manager.in_bulk(list(values), field_name=attname).items():
            found[(model, value)] = obj
    return found


def cached_related(instance: models.Model, model_field: FieldT, raw: Any) -> Any:
    related = model_field.get_cached_value(instance, default=None)
    if related is not None and getattr(related, model_field.target_field.attname) == raw:
        return related
    return None


def field_changes(
    model: type[models.Model] | models.Model, *, using: str | None = None, **pairs: Any
) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` stored the way capture stores them, for :func:`record`.

    ``field_changes(task, status=("todo", "done"))`` keeps the choices' display text; foreign
    key values may be objects (no query) or pks (one query per related model for labels).
    Names that are not fields of ``model`` are stored JSON-safe as they are.
    """
    model = model if isinstance(model, type) else type(model)
    result: dict[str, list[Any]] = {}
    lookups: list[tuple[FieldT, Any]] = []
    fields: dict[str, FieldT | None] = {}
    for name, (old, new) in pairs.items():
        try:
            model_field = model._meta.get_field(name)
        except Exception:
            model_field = None
        if model_field is not None and (model_field.many_to_many or not model_field.concrete):
            model_field = None
        fields[name] = model_field
        if model_field is not None and model_field.is_relation:
            lookups += [(model_field, v) for v in (old, new) if not isinstance(v, models.Model)]
    found = related_objects(lookups, using) if lookups else {}
    for name, (old, new) in pairs.items():
        model_field = fields[name]
        if model_field is None:
            result[name] = [json_safe(old), json_safe(new)]
            continue
        values = []
        for value in (old, new):
            if model_field.is_relation and isinstance(value, models.Model):
                raw = getattr(value, model_field.target_field.attname)
                values.append(stored_value(model_field, raw, value))
            elif model_field.is_relation:
                raw = normalise(model_field, value)
                values.append(
                    stored_value(model_field, raw, found.get((model_field.related_model, raw)))
                )
            else:
                values.append(stored_value(model_field, normalise(model_field, value)))
        result[name] = values
    return result

"""An object's history beyond the list: who may restore what (the registry), and its tracked
fields as of any entry, read in a fixed number of index probes whatever the length of the
history.

The field-change index (``FieldChange``, kept by database triggers) gives each field's nearest
recorded change on either side of the entry, then one query reads those actions by id; for
many-to-many fields their later changes, the entry itself and the sets now. The values are
then rebuilt by :func:`activityui.reconstruction.reconstruct` (no queries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet, Subquery

from activityui.cursors import Cursor
from activityui.models import FieldChange
from activityui.reconstruction import (
    FieldSpec,
    FieldState,
    Recorded,
    _related,
    reconstruct,
)
from activityui.tracked import tracking_for
from activityui.values import label_of, stored_value

RestoreRule = Callable[[Any, models.Model, str], bool]


# --------------------------------------------------------------------------- registry


@dataclass
class HistoryOptions:
    tracked_since: dict[str, dt.datetime] = field(default_factory=dict)
    restore: RestoreRule | bool | None = None  # None: the model's change permission


_options: dict[type[models.Model], HistoryOptions] = {}


def register_history(
    model: type[models.Model],
    *,
    tracked_since: Mapping[str, dt.datetime] | None = None,
    restore: RestoreRule | bool | None = None,
) -> None:
    """Tell activityui what it cannot know from the history of ``model``'s objects.

    ``tracked_since``: ``{field: aware datetime}`` for fields added to ``track(fields=...)``
    after the model was first tracked; as-of views say "not tracked yet" before that date.
    ``restore``: who may put one recorded value back: ``rule(user, obj, field_name) -> bool``,
    ``False`` for nobody, ``None`` (the default) for users with the model's ``change``
    permission. Seeing the object is required in every case.
    """
    since = dict(tracked_since or {})
    for name, moment in since.items():
        if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
            raise ValueError(f"tracked_since[{name!r}] must be an aware datetime")
    _options[model] = HistoryOptions(tracked_since=since, restore=restore)


def history_options(model: type[models.Model] | None) -> HistoryOptions:
    if model is None:
        return HistoryOptions()
    return _options.get(model) or HistoryOptions()


# --------------------------------------------------------------------------- reading


def field_specs(model: type[models.Model]) -> list[FieldSpec]:
    """The tracked fields of ``model``, in the order ``track()`` names them."""
    tracking = tracking_for(model)
    if tracking is None:
        return []
    specs = []
    for model_field in [*tracking.fields, *tracking.m2m_fields]:
        if model_field.many_to_many:
            kind = "m2m"
        elif model_field.is_relation:
            kind = "fk"
        elif model_field.choices:
            kind = "choice"
        elif isinstance(model_field, models.CharField | models.TextField):
            kind = "text"
        else:
            kind = "other"
        specs.append(FieldSpec(model_field.name, str(model_field.verbose_name), kind))
    return specs


def current_values(obj: models.Model, specs: Sequence[FieldSpec]) -> dict[str, Any]:
    """The stored form of ``obj``'s tracked fields now (texts whole: they are not recorded);
    one query per many-to-many field, one per foreign key whose object is not loaded."""
    values: dict[str, Any] = {}
    for spec in specs:
        model_field: Any = obj._meta.get_field(spec.name)
        if spec.kind == "m2m":
            related = getattr(obj, spec.name).all()
            values[spec.name] = [{"pk": str(r.pk), "label": label_of(r)} for r in related]
            continue
        raw = getattr(obj, model_field.attname)
        if spec.kind == "fk":
            values[spec.name] = stored_value(model_field, raw, getattr(obj, spec.name))
        elif spec.kind == "text" and isinstance(raw, str):
            values[spec.name] = raw
        else:
            values[spec.name] = stored_value(model_field, raw)
    return values


def _object_actions(content_type: ContentType, object_id: str) -> Any:
    return Action.objects.filter(
        action_object_content_type=content_type, action_object_object_id=str(object_id)
    )


def _recorded(row: tuple[Any, ...]) -> Recorded:
    pk, timestamp, changes, actor = row
    return Recorded(
        id=pk,
        timestamp=timestamp,
        changes=changes if isinstance(changes, dict) else {},
        actor=str(actor) if isinstance(actor, str) else "",
    )


_ROW = ("id", "timestamp", "data__changes", "data__snapshot__actor__label")


def _changes_of(
    content_type: ContentType, object_id: str, names: Iterable[str]
) -> QuerySet[FieldChange]:
    return FieldChange.objects.filter(
        content_type=content_type, object_id=str(object_id), field__in=list(names)
    )


def _changes_after(changes: QuerySet[FieldChange], at: tuple[dt.datetime, int]) -> Any:
    # a timestamp range the index serves, less the few rows at ``at``'s own timestamp
    return changes.filter(timestamp__gte=at[0]).exclude(timestamp=at[0], action_id__lte=at[1])


def _changes_at_or_before(changes: QuerySet[FieldChange], at: tuple[dt.datetime, int]) -> Any:
    return changes.filter(timestamp__lte=at[0]).exclude(timestamp=at[0], action_id__gt=at[1])


def recorded_after(
    content_type: ContentType,
    object_id: str,
    at: tuple[dt.datetime, int],
    names: Iterable[str],
) -> list[Recorded]:
    """The recorded changes of the fields ``names`` of the object after ``at``, oldest first
    (one query: a range of the field-change index, then those actions by id)."""
    names = list(names)
    if not names:
        return []
    later = _changes_after(_changes_of(content_type, object_id, names), at)
    rows = Action.objects.filter(pk__in=later.values("action_id"))
    return [_recorded(row) for row in rows.order_by("timestamp", "id").values_list(*_ROW)]


def nearest_changes(
    content_type: ContentType,
    object_id: str,
    at: tuple[dt.datetime, int],
    names: Iterable[str],
) -> tuple[dict[str, Recorded | None], dict[str, Recorded | None]]:
    """Per field, the last recorded change to it at or before ``at`` and the first one after.

    One query whatever the length of the history: per field, two probes of the field-change
    index (the nearest row on each side of ``at``) as scalar subqueries, and the actions they
    name by primary key.
    """
    names = list(names)
    if not names:
        return {}, {}
    wanted = Q()
    for name in names:
        changes = _changes_of(content_type, object_id, [name])
        older = _changes_at_or_before(changes, at).order_by("-timestamp", "-action_id")
        newer = _changes_after(changes, at).order_by("timestamp", "action_id")
        wanted |= Q(pk=Subquery(older.values("action_id")[:1]))
        wanted |= Q(pk=Subquery(newer.values("action_id")[:1]))
    rows = [_recorded(row) for row in Action.objects.filter(wanted).values_list(*_ROW)]
    # each field's nearest change on either side is among the rows: take the closest
    before: dict[str, Recorded | None] = {}
    after: dict[str, Recorded | None] = {}
    for name in names:
        olders = [r for r in rows if r.position <= at and name in r.changes]
        newers = [r for r in rows if r.position > at and name in r.changes]
        before[name] = max(olders, key=lambda r: r.position) if olders else None
        after[name] = min(newers, key=lambda r: r.position) if newers else None
    return before, after


@dataclass(frozen=True)
class ObjectState:
    """An object's tracked fields at one point (``at`` None: now)."""

    at: tuple[dt.datetime, int] | None
    fields: tuple[FieldState, ...]

    def get(self, name: str) -> FieldState | None:
        return next((f for f in self.fields if f.name == name), None)


def state_now(obj: models.Model, specs: Sequence[FieldSpec]) -> ObjectState:
    values = current_values(obj, specs)
    states = []
    for spec in specs:
        value = values.get(spec.name)
        if spec.kind == "m2m":
            value = sorted(
                (r for r in (_related(v) for v in value or []) if r is not None),
                key=lambda r: (r.label.casefold(), r.pk),
            )
        states.append(FieldState(spec, value))
    return ObjectState(None, tuple(states))


def state_as_of(
    *,
    model: type[models.Model],
    content_type: ContentType,
    object_id: str,
    obj: models.Model | None,
    at: Cursor,
    specs: Sequence[FieldSpec] | None = None,
    current: Mapping[str, Any] | None = None,
) -> ObjectState:
    """The object's tracked fields right after the action at ``at`` (see the module's doc).

    ``obj`` None: the object is deleted; ``current``: its values now, when already read."""
    specs = list(specs if specs is not None else field_specs(model))
    position = (at.timestamp, at.id)
    if current is None and obj is not None:
        current = current_values(obj, specs)
    simple = [s.name for s in specs if s.kind != "m2m"]
    m2m = [s.name for s in specs if s.kind == "m2m"]
    last_before, first_after = nearest_changes(content_type, object_id, position, simple)
    # the first change after ``at`` of each simple field, and every later m2m change
    newer = {r.id: r for r in first_after.values() if r is not None}
    for record in recorded_after(content_type, object_id, position, m2m):
        newer[record.id] = record
    entry = None
    if m2m:
        rows = _object_actions(content_type, object_id).filter(pk=at.id).values_list(*_ROW)
        entry = next((_recorded(row) for row in rows), None)
    states = reconstruct(
        specs,
        at=position,
        current=current,
        newer=list(newer.values()),
        last_before=last_before,
        tracked_since=history_options(model).tracked_since,
        entry=entry,
    )
    return ObjectState(position, tuple(states))


def missing_related(
    model: type[models.Model], states: Sequence[ObjectState]
) -> set[tuple[str, str]]:
    """``(field, pk)`` of the foreign keys and many-to-many items in ``states`` whose object no
    longer exists: one query per related model."""
    named = [
        (field_state.name, model._meta.get_field(field_state.name).related_model, pk)
        for state in states
        for field_state in state.fields
        if field_state.spec.kind in {"fk", "m2m"}
        for pk in related_pks(field_state)
    ]
    wanted: dict[Any, set[str]] = {}
    for _name, related_model, pk in named:
        wanted.setdefault(related_model, set()).add(pk)
    existing = {related: _existing(related, pks) for related, pks in wanted.items()}
    return {(name, pk) for name, related, pk in named if pk not in existing[related]}


def _existing(related_model: Any, pks: Iterable[str]) -> set[str]:
    """Which of ``pks`` (as text) are keys of rows of ``related_model`` (one query)."""
    valid = []
    for pk in pks:
        try:
            valid.append(related_model._meta.pk.to_python(pk))
        except Exception:  # not a pk of this model any more: it cannot exist
            continue
    found = related_model._base_manager.filter(pk__in=valid).values_list("pk", flat=True)
    return {str(pk) for pk in found}


def related_pks(state: FieldState) -> list[str]:
    """The pks of the related objects a foreign key or many-to-many value names."""
    if state.spec.kind == "m2m":
        return [ref.pk for ref in state.value or []]
    if state.spec.kind == "fk":
        ref = _related(state.value)
        return [ref.pk] if ref is not None else []
    return []

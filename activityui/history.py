"""Reconstruction: an object's tracked field values as of any entry of its history.

The values are rebuilt from what capture recorded (``Action.data["changes"]``), never guessed:

* a field's value right after the action at position ``P`` is the *old* value of the first
  recorded change to that field after ``P`` (or the current value when there is none), and
  equally the *new* value of the last recorded change at or before ``P``;
* when both are known and disagree, the field changed without a record in between (inside
  ``activityui.paused()``, a ``QuerySet.update()``, raw SQL): the value at ``P`` is one of the
  two and the result says so (``UNKNOWN``) instead of picking one;
* a text cut at ``MAX_TEXT_LENGTH`` is known only in part (``PARTIAL``);
* before the date a field started being tracked (``register_history(..., tracked_since=...)``)
  nothing is known of it;
* a deleted object has no current values: its fields are known from its recorded changes only.

The pure part (:func:`reconstruct`) takes the rows and returns :class:`FieldState` objects; the
reading part (:func:`state_as_of`) costs a fixed number of queries whatever the length of the
history, each a few index probes: the field-change index (``FieldChange``, kept by database
triggers) gives each field's nearest recorded change on either side of the entry, then those
actions by id; for many-to-many fields their later changes, the entry itself and the sets now.
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

from activityui.capture import TRUNCATION_MARKER, label_of, stored_value, tracking_for
from activityui.conf import app_settings
from activityui.cursors import Cursor
from activityui.models import FieldChange

EXACT = "exact"
PARTIAL = "partial"  # text cut when it was recorded: its beginning is known
UNKNOWN = "unknown"

# why a value is not exact
REASON_CUT = "cut"
REASON_GAP = "gap"  # changed without a record (paused(), update(), raw SQL)
REASON_NOT_TRACKED = "not_tracked"  # before the field was tracked
REASON_NO_RECORD = "no_record"  # a deleted object whose field no change ever mentioned
REASON_M2M_GAP = "m2m_gap"  # the recorded additions and removals do not add up

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


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Recorded:
    """One recorded action on the object, as reconstruction needs it."""

    id: int
    timestamp: dt.datetime
    changes: Mapping[str, Any]
    actor: str = ""  # the actor's label at the time

    @property
    def position(self) -> tuple[dt.datetime, int]:
        return (self.timestamp, self.id)


@dataclass(frozen=True)
class Related:
    """One related object in a value (a foreign key, or an item of a many-to-many set)."""

    pk: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    verbose_name: str
    kind: str  # "text", "choice", "fk", "m2m", "other"


@dataclass(frozen=True)
class FieldState:
    """A tracked field as of one point: its stored value and how sure that value is."""

    spec: FieldSpec
    value: Any  # the stored form (as in ``changes``); a list of Related for m2m
    certainty: str = EXACT
    reason: str = ""
    # for REASON_GAP: the two values it was between, and when they were recorded
    candidates: tuple[Any, ...] = ()
    since: dt.datetime | None = None  # for REASON_NOT_TRACKED
    set_by: Recorded | None = None  # the recorded change that set this value, when known

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def known(self) -> bool:
        return self.certainty == EXACT


def is_cut(value: Any) -> bool:
    """Was this text cut at ``MAX_TEXT_LENGTH`` when it was recorded?"""
    return (
        isinstance(value, str)
        and value.endswith(TRUNCATION_MARKER)
        and len(value) >= app_settings.MAX_TEXT_LENGTH
    )


def comparable(value: Any) -> Any:
    """What two stored values of one field must share to be the same value: a choice's raw
    value, a foreign key's pk (labels are snapshots and change when the object is renamed)."""
    if isinstance(value, dict):
        if "pk" in value:
            return ("pk", str(value["pk"]))
        if "value" in value:
            return ("value", value["value"])
    if isinstance(value, list):
        return tuple(sorted(str(comparable(v)) for v in value))
    return value


def same_value(a: Any, b: Any) -> bool:
    """The same stored value, where a cut text matches any text that starts like it."""
    if isinstance(a, str) and isinstance(b, str):
        if is_cut(a) and not is_cut(b):
            return b.startswith(a[: -len(TRUNCATION_MARKER)])
        if is_cut(b) and not is_cut(a):
            return a.startswith(b[: -len(TRUNCATION_MARKER)])
    return bool(comparable(a) == comparable(b))


# --------------------------------------------------------------------------- the pure part

_MISSING: Any = object()


def _pair(changes: Mapping[str, Any], name: str) -> tuple[Any, Any] | None:
    value = changes.get(name)
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None


def _m2m_delta(changes: Mapping[str, Any], name: str) -> tuple[list[Any], list[Any]] | None:
    value = changes.get(name)
    if isinstance(value, dict) and ("added" in value or "removed" in value):
        return list(value.get("added") or []), list(value.get("removed") or [])
    return None


def _related(value: Any) -> Related | None:
    if isinstance(value, dict) and value.get("pk") is not None:
        label = value.get("label")
        return Related(pk=str(value["pk"]), label=str(label) if label is not None else "")
    return None


def reconstruct(
    specs: Sequence[FieldSpec],
    *,
    at: tuple[dt.datetime, int],
    current: Mapping[str, Any] | None,
    newer: Sequence[Recorded],
    last_before: Mapping[str, Recorded | None],
    tracked_since: Mapping[str, dt.datetime] | None = None,
    entry: Recorded | None = None,
) -> list[FieldState]:
    """The tracked fields right after the action at position ``at`` (timestamp, id).

    ``current``: the stored form of each field now (None for a deleted object; many-to-many
    fields as lists of ``{"pk", "label"}``); ``newer``: the recorded actions after ``at``, in
    any order; ``last_before``: per simple field, the last recorded action at or before ``at``
    that changed it; ``entry``: the action at ``at`` itself, when it is the object's (what it
    added to or removed from a many-to-many set is known right after it). Pure: no queries.
    """
    since = tracked_since or {}
    ordered = sorted(newer, key=lambda r: r.position)
    states = []
    for spec in specs:
        started = since.get(spec.name)
        if started is not None and at[0] < started:
            states.append(FieldState(spec, None, UNKNOWN, REASON_NOT_TRACKED, since=started))
        elif spec.kind == "m2m":
            states.append(_m2m_state(spec, current, ordered, entry))
        else:
            states.append(_simple_state(spec, current, ordered, last_before.get(spec.name)))
    return states


def _first_change(ordered: Sequence[Recorded], name: str) -> tuple[Any, Recorded | None]:
    """The old value of the first of ``ordered`` that changed ``name``, and that record."""
    for record in ordered:
        pair = _pair(record.changes, name)
        if pair is not None:
            return pair[0], record
    return _MISSING, None


def _simple_state(
    spec: FieldSpec,
    current: Mapping[str, Any] | None,
    ordered: Sequence[Recorded],
    before_record: Recorded | None,
) -> FieldState:
    """One field that is not many-to-many: the value after ``at`` is the old value of the next
    change (or the current value), and the new value of the last change at or before it."""
    after, after_record = _first_change(ordered, spec.name)
    if after is _MISSING and current is not None:
        after = current.get(spec.name)
    pair = _pair(before_record.changes, spec.name) if before_record is not None else None
    before: Any = pair[1] if pair is not None else _MISSING
    if after is not _MISSING and before is not _MISSING and not same_value(after, before):
        # an unrecorded change between the two records: before or after ``at``?
        return FieldState(
            spec, None, UNKNOWN, REASON_GAP, candidates=(before, after), set_by=before_record
        )
    if after is _MISSING and before is _MISSING:
        return FieldState(spec, None, UNKNOWN, REASON_NO_RECORD)
    # prefer the current value (never cut) over a recorded one
    value = after if after is not _MISSING and after_record is None else _MISSING
    if value is _MISSING:
        value = before if before is not _MISSING else after
        if is_cut(after) and before is not _MISSING and not is_cut(before):
            value = before
    if is_cut(value):
        return FieldState(spec, value, PARTIAL, REASON_CUT, set_by=before_record)
    return FieldState(spec, value, set_by=before_record)


def _refs(values: Iterable[Any]) -> list[Related]:
    return [ref for ref in (_related(value) for value in values) if ref is not None]


def _undo(items: dict[str, Related], record: Recorded, name: str) -> bool:
    """Undo one record's additions and removals of ``name`` in ``items``; False when they do
    not add up with what is there (a change made without a record)."""
    delta = _m2m_delta(record.changes, name)
    if delta is None:
        return True
    consistent = True
    added, removed = delta
    for ref in _refs(added):
        consistent = consistent and ref.pk in items  # added, but not there: removed unrecorded
        items.pop(ref.pk, None)
    for ref in _refs(removed):
        consistent = consistent and ref.pk not in items  # removed, but there: added unrecorded
        items[ref.pk] = ref
    return consistent


def _redo(items: dict[str, Related], record: Recorded | None, name: str) -> bool:
    """Apply the entry's own change of ``name`` (it holds right after the entry, whatever the
    later records say); False when the later records disagreed with it."""
    delta = _m2m_delta(record.changes, name) if record is not None else None
    if delta is None:
        return True
    consistent = True
    for ref in _refs(delta[0]):
        consistent = consistent and ref.pk in items
        items.setdefault(ref.pk, ref)
    for ref in _refs(delta[1]):
        consistent = consistent and ref.pk not in items
        items.pop(ref.pk, None)
    return consistent


def _m2m_state(
    spec: FieldSpec,
    current: Mapping[str, Any] | None,
    ordered: Sequence[Recorded],
    entry: Recorded | None = None,
) -> FieldState:
    if current is None:
        return FieldState(spec, None, UNKNOWN, REASON_NO_RECORD)
    items = {ref.pk: ref for ref in _refs(current.get(spec.name) or [])}
    consistent = True
    for record in reversed(ordered):  # undo, newest first
        consistent = _undo(items, record, spec.name) and consistent
    consistent = _redo(items, entry, spec.name) and consistent
    value = sorted(items.values(), key=lambda r: (r.label.casefold(), r.pk))
    if not consistent:
        return FieldState(spec, value, UNKNOWN, REASON_M2M_GAP)
    return FieldState(spec, value)


def differs(a: FieldState, b: FieldState) -> bool:
    """Do two states of one field hold different values (unknown values never differ)?"""
    if a.certainty == UNKNOWN or b.certainty == UNKNOWN:
        return False
    if a.spec.kind == "m2m":
        return {r.pk for r in a.value or []} != {r.pk for r in b.value or []}
    return not same_value(a.value, b.value)


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

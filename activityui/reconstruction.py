"""Rebuilding tracked field values at a point of an object's history from recorded changes:
the pure part (no queries) that :mod:`activityui.history` feeds with rows.

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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from activityui.conf import app_settings
from activityui.values import TRUNCATION_MARKER

EXACT = "exact"
PARTIAL = "partial"  # text cut when it was recorded: its beginning is known
UNKNOWN = "unknown"

# why a value is not exact
REASON_CUT = "cut"
REASON_GAP = "gap"  # changed without a record (paused(), update(), raw SQL)
REASON_NOT_TRACKED = "not_tracked"  # before the field was tracked
REASON_NO_RECORD = "no_record"  # a deleted object whose field no change ever mentioned
REASON_M2M_GAP = "m2m_gap"  # the recorded additions and removals do not add up


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

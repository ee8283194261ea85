"""The history panel's table: an object's tracked fields at two points as the reader sees them
(a value, or why it cannot be known; deleted related objects said so; long texts diffed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from activityui.diffs import LONG_TEXT, DiffPart, condense_diff, word_diff
from activityui.history import ObjectState, missing_related
from activityui.presenters import change_value, model_field_named
from activityui.reconstruction import (
    EXACT,
    PARTIAL,
    REASON_CUT,
    REASON_GAP,
    REASON_M2M_GAP,
    REASON_NOT_TRACKED,
    UNKNOWN,
    FieldState,
    differs,
)

REASON_GONE = "gone"  # the object is deleted: it has no value now


@dataclass(frozen=True)
class Shown:
    """One side of a field row: the value as text and what is uncertain about it."""

    text: str
    note: str = ""
    certainty: str = EXACT
    long: bool = False  # a text long enough to read as a block


@dataclass(frozen=True)
class FieldRow:
    field: str
    name: str
    left: Shown
    right: Shown
    changed: bool
    diff: tuple[DiffPart, ...] = ()


def when_text(moment: Any) -> str:
    from django.utils import timezone

    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _shown(model: type[models.Model], state: FieldState, missing: set[tuple[str, str]]) -> Shown:
    model_field = model_field_named(model, state.name)
    if state.certainty == UNKNOWN and state.reason != REASON_M2M_GAP:
        return _unknown(model_field, state)
    if state.spec.kind == "m2m":
        return _shown_set(state, missing)
    text = change_value(model_field, state.value)
    note = ""
    if (
        state.spec.kind == "fk"
        and isinstance(state.value, dict)
        and (state.name, str(state.value.get("pk"))) in missing
    ):
        text = _("%(label)s (deleted)") % {"label": text}
    if state.certainty == PARTIAL and state.reason == REASON_CUT:
        note = _("Only the beginning of this text was recorded.")
    return Shown(text, note, state.certainty, long=state.spec.kind == "text" and len(text) > 80)


def _unknown(model_field: Any, state: FieldState) -> Shown:
    """A value that cannot be known, and why."""
    if state.reason == REASON_NOT_TRACKED:
        note = _("Not known: this field is recorded only since %(date)s.") % {
            "date": when_text(state.since)
        }
    elif state.reason == REASON_GAP:
        before, after = (change_value(model_field, v) for v in state.candidates)
        note = _(
            "Not known: it changed without being recorded (an import or a bulk change), "
            "from “%(before)s” to “%(after)s”, before or after this point."
        ) % {"before": before, "after": after}
    elif state.reason == REASON_GONE:
        note = capfirst(pgettext("object state", "deleted"))
    else:
        note = _("Not known: no recorded change mentions this field.")
    return Shown("", note, UNKNOWN)


def _shown_set(state: FieldState, missing: set[tuple[str, str]]) -> Shown:
    """A many-to-many value: its items' labels, a deleted one said so."""
    parts = []
    for ref in state.value or []:
        label = ref.label or f"#{ref.pk}"
        if (state.name, ref.pk) in missing:
            label = _("%(label)s (deleted)") % {"label": label}
        parts.append(label)
    note = ""
    if state.reason == REASON_M2M_GAP:
        note = _("May be incomplete: some of its changes were not recorded.")
    return Shown(", ".join(parts) or "—", note, state.certainty)


def field_rows(model: type[models.Model], left: ObjectState, right: ObjectState) -> list[FieldRow]:
    missing = missing_related(model, [left, right])
    rows = []
    for a in left.fields:
        b = right.get(a.name)
        if b is None:
            continue
        shown_a, shown_b = _shown(model, a, missing), _shown(model, b, missing)
        diff: tuple[DiffPart, ...] = ()
        changed = differs(a, b)
        if (
            changed
            and a.spec.kind == "text"
            and isinstance(a.value, str)
            and isinstance(b.value, str)
            and max(len(a.value), len(b.value)) >= LONG_TEXT  # as the timeline shows texts
        ):
            diff = condense_diff(word_diff(a.value, b.value))
        rows.append(FieldRow(a.name, a.spec.verbose_name, shown_a, shown_b, changed, diff))
    return rows

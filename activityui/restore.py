"""Restore one value: put a field back to the old value of a recorded change.

The value goes back through the model's own ``save()`` (capture records it as ``restored``,
with a link to the change it undid); history is never edited. Who may restore is the host's
decision (:func:`activityui.history.register_history`), by default the model's ``change``
permission; seeing the object is always required, and a foreign key or many-to-many item
goes back only to an object that still exists and that the user may see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from actstream.models import Action
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from activityui.context import annotating
from activityui.cursors import encode_cursor
from activityui.history import current_values, field_specs, history_options
from activityui.reconstruction import FieldSpec, comparable, is_cut, same_value
from activityui.tracked import tracking_for
from activityui.visibility import Viewer, can_see


class RestoreRefused(Exception):
    """The value cannot be restored (the message says why, for the user)."""


@dataclass(frozen=True)
class RestorePlan:
    spec: FieldSpec
    action_id: int
    action_timestamp: dt.datetime
    action_actor: str
    restored: Any  # the stored value to put back (m2m: {"added": [...], "removed": [...]})
    recorded_new: Any  # what the undone change set
    current: Any  # the stored value now

    @property
    def conflict(self) -> bool:
        """Has the field changed since the undone change?"""
        if self.spec.kind == "m2m":
            return not _m2m_still(self.recorded_new, self.current)
        return not same_value(self.current, self.recorded_new)

    @property
    def already(self) -> bool:
        """Does the field hold the restored value already?"""
        if self.spec.kind == "m2m":
            return _m2m_still(self.restored, self.current)
        return same_value(self.current, self.restored)

    @property
    def expected(self) -> str:
        """The current value as the confirmation form carries it (compared again on POST)."""
        return json.dumps(comparable(self.current), sort_keys=True, default=str)

    @property
    def cursor(self) -> str:
        return encode_cursor(self.action_timestamp, self.action_id)


def _m2m_still(delta: Any, current: Any) -> bool:
    """Do the current items still reflect ``delta`` (its additions present, removals absent)?"""
    present = {str(item.get("pk")) for item in current or [] if isinstance(item, dict)}
    added = {str(v.get("pk")) for v in delta.get("added") or [] if isinstance(v, dict)}
    removed = {str(v.get("pk")) for v in delta.get("removed") or [] if isinstance(v, dict)}
    return added <= present and not (removed & present)


def may_restore(user: Viewer, obj: models.Model, field: str | None = None) -> bool:
    """The host's rule (default: the model's ``change`` permission), for users who can see
    ``obj``. ``field`` None: may the user restore anything of ``obj``?"""
    if user is None or not user.is_authenticated or tracking_for(type(obj)) is None:
        return False
    rule = history_options(type(obj)).restore
    if rule is False:
        return False
    if not can_see(user, obj):
        return False
    if rule is None or rule is True:
        opts = obj._meta
        return bool(user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))
    if field is None:
        return True  # the rule decides per field
    return bool(rule(user, obj, field))


def restorable_fields(user: Viewer, obj: models.Model) -> frozenset[str]:
    """The tracked fields of ``obj`` the user may restore (none when the object is hidden)."""
    if not may_restore(user, obj):
        return frozenset()
    rule = history_options(type(obj)).restore
    names = [spec.name for spec in field_specs(type(obj))]
    if callable(rule):
        return frozenset(name for name in names if rule(user, obj, name))
    return frozenset(names)


def plan_restore(*, obj: models.Model, action: Action, field: str) -> RestorePlan:
    """What restoring ``field`` from ``action`` (a recorded change of ``obj``) would do."""
    specs = {spec.name: spec for spec in field_specs(type(obj))}
    spec = specs.get(field)
    data = action.data if isinstance(action.data, dict) else {}
    raw_changes = data.get("changes")
    changes: dict[str, Any] = raw_changes if isinstance(raw_changes, dict) else {}
    value = changes.get(field) if spec is not None else None
    if spec is None or value is None:
        raise RestoreRefused(_("This change did not record that field."))
    snapshot = data.get("snapshot") if isinstance(data.get("snapshot"), dict) else {}
    actor = (snapshot.get("actor") or {}) if isinstance(snapshot, dict) else {}
    actor_label = str(actor.get("label") or "") if isinstance(actor, dict) else ""
    current = current_values(obj, [spec])[field]
    if spec.kind == "m2m":
        if not isinstance(value, dict):
            raise RestoreRefused(_("This change did not record that field."))
        recorded_new = {"added": value.get("added") or [], "removed": value.get("removed") or []}
        restored = {"added": recorded_new["removed"], "removed": recorded_new["added"]}
    else:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise RestoreRefused(_("This change did not record that field."))
        restored, recorded_new = value[0], value[1]
        if is_cut(restored):
            raise RestoreRefused(
                _("Only the beginning of the old text was recorded: it cannot be restored.")
            )
    return RestorePlan(
        spec=spec,
        action_id=action.pk,
        action_timestamp=action.timestamp,
        action_actor=actor_label,
        restored=restored,
        recorded_new=recorded_new,
        current=current,
    )


def _related_object(user: Viewer, model_field: Any, stored: Any) -> models.Model:
    pk = stored.get("pk") if isinstance(stored, dict) else None
    related_model = model_field.related_model
    try:
        raw = related_model._meta.pk.to_python(pk)
    except ValidationError as exc:
        raise RestoreRefused(_("That object no longer exists.")) from exc
    found: models.Model | None = related_model._default_manager.filter(pk=raw).first()
    if found is None or not can_see(user, found):
        label = stored.get("label") if isinstance(stored, dict) else ""
        raise RestoreRefused(
            _("“%(label)s” no longer exists or is not visible to you: it cannot be restored.")
            % {"label": label or f"#{pk}"}
        )
    return found


def _python_value(user: Viewer, model_field: Any, stored: Any) -> Any:
    if stored is None:
        return None
    if model_field.is_relation:
        return _related_object(user, model_field, stored)
    if isinstance(stored, dict) and "value" in stored:
        stored = stored["value"]
    if isinstance(model_field, models.DurationField) and isinstance(stored, int | float):
        return dt.timedelta(seconds=stored)
    try:
        return model_field.to_python(stored)
    except ValidationError as exc:
        raise RestoreRefused("; ".join(exc.messages)) from exc


def apply_restore(
    *, user: Viewer, obj: models.Model, action: Action, field: str, expected: str | None
) -> RestorePlan:
    """Restore ``field`` of ``obj`` to its value before ``action``, in one transaction with the
    row locked. Raises :class:`RestoreRefused`, or returns the plan with ``conflict`` True and
    nothing saved when the field changed since and ``expected`` (the current value the user
    was shown and confirmed) no longer matches."""
    model = type(obj)
    with transaction.atomic(using=obj._state.db):
        locked = model._default_manager.select_for_update().filter(pk=obj.pk).first()
        if locked is None:
            raise RestoreRefused(_("This object no longer exists: it cannot be restored."))
        plan = plan_restore(obj=locked, action=action, field=field)
        if plan.already:
            return plan
        if plan.conflict and expected != plan.expected:
            return plan  # ask (again): the user has not seen the value it would overwrite
        model_field: Any = model._meta.get_field(field)
        note = {
            "field": field,
            "action": plan.action_id,
            "cursor": plan.cursor,
            "actor": plan.action_actor,
            "timestamp": plan.action_timestamp,
        }
        with annotating("restored", restored=note):
            if plan.spec.kind == "m2m":
                manager = getattr(locked, field)
                adds = [_related_object(user, model_field, v) for v in plan.restored["added"]]
                removes = [v.get("pk") for v in plan.restored["removed"] if isinstance(v, dict)]
                related_model = model_field.related_model
                present = set(manager.values_list("pk", flat=True))
                adds = [item for item in adds if item.pk not in present]
                gone = [
                    item
                    for item in related_model._base_manager.filter(pk__in=removes)
                    if item.pk in present
                ]
                if gone:
                    manager.remove(*gone)
                if adds:
                    manager.add(*adds)
            else:
                value = _python_value(user, model_field, plan.restored)
                setattr(locked, field, value)
                others = [f.name for f in model._meta.concrete_fields if f.name != field]
                try:
                    locked.clean_fields(exclude=others)
                except ValidationError as exc:
                    raise RestoreRefused("; ".join(exc.messages)) from exc
                locked.save()
    return plan

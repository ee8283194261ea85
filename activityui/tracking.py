"""Tracking: ``track()`` and the model signals that turn saves and deletes into actions."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, cast

from django.db import models
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)

from activityui.context import current_actor, current_annotation, is_paused
from activityui.recording import build_action, is_unsaved, record
from activityui.tracked import TargetSpec, Tracking, _m2m_through, _tracked
from activityui.values import (
    FieldT,
    cached_related,
    json_safe,
    label_of,
    normalise,
    related_objects,
    stored_value,
)

_SNAPSHOT_ATTR = "_activityui_initial"
_PENDING_ATTR = "_activityui_pending"
_CLEARING_ATTR = "_activityui_clearing"
_DELETING_ATTR = "_activityui_deleting"
_PLACE_ATTR = "_activityui_place"  # the target foreign key's value when loaded or last saved


def _update_verb(tracking: Tracking) -> tuple[str, dict[str, Any]]:
    annotation = current_annotation()
    if annotation is None:
        return tracking.verb("updated"), {}
    return annotation


def track(
    model: type[models.Model] | None = None,
    *,
    fields: Iterable[str] = (),
    target: TargetSpec = None,
    verbs: dict[str, str] | None = None,
) -> Any:
    """Record ``created``, ``updated`` (with field changes) and ``deleted`` for ``model``.

    ``fields``: names of the fields whose changes are recorded (many-to-many allowed);
    an update that changes none of them records nothing. ``target``: a field name or a
    callable giving the object the action happened in (e.g. the task's project); when it is
    a foreign key, a change of it records ``moved`` in the old place and in the new one.
    ``verbs``: rename the events, e.g. ``{"updated": "edited"}``.
    Usable as ``track(Task, fields=[...])`` or as a class decorator ``@track(fields=[...])``.
    Calling it again for the same model replaces its tracking.
    """

    def register(cls: type[models.Model]) -> type[models.Model]:
        concrete: list[FieldT] = [cls._meta.get_field(name) for name in fields]
        for model_field in concrete:
            if model_field.auto_created or not (model_field.concrete or model_field.many_to_many):
                raise ValueError(
                    f"{cls._meta.label}.{model_field.name} cannot be tracked: only the model's "
                    "own fields (and many-to-many fields) can"
                )
        if isinstance(target, str) and not hasattr(cls, target):
            raise ValueError(f"{cls._meta.label} has no {target!r} to use as target")
        m2m = [f for f in concrete if f.many_to_many]
        simple = [f for f in concrete if not f.many_to_many]
        _tracked[cls] = Tracking(cls, simple, m2m, target, dict(verbs or {}))
        uid = f"activityui:{cls._meta.label}"
        post_init.connect(_remember, sender=cls, weak=False, dispatch_uid=uid)
        pre_save.connect(_before_save, sender=cls, weak=False, dispatch_uid=uid)
        post_save.connect(_after_save, sender=cls, weak=False, dispatch_uid=uid)
        pre_delete.connect(_before_delete, sender=cls, weak=False, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=cls, weak=False, dispatch_uid=uid)
        for m2m_field in m2m:
            through = m2m_field.remote_field.through
            _m2m_through[through] = (cls, m2m_field.name)
            m2m_changed.connect(
                _m2m_changed, sender=through, weak=False, dispatch_uid=f"{uid}.{m2m_field.name}"
            )
        return cls

    if model is None:
        return register
    return register(model)


def _remember(
    sender: type[models.Model],
    instance: models.Model,
    only: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    """Keep the tracked values the instance holds now: the old values of its next save."""
    tracking = _tracked.get(sender)
    if tracking is None:
        return
    values = instance.__dict__
    snapshot = values.get(_SNAPSHOT_ATTR, {}) if only is not None else {}
    wanted = set(only) if only is not None else None
    for model_field in tracking.fields:
        if model_field.attname not in values:
            continue  # deferred: unknown until loaded
        if wanted is not None and not wanted & {model_field.name, model_field.attname}:
            continue
        value = values[model_field.attname]
        # a JSON value edited in place must not edit the snapshot too
        snapshot[model_field.attname] = (
            copy.deepcopy(value) if isinstance(value, dict | list) else value
        )
    values[_SNAPSHOT_ATTR] = snapshot
    place = tracking.target_field()
    names = {place.name, place.attname} if place is not None else set()
    if place is not None and place.attname in values and (wanted is None or wanted & names):
        values[_PLACE_ATTR] = values[place.attname]


def _record_move(
    tracking: Tracking,
    instance: models.Model,
    using: str | None,
    update_fields: Iterable[str] | None,
) -> None:
    """The target foreign key changed (a project moved to another team): record ``moved``
    in the old place and in the new one, so that the people of both can read where it went.
    The object's history goes with it (docs/security.md: Moves)."""
    target_field = tracking.target_field()
    values = instance.__dict__
    if target_field is None or _PLACE_ATTR not in values or target_field.attname not in values:
        return
    if update_fields is not None and not set(update_fields) & {
        target_field.name,
        target_field.attname,
    }:
        return
    old = normalise(target_field, values[_PLACE_ATTR])
    new = normalise(target_field, values[target_field.attname])
    if old == new:
        return
    related = target_field.related_model._base_manager.db_manager(using)
    key = target_field.target_field.attname
    old_place = related.filter(**{key: old}).first() if old is not None else None
    new_place = tracking.target_of(instance) if new is not None else None
    changes = {
        target_field.name: [
            stored_value(target_field, old, old_place),
            stored_value(target_field, new, new_place),
        ]
    }
    for place in (old_place, new_place):
        if place is not None:
            record(None, tracking.verb("moved"), instance, place, using=using, changes=changes)


def _before_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    instance.__dict__.pop(_PENDING_ATTR, None)
    tracking = _tracked.get(sender)
    if raw or is_paused() or tracking is None or is_unsaved(instance):
        return  # a creation needs no diff: post_save records it
    wanted = set(update_fields) if update_fields is not None else None
    saved = [
        f
        for f in tracking.fields
        if f.attname in instance.__dict__  # deferred and never set: not saved
        and (wanted is None or wanted & {f.name, f.attname})
    ]
    if instance._state.adding:
        initial: dict[str, Any] = {}  # built without loading: the snapshot holds new values
    else:
        initial = instance.__dict__.get(_SNAPSHOT_ATTR, {})
    missing = [f.attname for f in saved if f.attname not in initial]
    if missing:
        # old values unknown (an instance built without loading, or a field deferred at
        # load and set since): one SELECT of those columns
        row = sender._base_manager.db_manager(using).filter(pk=instance.pk).values(*missing).first()
        if row is None:
            return  # not in the database: this save creates it
        initial = {**initial, **row}
    changes: dict[str, list[Any]] = {}
    relations: list[tuple[FieldT, Any, Any]] = []
    for model_field in saved:
        old = normalise(model_field, initial[model_field.attname])
        new = normalise(model_field, instance.__dict__[model_field.attname])
        if old == new:
            continue
        if model_field.is_relation:
            relations.append((model_field, old, new))
        else:
            changes[model_field.name] = [
                stored_value(model_field, old),
                stored_value(model_field, new),
            ]
    if relations:
        # the old related object is never in memory any more; the new one usually is
        lookups = [(f, old) for f, old, _new in relations]
        lookups += [(f, new) for f, _old, new in relations if not cached_related(instance, f, new)]
        found = related_objects(lookups, using)
        for model_field, old, new in relations:
            model = model_field.related_model
            new_obj = cached_related(instance, model_field, new) or found.get((model, new))
            changes[model_field.name] = [
                stored_value(model_field, old, found.get((model, old))),
                stored_value(model_field, new, new_obj),
            ]
    instance.__dict__[_PENDING_ATTR] = changes


def _after_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool,
    raw: bool = False,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    tracking = _tracked.get(sender)
    changes = instance.__dict__.pop(_PENDING_ATTR, None)
    if tracking is not None and not raw and not is_paused():
        if created:
            record(
                None, tracking.verb("created"), instance, tracking.target_of(instance), using=using
            )
        elif changes:
            verb, extra = _update_verb(tracking)
            record(
                None,
                verb,
                instance,
                tracking.target_of(instance),
                using=using,
                changes=changes,
                **extra,
            )
        if not created:
            _record_move(tracking, instance, using, update_fields)
    # what was saved is the baseline of the next save (fields left out of update_fields
    # keep their old baseline: the database still holds it)
    _remember(sender, instance, only=None if created else update_fields)


def _before_delete(
    sender: type[models.Model], instance: models.Model, origin: Any = None, **kwargs: Any
) -> None:
    # Every object of a cascade is announced before any is deleted: keep them, so the
    # post_delete of a task finds its project (deleted in the same cascade) without a query.
    if origin is None or is_paused():
        return
    deleting = origin.__dict__.setdefault(_DELETING_ATTR, {})
    deleting[(type(instance), instance.pk)] = instance


def _target_when_deleted(
    tracking: Tracking, instance: models.Model, origin: Any
) -> tuple[models.Model | None, bool]:
    """The target of a deleted instance, and whether the same delete removes it too."""
    deleting = getattr(origin, "__dict__", {}).get(_DELETING_ATTR, {})
    target_field = tracking.target_field()
    if target_field is not None and not target_field.is_cached(instance):
        raw = getattr(instance, target_field.attname)
        if raw is None:
            return None, False
        known: models.Model | None = deleting.get((target_field.related_model, raw))
        if known is None and isinstance(origin, target_field.related_model) and origin.pk == raw:
            known = cast(models.Model, origin)
        if known is not None:
            return known, True
    try:
        target = tracking.target_of(instance)
    except models.ObjectDoesNotExist:
        return None, False
    if target is None:
        return None, False
    return target, (type(target), target.pk) in deleting


def _after_delete(
    sender: type[models.Model],
    instance: models.Model,
    using: str | None = None,
    origin: Any = None,
    **kwargs: Any,
) -> None:
    tracking = _tracked.get(sender)
    if tracking is None or is_paused():
        return
    target, target_gone = _target_when_deleted(tracking, instance, origin)
    action = build_action(
        actor=current_actor(),
        verb=tracking.verb("deleted"),
        action_object=instance,
        target=target,
        public=True,
        timestamp=None,
        data={},
        gone=True,  # its URL leads nowhere any more
        target_gone=target_gone,
    )
    action.save(using=using)


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    if is_paused() or sender not in _m2m_through:
        return
    tracked_model, name = _m2m_through[sender]
    tracking = _tracked.get(tracked_model)
    if tracking is None or name not in {f.name for f in tracking.m2m_fields}:
        return
    m2m_field = tracked_model._meta.get_field(name)
    if action == "pre_clear":
        # clear() says nothing of what it removes: look before it does
        if reverse:
            related = tracked_model._base_manager.db_manager(using).filter(**{name: instance})
        else:
            related = getattr(instance, name).all()
        instance.__dict__.setdefault(_CLEARING_ATTR, {})[name] = {obj.pk for obj in related}
        return
    if action == "post_clear":
        pk_set = instance.__dict__.get(_CLEARING_ATTR, {}).pop(name, None)
        key = "removed"
    elif action in {"post_add", "post_remove"}:
        key = "added" if action == "post_add" else "removed"
    else:
        return
    if not pk_set:
        return
    objects = list(model._base_manager.db_manager(using).filter(pk__in=pk_set).order_by("pk"))
    if not reverse:
        values = [{"pk": json_safe(obj.pk), "label": label_of(obj)} for obj in objects]
        changes = {m2m_field.name: {key: values}}
        verb, extra = _update_verb(tracking)
        record(
            None,
            verb,
            instance,
            tracking.target_of(instance),
            using=using,
            changes=changes,
            **extra,
        )
        return
    # user.teams.add(team): the change belongs to each team
    value = [{"pk": json_safe(instance.pk), "label": label_of(instance)}]
    for obj in objects:
        record(
            None,
            tracking.verb("updated"),
            obj,
            tracking.target_of(obj),
            using=using,
            changes={m2m_field.name: {key: value}},
        )

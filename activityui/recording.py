"""Writing actions: record() and record_bulk() build actstream ``Action`` rows with snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from activityui.context import current_actor, current_timestamp
from activityui.ids import id_of
from activityui.search import index_actions
from activityui.tracked import tracking_for
from activityui.values import field_changes, json_safe, snapshot_of


def content_type_and_id(
    obj: models.Model | None, role: str
) -> tuple[ContentType | None, str | None]:
    if obj is None:
        return None, None
    if not isinstance(obj, models.Model):
        raise TypeError(f"The {role} of an action must be a model instance, not {obj!r}")
    if is_unsaved(obj):
        raise ValueError(
            f"Cannot record an action with an unsaved {type(obj).__name__} as {role}: save it first"
        )
    return ContentType.objects.db_manager(obj._state.db).get_for_model(obj), id_of(obj)


def is_unsaved(obj: models.Model) -> bool:
    if obj.pk is None:
        return True
    pk_field = obj._meta.pk
    return obj._state.adding and (pk_field.has_default() or pk_field.has_db_default())


def _actor_or_current(actor: Any) -> models.Model:
    if actor is None or (
        not isinstance(actor, models.Model) and getattr(actor, "is_anonymous", False)
    ):
        return current_actor()  # None or AnonymousUser: the request user, else the system actor
    return cast(models.Model, actor)


def build_action(
    *,
    actor: models.Model,
    verb: str,
    action_object: models.Model | None,
    target: models.Model | None,
    public: bool,
    timestamp: dt.datetime | None,
    data: dict[str, Any],
    gone: bool = False,
    target_gone: bool = False,
) -> Action:
    actor_ct, actor_id = content_type_and_id(actor, "actor")
    object_ct, object_id = content_type_and_id(action_object, "action object")
    target_ct, target_id = content_type_and_id(target, "target")
    payload = dict(data)
    payload["snapshot"] = {
        "actor": snapshot_of(actor),
        "action_object": snapshot_of(action_object, gone=gone),
        "target": snapshot_of(target, gone=target_gone),
    }
    return Action(
        actor_content_type=actor_ct,
        actor_object_id=actor_id,
        verb=str(verb)[:255],
        action_object_content_type=object_ct,
        action_object_object_id=object_id,
        target_content_type=target_ct,
        target_object_id=target_id,
        public=public,
        timestamp=timestamp or current_timestamp() or timezone.now(),
        data=payload,
    )


def record(
    actor: models.Model | None,
    verb: str,
    action_object: models.Model | None = None,
    target: models.Model | None = None,
    *,
    public: bool = True,
    timestamp: dt.datetime | None = None,
    using: str | None = None,
    **data: Any,
) -> Action:
    """Record an explicit event (a comment, an export, a sign-in, a state transition).

    ``actor`` None means the current actor (``acting_as``, the request user or the system
    actor). Extra keyword arguments are stored, JSON-safe, in ``Action.data`` (``changes``
    is shown as field changes: build it with :func:`field_changes`). Objects must be saved.
    One INSERT, in the current transaction.
    """
    if "snapshot" in data:
        raise ValueError("'snapshot' is written by activityui; use another key")
    action = build_action(
        actor=_actor_or_current(actor),
        verb=verb,
        action_object=action_object,
        target=target,
        public=public,
        timestamp=timestamp,
        data={key: json_safe(value) for key, value in data.items()},
    )
    action.save(using=using)
    return action


_TRACKED_TARGET: Any = object()


def record_bulk(
    actor: models.Model | None,
    verb: str,
    objects: Iterable[models.Model],
    *,
    target: models.Model | None = _TRACKED_TARGET,
    changes: dict[str, tuple[Any, Any]] | None = None,
    public: bool = True,
    using: str | None = None,
    **data: Any,
) -> list[Action]:
    """Record one action per object in one INSERT, for ``QuerySet.update()``/``bulk_create``.

    Signals do not fire for those, so capture cannot see them; call this beside them.
    ``changes`` (``{field: (old, new)}``, the same for every object) is stored like captured
    changes. ``target`` defaults to the one ``track()`` names for the objects' model (load it
    with ``select_related`` to avoid a query per object); pass ``target=None`` for none.
    """
    objects = list(objects)
    if not objects:
        return []
    if "snapshot" in data:
        raise ValueError("'snapshot' is written by activityui; use another key")
    actor = _actor_or_current(actor)
    extra = {key: json_safe(value) for key, value in data.items()}
    if changes:
        extra["changes"] = field_changes(type(objects[0]), using=using, **changes)
    rows = []
    for obj in objects:
        if target is _TRACKED_TARGET:
            tracking = tracking_for(type(obj))
            obj_target = tracking.target_of(obj) if tracking else None
        else:
            obj_target = target
        rows.append(
            build_action(
                actor=actor,
                verb=verb,
                action_object=obj,
                target=obj_target,
                public=public,
                timestamp=None,
                data=extra,
            )
        )
    manager = Action.objects.db_manager(using) if using else Action.objects
    created: list[Action] = manager.bulk_create(rows)
    # bulk_create sends no post_save: index them here, one more INSERT for all of them
    index_actions(created, using=using or manager.db)
    return created

"""Capture: turn model saves, deletes and explicit calls into actstream ``Action`` rows.

Each action carries, in ``Action.data``:

* ``snapshot``: label and URL of the actor, action object and target at the time, so the
  history still reads well after an object is renamed or deleted;
* ``changes``: ``{field: [old, new]}`` for tracked fields (``{field: {"added": [...],
  "removed": [...]}}`` for many-to-many fields), every value JSON-safe;
* anything passed to :func:`record` as keyword arguments.

Actions are written directly, not through actstream's ``registry``/``action.send``: the registry
adds GenericRelations whose cascade deletes an object's history with the object (actstream
issue #346). Here history outlives its objects.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_save
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise

from activityui.conf import app_settings

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "activityui_request", default=None
)
_actor: contextvars.ContextVar[models.Model | None] = contextvars.ContextVar(
    "activityui_actor", default=None
)
_timestamp: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar(
    "activityui_timestamp", default=None
)
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("activityui_paused", default=False)

TRUNCATION_MARKER = " […]"
_SNAPSHOT_ATTR = "_activityui_initial"
_PENDING_ATTR = "_activityui_pending"


# --------------------------------------------------------------------------- who and when


@contextmanager
def request_context(request: HttpRequest) -> Iterator[None]:
    """Make ``request.user`` the actor of what is captured inside (used by the middleware)."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


@contextmanager
def acting_as(actor: models.Model | None, *, at: dt.datetime | None = None) -> Iterator[None]:
    """Record everything inside as done by ``actor`` (and, for imports and seeds, at ``at``)."""
    actor_token = _actor.set(actor)
    time_token = _timestamp.set(at)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _timestamp.reset(time_token)


@contextmanager
def paused() -> Iterator[None]:
    """Capture nothing inside (data migrations, fixtures loaded on purpose)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def system_actor() -> models.Model:
    """The user named by ``ACTIVITYUI["SYSTEM_ACTOR"]``, created inactive on first use."""
    user_model = get_user_model()
    lookup = {user_model.USERNAME_FIELD: app_settings.SYSTEM_ACTOR}
    user = user_model._default_manager.filter(**lookup).first()
    if user is None:
        user = user_model(**lookup, is_active=False)
        user.set_unusable_password()
        user.save()
    return user


def current_actor() -> models.Model:
    """The explicit actor, else the request's signed-in user, else the system actor."""
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    return system_actor()


# --------------------------------------------------------------------------- values


def truncate(text: str, limit: int | None = None) -> str:
    limit = limit or app_settings.MAX_TEXT_LENGTH
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATION_MARKER), 0)] + TRUNCATION_MARKER


def json_safe(value: Any) -> Any:
    """A JSON-serialisable form of ``value`` that still reads well."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | Promise):
        return truncate(force_str(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return {"pk": json_safe(value.pk), "label": label_of(value)}
    if isinstance(value, dict):
        return {force_str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return truncate(force_str(value))


def label_of(obj: models.Model) -> str:
    return truncate(force_str(obj), app_settings.MAX_LABEL_LENGTH)


def url_of(obj: models.Model) -> str | None:
    get_url = getattr(obj, "get_absolute_url", None)
    if get_url is None:
        return None
    try:
        return str(get_url())
    except Exception:  # a broken get_absolute_url must not lose the action
        return None


def snapshot_of(obj: models.Model | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"label": label_of(obj), "url": url_of(obj)}


def field_value(instance: models.Model, model_field: models.Field, raw: Any) -> Any:
    """The stored form of one field value: choices and foreign keys keep a readable label."""
    if raw is None:
        return None
    if model_field.is_relation and model_field.many_to_one:
        related = instance._state.fields_cache.get(model_field.name)
        if related is None or related.pk != raw:
            related = model_field.related_model._base_manager.filter(pk=raw).first()
        label = label_of(related) if related is not None else None
        return {"pk": json_safe(raw), "label": label}
    if model_field.choices:
        display = dict(model_field.flatchoices).get(raw, raw)
        return {"value": json_safe(raw), "label": force_str(display)}
    return json_safe(raw)


# --------------------------------------------------------------------------- writing


def _ref(obj: models.Model | None) -> tuple[ContentType | None, str | None]:
    if obj is None:
        return None, None
    if obj.pk is None:
        raise ValueError(f"Cannot record an action on an unsaved {type(obj).__name__}")
    return ContentType.objects.get_for_model(obj), str(obj.pk)


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

    ``actor`` None means the current actor (request user, ``acting_as`` or the system actor).
    Extra keyword arguments are stored, JSON-safe, in ``Action.data``.
    """
    actor = actor if actor is not None else current_actor()
    actor_ct, actor_id = _ref(actor)
    object_ct, object_id = _ref(action_object)
    target_ct, target_id = _ref(target)
    payload = {key: json_safe(value) for key, value in data.items()}
    payload["snapshot"] = {
        "actor": snapshot_of(actor),
        "action_object": snapshot_of(action_object),
        "target": snapshot_of(target),
    }
    manager = Action.objects.db_manager(using) if using else Action.objects
    return manager.create(
        actor_content_type=actor_ct,
        actor_object_id=actor_id,
        verb=str(verb)[:255],
        action_object_content_type=object_ct,
        action_object_object_id=object_id,
        target_content_type=target_ct,
        target_object_id=target_id,
        public=public,
        timestamp=timestamp or _timestamp.get() or timezone.now(),
        data=payload,
    )


def record_bulk(
    actor: models.Model | None,
    verb: str,
    objects: Iterable[models.Model],
    *,
    target: models.Model | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    **data: Any,
) -> list[Action]:
    """Record one action per object in one INSERT, for ``QuerySet.update()``/``bulk_create``.

    Signals do not fire for those, so capture cannot see them; call this beside them.
    """
    actor = actor if actor is not None else current_actor()
    actor_ct, actor_id = _ref(actor)
    target_ct, target_id = _ref(target)
    when = _timestamp.get() or timezone.now()
    extra = {key: json_safe(value) for key, value in data.items()}
    if changes:
        extra["changes"] = {name: [json_safe(a), json_safe(b)] for name, (a, b) in changes.items()}
    rows = []
    for obj in objects:
        object_ct, object_id = _ref(obj)
        rows.append(
            Action(
                actor_content_type=actor_ct,
                actor_object_id=actor_id,
                verb=verb,
                action_object_content_type=object_ct,
                action_object_object_id=object_id,
                target_content_type=target_ct,
                target_object_id=target_id,
                timestamp=when,
                data={
                    **extra,
                    "snapshot": {
                        "actor": snapshot_of(actor),
                        "action_object": snapshot_of(obj),
                        "target": snapshot_of(target),
                    },
                },
            )
        )
    return Action.objects.bulk_create(rows)


# --------------------------------------------------------------------------- tracking


TargetSpec = str | Callable[[Any], models.Model | None] | None


@dataclass
class Tracking:
    model: type[models.Model]
    fields: list[models.Field]
    m2m_fields: list[models.ManyToManyField]
    target: TargetSpec
    verbs: dict[str, str] = field(default_factory=dict)

    def verb(self, event: str) -> str:
        return self.verbs.get(event, event)

    def target_of(self, instance: models.Model) -> models.Model | None:
        if self.target is None:
            return None
        if callable(self.target):
            return self.target(instance)
        return getattr(instance, self.target)


_tracked: dict[type[models.Model], Tracking] = {}


def tracking_for(model: type[models.Model]) -> Tracking | None:
    return _tracked.get(model)


def tracked_models() -> list[type[models.Model]]:
    return list(_tracked)


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
    callable giving the object the action happened in (e.g. the task's project).
    ``verbs``: rename the events, e.g. ``{"updated": "edited"}``.
    Usable as ``track(Task, fields=[...])`` or as a class decorator ``@track(fields=[...])``.
    """

    def register(cls: type[models.Model]) -> type[models.Model]:
        names = list(fields)
        concrete = [cls._meta.get_field(n) for n in names]
        m2m = [f for f in concrete if f.many_to_many]
        simple = [f for f in concrete if not f.many_to_many]
        tracking = Tracking(cls, simple, m2m, target, dict(verbs or {}))
        _tracked[cls] = tracking
        uid = f"activityui:{cls._meta.label}"
        post_init.connect(_remember, sender=cls, weak=False, dispatch_uid=uid)
        pre_save.connect(_before_save, sender=cls, weak=False, dispatch_uid=uid)
        post_save.connect(_after_save, sender=cls, weak=False, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=cls, weak=False, dispatch_uid=uid)
        for m2m_field in m2m:
            m2m_changed.connect(
                _m2m_changed,
                sender=m2m_field.remote_field.through,
                weak=False,
                dispatch_uid=f"{uid}.{m2m_field.name}",
            )
        return cls

    if model is None:
        return register
    return register(model)


def _remember(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    tracking = _tracked.get(sender)
    if tracking is None:
        return
    values = instance.__dict__
    instance.__dict__[_SNAPSHOT_ATTR] = {
        f.attname: values[f.attname] for f in tracking.fields if f.attname in values
    }


def _before_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    instance.__dict__.pop(_PENDING_ATTR, None)
    if raw or _paused.get():
        return
    tracking = _tracked[sender]
    if instance.pk is None or instance._state.adding and instance._state.db is None:
        initial = _initial_from_database(tracking, instance)
        if initial is None:
            return  # a creation: post_save records it
    else:
        initial = instance.__dict__.get(_SNAPSHOT_ATTR, {})
    wanted = set(update_fields) if update_fields is not None else None
    changes: dict[str, list[Any]] = {}
    for model_field in tracking.fields:
        if (
            wanted is not None
            and model_field.name not in wanted
            and model_field.attname not in wanted
        ):
            continue
        if model_field.attname not in initial or model_field.attname not in instance.__dict__:
            continue  # deferred at load: not saved, not compared
        old, new = initial[model_field.attname], getattr(instance, model_field.attname)
        if old != new:
            changes[model_field.name] = [
                field_value(instance, model_field, old)
                if not model_field.is_relation
                else _fk_value(model_field, old),
                field_value(instance, model_field, new),
            ]
    instance.__dict__[_PENDING_ATTR] = changes


def _fk_value(model_field: models.Field, raw: Any) -> Any:
    if raw is None:
        return None
    related = model_field.related_model._base_manager.filter(pk=raw).first()
    return {"pk": json_safe(raw), "label": label_of(related) if related is not None else None}


def _initial_from_database(tracking: Tracking, instance: models.Model) -> dict[str, Any] | None:
    """Old values of an instance built without loading: one SELECT (None if it is new)."""
    if instance.pk is None:
        return None
    attnames = [f.attname for f in tracking.fields]
    row = (
        tracking.model._base_manager.using(instance._state.db or "default")
        .filter(pk=instance.pk)
        .values(*attnames)
        .first()
    )
    return row


def _after_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool,
    raw: bool = False,
    using: str | None = None,
    **kwargs: Any,
) -> None:
    if raw or _paused.get():
        return
    tracking = _tracked[sender]
    changes = instance.__dict__.pop(_PENDING_ATTR, None)
    if created:
        record(None, tracking.verb("created"), instance, tracking.target_of(instance), using=using)
    elif changes:
        record(
            None,
            tracking.verb("updated"),
            instance,
            tracking.target_of(instance),
            using=using,
            changes=changes,
        )
    _remember(sender, instance)


def _after_delete(
    sender: type[models.Model], instance: models.Model, using: str | None = None, **kwargs: Any
) -> None:
    if _paused.get():
        return
    tracking = _tracked[sender]
    try:
        target = tracking.target_of(instance)
    except models.ObjectDoesNotExist:
        target = None
    record(None, tracking.verb("deleted"), instance, target, using=using)


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
    if _paused.get() or reverse or action not in {"post_add", "post_remove"} or not pk_set:
        return
    tracking = _tracked.get(type(instance))
    if tracking is None:
        return
    m2m_field = next((f for f in tracking.m2m_fields if f.remote_field.through is sender), None)
    if m2m_field is None:
        return
    related = model._base_manager.filter(pk__in=pk_set).order_by("pk")
    key = "added" if action == "post_add" else "removed"
    values = [{"pk": json_safe(obj.pk), "label": label_of(obj)} for obj in related]
    record(
        None,
        tracking.verb("updated"),
        instance,
        tracking.target_of(instance),
        using=using,
        changes={m2m_field.name: {key: values}},
    )

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

Old values come from a snapshot taken when an instance is loaded (``post_init``), so capturing
an update costs one INSERT and no SELECT. docs/capture.md lists what costs more.
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from activityui.conf import app_settings
from activityui.ids import id_of
from activityui.search import index_actions

# The Field API used here spans plain, relational and many-to-many fields (target_field,
# related_model, get_cached_value...), which django-stubs splits across classes.
FieldT = Any

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
_annotation: contextvars.ContextVar[tuple[str, dict[str, Any]] | None] = contextvars.ContextVar(
    "activityui_annotation", default=None
)

TRUNCATION_MARKER = " […]"
_SNAPSHOT_ATTR = "_activityui_initial"
_PENDING_ATTR = "_activityui_pending"
_CLEARING_ATTR = "_activityui_clearing"
_DELETING_ATTR = "_activityui_deleting"
_PLACE_ATTR = "_activityui_place"  # the target foreign key's value when loaded or last saved


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


@contextmanager
def annotating(verb: str, **data: Any) -> Iterator[None]:
    """Record the updates captured inside as ``verb``, with ``data`` stored beside their
    ``changes`` (a restore is an update that says which change it undid)."""
    token = _annotation.set((verb, {key: json_safe(value) for key, value in data.items()}))
    try:
        yield
    finally:
        _annotation.reset(token)


def _update_verb(tracking: Tracking) -> tuple[str, dict[str, Any]]:
    annotation = _annotation.get()
    if annotation is None:
        return tracking.verb("updated"), {}
    return annotation


def system_actor() -> models.Model:
    """The actor of what happens outside a request with no actor given.

    ``ACTIVITYUI["SYSTEM_ACTOR_FUNCTION"]`` (a dotted path) names a function returning it (any
    saved model instance: a service account, a bot); otherwise it is the user whose
    ``USERNAME_FIELD`` is ``ACTIVITYUI["SYSTEM_ACTOR"]``, created inactive on first use
    (``manage.py check`` says when that value does not fit the field, e.g. an email login).
    """
    path = app_settings.SYSTEM_ACTOR_FUNCTION
    if path:
        actor = import_string(path)()
        if not isinstance(actor, models.Model):
            raise TypeError(f"ACTIVITYUI['SYSTEM_ACTOR_FUNCTION'] returned {actor!r}, not a model")
        return actor
    user_model = get_user_model()
    lookup = {user_model.USERNAME_FIELD: app_settings.SYSTEM_ACTOR}
    user = user_model._default_manager.filter(**lookup).first()
    if user is None:
        user = user_model(**lookup)
        if any(f.name == "is_active" for f in user_model._meta.concrete_fields):
            user.is_active = False
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
        return cast(models.Model, user)
    return system_actor()


# --------------------------------------------------------------------------- values


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
    if isinstance(value, float):
        # NaN and infinities are not JSON (PostgreSQL's jsonb refuses them)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum) and not isinstance(value, str | int):
        return json_safe(value.value)
    if isinstance(value, str | Promise):
        return truncate(force_str(value))
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return truncate(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, models.Model):
        return {"pk": json_safe(value.pk), "label": label_of(value)}
    if isinstance(value, dict):
        return {truncate(_text(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [json_safe(v) for v in sorted(value, key=_text)]
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return truncate(_text(value))


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


def _normalise(model_field: FieldT, value: Any) -> Any:
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


def _related_objects(
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


def _cached_related(instance: models.Model, model_field: FieldT, raw: Any) -> Any:
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
    found = _related_objects(lookups, using) if lookups else {}
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
                raw = _normalise(model_field, value)
                values.append(
                    stored_value(model_field, raw, found.get((model_field.related_model, raw)))
                )
            else:
                values.append(stored_value(model_field, _normalise(model_field, value)))
        result[name] = values
    return result


# --------------------------------------------------------------------------- writing


def _ref(obj: models.Model | None, role: str) -> tuple[ContentType | None, str | None]:
    if obj is None:
        return None, None
    if not isinstance(obj, models.Model):
        raise TypeError(f"The {role} of an action must be a model instance, not {obj!r}")
    if _is_unsaved(obj):
        raise ValueError(
            f"Cannot record an action with an unsaved {type(obj).__name__} as {role}: save it first"
        )
    return ContentType.objects.db_manager(obj._state.db).get_for_model(obj), id_of(obj)


def _is_unsaved(obj: models.Model) -> bool:
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


def _build(
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
    actor_ct, actor_id = _ref(actor, "actor")
    object_ct, object_id = _ref(action_object, "action object")
    target_ct, target_id = _ref(target, "target")
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
        timestamp=timestamp or _timestamp.get() or timezone.now(),
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
    action = _build(
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
            tracking = _tracked.get(type(obj))
            obj_target = tracking.target_of(obj) if tracking else None
        else:
            obj_target = target
        rows.append(
            _build(
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


# --------------------------------------------------------------------------- tracking


TargetSpec = str | Callable[[Any], models.Model | None] | None


@dataclass
class Tracking:
    model: type[models.Model]
    fields: list[FieldT]
    m2m_fields: list[FieldT]
    target: TargetSpec
    verbs: dict[str, str] = field(default_factory=dict)

    def verb(self, event: str) -> str:
        return self.verbs.get(event, event)

    def target_of(self, instance: models.Model) -> models.Model | None:
        if self.target is None:
            return None
        if callable(self.target):
            return self.target(instance)
        target: models.Model | None = getattr(instance, self.target)
        return target

    def target_field(self) -> FieldT | None:
        """The foreign key named as target, if the target is one."""
        if not isinstance(self.target, str):
            return None
        try:
            model_field = self.model._meta.get_field(self.target)
        except Exception:
            return None
        return model_field if model_field.many_to_one or model_field.one_to_one else None


_tracked: dict[type[models.Model], Tracking] = {}
_m2m_through: dict[type[models.Model], tuple[type[models.Model], str]] = {}


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
    old = _normalise(target_field, values[_PLACE_ATTR])
    new = _normalise(target_field, values[target_field.attname])
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
    if raw or _paused.get() or tracking is None or _is_unsaved(instance):
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
        old = _normalise(model_field, initial[model_field.attname])
        new = _normalise(model_field, instance.__dict__[model_field.attname])
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
        lookups += [(f, new) for f, _old, new in relations if not _cached_related(instance, f, new)]
        found = _related_objects(lookups, using)
        for model_field, old, new in relations:
            model = model_field.related_model
            new_obj = _cached_related(instance, model_field, new) or found.get((model, new))
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
    if tracking is not None and not raw and not _paused.get():
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
    if origin is None or _paused.get():
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
    if tracking is None or _paused.get():
        return
    target, target_gone = _target_when_deleted(tracking, instance, origin)
    action = _build(
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
    if _paused.get() or sender not in _m2m_through:
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

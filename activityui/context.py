"""The capture context: who acts, when, and whether (or as what) a block's saves are recorded."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest
from django.utils.module_loading import import_string

from activityui.conf import app_settings
from activityui.values import json_safe

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


def is_paused() -> bool:
    """Whether capture is paused here (inside :func:`paused`)."""
    return _paused.get()


def current_timestamp() -> dt.datetime | None:
    """The time given to :func:`acting_as`, if any."""
    return _timestamp.get()


def current_annotation() -> tuple[str, dict[str, Any]] | None:
    """The verb and data given to :func:`annotating`, if any."""
    return _annotation.get()


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

"""The ``"app_label.model_name"`` keys that name a model in URLs, filters and feed scopes."""

from __future__ import annotations

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models


def type_key(content_type: ContentType) -> str:
    """The key of a content type: ``"demo.task"``."""
    return f"{content_type.app_label}.{content_type.model}"


def content_type_for_key(key: str) -> ContentType | None:
    """The content type ``key`` names; None when the key is malformed or names no type.

    Through ContentType's own cache: a query only the first time a process meets a type.
    A NUL is refused before the database sees it (PostgreSQL refuses it in text)."""
    app_label, dot, model_name = key.partition(".")
    if not dot or "\x00" in key:
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist:
        return None


def model_for_key(key: str) -> type[models.Model] | None:
    """The installed model ``key`` names (no query); None when there is none."""
    try:
        return apps.get_model(key)
    except (LookupError, ValueError):
        return None

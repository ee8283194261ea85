"""The ``"app_label.model_name"`` keys that name a model in URLs, filters and feed scopes."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType


def type_key(content_type: ContentType) -> str:
    return f"{content_type.app_label}.{content_type.model}"

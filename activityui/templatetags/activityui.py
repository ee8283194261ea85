"""Template tags: ``{% load activityui %}``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def aui_query(params: Any, **changes: Any) -> str:
    """The current query string with ``changes`` applied (None removes a key)."""
    query = params.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"

"""Template filters of the history links in timeline entries: ``{% load activityui_history %}``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.formats import date_format

from activityui.links import object_url
from activityui.reconstruction import is_cut

register = template.Library()


@register.filter
def aui_old_cut(change: Any, entry: Any) -> bool:
    """Was the old value of ``change`` (a text) cut when it was recorded? It cannot be restored."""
    changes = entry.data.get("changes") if isinstance(entry.data, dict) else None
    value = changes.get(change.field) if isinstance(changes, dict) else None
    return isinstance(value, list) and bool(value) and is_cut(value[0])


@register.filter
def aui_restored(note: Any, entry: Any) -> dict[str, Any] | None:
    """What a ``restored`` action's note says: the field, the value, whose change, a link."""
    if not isinstance(note, dict) or entry.action_object is None:
        return None
    field = str(note.get("field") or "")
    change = next((c for c in entry.changes if c.field == field), None)
    when = note.get("timestamp")
    try:
        moment = dt.datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        moment = None
    ref = entry.action_object
    try:
        url = object_url("activityui:object_as_of", ref.type_key, ref.object_id)
    except NoReverseMatch:
        return None
    cursor = note.get("cursor")
    return {
        "field_name": change.name if change else field.replace("_", " "),
        "value": change.new if change and not change.is_m2m else "",
        "actor": str(note.get("actor") or ""),
        "date": date_format(timezone.localtime(moment), "DATE_FORMAT") if moment else "",
        "url": f"{url}?as_of={cursor}"
        if isinstance(cursor, str) and re.fullmatch(r"[\w-]{1,200}", cursor, re.ASCII)
        else url,
    }

"""Template tags: ``{% load activityui %}``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from activityui.presenters import timeline_url, type_key

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


# --- object timeline ---


@register.simple_tag(takes_context=True)
def object_timeline(context: template.Context, obj: models.Model, title: str = "") -> SafeString:
    """``{% object_timeline obj %}``: a placeholder that htmx fills with ``obj``'s history
    once the page has loaded (a plain link without JavaScript); costs the host page no query."""
    key = type_key(ContentType.objects.get_for_model(obj))
    return render_to_string(
        "activityui/timeline.html#timeline-placeholder",
        {"url": timeline_url(key, str(obj.pk)), "title": title or _("History")},
        request=context.get("request"),
    )


@register.filter
def aui_ago(value: dt.datetime | None) -> str:
    """A calm relative time: "seconds ago", "5 minutes ago", "3 days ago"."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return _("seconds ago")
    return _("%(time)s ago") % {"time": timesince(value, depth=1)}

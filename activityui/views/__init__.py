"""HTTP: thin function views, one module a surface. One URL serves a page and its fragments."""

from __future__ import annotations

from activityui.views.feeds import feed, feed_mark_read
from activityui.views.follow import follow
from activityui.views.history import object_as_of, object_compare
from activityui.views.restore import object_restore
from activityui.views.staff import (
    staff,
    staff_action,
    staff_chart,
    staff_export_csv,
    staff_export_json,
)
from activityui.views.timeline import object_timeline

__all__ = [
    "feed",
    "feed_mark_read",
    "follow",
    "object_as_of",
    "object_compare",
    "object_restore",
    "object_timeline",
    "staff",
    "staff_action",
    "staff_chart",
    "staff_export_csv",
    "staff_export_json",
]

"""Ids of the timelines on one page: each ``{% object_timeline %}`` gets its own.

Its fragments (filters, "show older", refreshes) keep it through the ``tl`` query parameter."""

from __future__ import annotations

import re
from typing import Any

DEFAULT_ID = "timeline"  # the timeline of the object's own page
TIMELINE_ID = re.compile(r"^aui-tl-[1-9][0-9]{0,5}$")


def next_timeline_id(request: Any) -> str:
    """A new id for a timeline embedded in the page this request renders: the first one is
    ``timeline`` (as on the object's own page), the next ones ``aui-tl-2``, ``aui-tl-3``…"""
    count = getattr(request, "_activityui_timelines", 0) + 1
    if request is not None:
        request._activityui_timelines = count
    return DEFAULT_ID if count == 1 else f"aui-tl-{count}"


def timeline_id(value: str | None) -> str:
    """The id a timeline fragment was asked for (``tl``), or the default for anything else."""
    if value and TIMELINE_ID.match(value):
        return value
    return DEFAULT_ID

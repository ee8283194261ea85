"""Capture's public API: turn model saves, deletes and explicit calls into ``Action`` rows.

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

This module re-exports the names hosts import; the work is done in ``context`` (who and
when), ``values`` (stored forms), ``recording`` (writing actions), ``tracked`` (the registry)
and ``tracking`` (``track()`` and its signal handlers).
"""

from __future__ import annotations

from activityui.context import (
    acting_as,
    annotating,
    current_actor,
    paused,
    request_context,
    system_actor,
)
from activityui.recording import record, record_bulk
from activityui.tracked import Tracking, _tracked, tracked_models, tracking_for
from activityui.tracking import track
from activityui.values import (
    TRUNCATION_MARKER,
    field_changes,
    json_safe,
    label_of,
    snapshot_of,
    stored_value,
    truncate,
    url_of,
)

__all__ = [
    "TRUNCATION_MARKER",
    "Tracking",
    "_tracked",
    "acting_as",
    "annotating",
    "current_actor",
    "field_changes",
    "json_safe",
    "label_of",
    "paused",
    "record",
    "record_bulk",
    "request_context",
    "snapshot_of",
    "stored_value",
    "system_actor",
    "track",
    "tracked_models",
    "tracking_for",
    "truncate",
    "url_of",
]

"""activityui: activity feeds, object timelines and a staff console for Django sites."""

from __future__ import annotations

from typing import Any

__all__ = [
    "acting_as",
    "field_changes",
    "paused",
    "record",
    "record_bulk",
    "register_feed",
    "register_history",
    "register_verb",
    "register_visibility",
    "track",
]


def __getattr__(name: str) -> Any:
    # Lazy re-exports: importing activityui must not import models before apps are ready.
    if name in {"track", "record", "record_bulk", "acting_as", "paused", "field_changes"}:
        from activityui import capture

        return getattr(capture, name)
    if name == "register_feed":
        from activityui.feeds import register_feed

        return register_feed
    if name == "register_history":
        from activityui.history import register_history

        return register_history
    if name == "register_verb":
        from activityui.verbs import register_verb

        return register_verb
    if name == "register_visibility":
        from activityui.visibility import register_visibility

        return register_visibility
    raise AttributeError(name)

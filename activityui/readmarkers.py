"""Read markers: how far a user has read a feed, moved forward only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from activityui.models import ReadMarker

if TYPE_CHECKING:
    from activityui.visibility import Viewer


def move_read_marker(*, user: Viewer, feed: str, timestamp: Any, action_id: int) -> bool:
    """Move the user's marker of ``feed`` forward to (timestamp, id); never backwards."""
    with transaction.atomic():
        marker, created = ReadMarker.objects.select_for_update().get_or_create(
            user_id=user.pk, feed=feed, defaults={"timestamp": timestamp, "action_id": action_id}
        )
        if created:
            return True
        if (timestamp, action_id) <= (marker.timestamp, marker.action_id):
            return False
        marker.timestamp, marker.action_id = timestamp, action_id
        marker.save(update_fields=["timestamp", "action_id", "updated"])
        return True

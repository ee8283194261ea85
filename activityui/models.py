"""activityui's own tables: read markers (one per user and feed) and the field-change index."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadMarker(models.Model):
    """The newest action a user has seen in one feed ("since your last visit")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    feed = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    action_id = models.BigIntegerField()
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("read marker")
        verbose_name_plural = _("read markers")
        constraints = [
            models.UniqueConstraint(fields=["user", "feed"], name="aui_readmarker_user_feed")
        ]
        permissions = [("view_all_activity", _("Can view all activity in the staff console"))]

    def __str__(self) -> str:
        return f"{self.user} · {self.feed} · {self.timestamp:%Y-%m-%d %H:%M}"


class FieldChange(models.Model):
    """One field of one object changed by one recorded action: the index that lets history
    reads (as of, compare, restore) find a field's nearest changes by two index probes instead
    of reading the object's whole history.

    Written by database triggers on ``actstream_action`` (insert, update, delete; see migration
    0005), so every action with ``data["changes"]`` is indexed however it was written: capture,
    ``bulk_create``, raw SQL. Never written by Python code.
    """

    action = models.ForeignKey(
        "actstream.Action",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    object_id = models.CharField(max_length=255)
    field = models.CharField(max_length=255)
    timestamp = models.DateTimeField()

    class Meta:
        verbose_name = _("field change")
        verbose_name_plural = _("field changes")
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "field", "timestamp", "action"],
                name="aui_fieldchange_nearest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id}.{self.field} @ {self.action_id}"

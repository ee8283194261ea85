"""activityui's own tables: read markers (one per user and feed), the field-change index and
the action counts of the staff chart."""

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


QUARTER_FIELDS = ("minute00", "minute15", "minute30", "minute45")  # of ActionCount


class ActionCount(models.Model):
    """How many actions of one kind (verb, public or not, object type, target type) happened
    in each quarter of one hour (UTC): the rollup the staff console's chart sums instead of
    counting a year of actions. Quarter hours because every time zone in use today is offset
    from UTC by whole quarter hours, so the chart's midnights fall on quarter boundaries; one
    row holds an hour's four quarters, so a year is at most 8,784 rows per kind.

    Written by database triggers on ``actstream_action`` (insert, update, delete, truncate;
    see migration 0006), never by Python code. One kind and hour may have several rows (on
    PostgreSQL a writer skips a row another open transaction holds and adds its own, so writers
    never wait for each other): the numbers are the sums over them. A type of 0 means none.
    """

    hour = models.DateTimeField()  # the start of the hour, UTC
    verb = models.CharField(max_length=255)
    public = models.BooleanField()
    object_type = models.IntegerField()  # the action object's content type id, 0: none
    target_type = models.IntegerField()  # the target's content type id, 0: none
    minute00 = models.BigIntegerField()  # actions in minutes 0-14 of the hour
    minute15 = models.BigIntegerField()  # 15-29
    minute30 = models.BigIntegerField()  # 30-44
    minute45 = models.BigIntegerField()  # 45-59

    class Meta:
        verbose_name = _("action count")
        verbose_name_plural = _("action counts")
        indexes = [
            models.Index(
                fields=["hour", "verb", "public", "object_type", "target_type"],
                name="aui_actioncount_hour",
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:%M} {self.verb} ×{self.actions}"

    @property
    def actions(self) -> int:
        """The actions of the whole hour."""
        return self.minute00 + self.minute15 + self.minute30 + self.minute45

"""activityui's own tables: one read marker per user and feed (no row per action)."""

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

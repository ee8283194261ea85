from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityUIConfig(AppConfig):
    name = "activityui"
    label = "activityui"
    verbose_name = _("Activity")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from activityui import checks  # noqa: F401  (registers the system checks)

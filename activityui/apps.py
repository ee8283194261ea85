"""The app config: activityui's name and label; on ready, its system checks and search indexing."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityUIConfig(AppConfig):
    name = "activityui"
    label = "activityui"
    verbose_name = _("Activity")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from actstream.models import Action
        from django.db.models.signals import post_save

        from activityui import checks  # noqa: F401  (registers the system checks)
        from activityui.search import index_saved_action

        # every new action, however it is saved (capture, record(), actstream's action.send),
        # gets its words indexed in the same transaction: one INSERT
        post_save.connect(index_saved_action, sender=Action, dispatch_uid="activityui_search")

from __future__ import annotations

from django.apps import AppConfig


class UuidSiteConfig(AppConfig):
    name = "hosts.uuidsite"
    label = "uuidsite"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hosts.uuidsite import activity  # noqa: F401 (registers tracking, visibility, feeds)

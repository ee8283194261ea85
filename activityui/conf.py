"""activityui settings: one ``ACTIVITYUI`` dict, read lazily so ``override_settings`` works."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # template every activityui page extends; it must define the block named below
    "BASE_TEMPLATE": "activityui/base.html",
    "CONTENT_BLOCK": "content",
    # entries per page of the feed, timeline and staff console
    "PAGE_SIZE": 25,
    "MAX_PAGE_SIZE": 100,
    # seconds between polls for new items; 0 turns live updates off
    "POLL_INTERVAL": 10,
    # the feed shown at /activity/ ("following" is built in; register others with register_feed)
    "DEFAULT_FEED": "following",
    # username of the actor used outside a request when none is given (created on first use)
    "SYSTEM_ACTOR": "system",
    # text values in changes and labels are cut to this many characters (with a marker)
    "MAX_TEXT_LENGTH": 2000,
    "MAX_LABEL_LENGTH": 200,
    # an action whose target or object is of a type without a registered visibility rule
    # is shown to staff only when False
    "UNREGISTERED_VISIBLE": False,
    # staff console: counts are exact up to this number, then shown as "N+"
    "COUNT_LIMIT": 10_000,
    # cache alias where polls remember "nothing new for this user at this point" (one index
    # probe answers the next poll until any action is written); None: no cache
    "POLL_CACHE": "default",
    # cache alias keeping rendered feed and timeline rows (their per-viewer parts and
    # relative times are filled per request); None: rows are rendered on every request
    "ROW_CACHE": "default",
    # seconds a rendered row stays cached (rows never change; a template override changes keys)
    "ROW_CACHE_TIMEOUT": 7 * 24 * 3600,
    # database alias that feed reads go to (e.g. a PostgreSQL replica); None = default routing
    "READ_DATABASE": None,
    # default age for `manage.py prune_activity`, in days
    "RETENTION_DAYS": 400,
}


class ActivityUISettings:
    """Attribute access to ``settings.ACTIVITYUI`` merged over :data:`DEFAULTS`."""

    def _user_settings(self) -> dict[str, Any]:
        value = getattr(django_settings, "ACTIVITYUI", {})
        return value if isinstance(value, dict) else {}

    def unknown_keys(self) -> list[str]:
        return sorted(set(self._user_settings()) - set(DEFAULTS))

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown activityui setting: {name}")
        return self._user_settings().get(name, DEFAULTS[name])


app_settings = ActivityUISettings()

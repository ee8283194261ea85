"""activityui settings: one ``ACTIVITYUI`` dict, read lazily so ``override_settings`` works."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # template every activityui page extends; it must define the block named below
    "BASE_TEMPLATE": "activityui/base.html",
    "CONTENT_BLOCK": "content",
    # colours of activityui's elements: "auto" follows the OS (prefers-color-scheme), "light"
    # or "dark" fixes them (one element or part of the page: data-aui-theme="light|dark")
    "THEME": "auto",
    # htmx's global config that activityui/_head.html writes as <meta name="htmx-config">;
    # None writes none, so a host keeps its own (see docs/quickstart.md, "htmx")
    "HTMX_CONFIG": {
        "includeIndicatorStyles": False,  # no inline <style> (a strict CSP refuses it)
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,  # back/forward reload live pages instead of stale snapshots
        "scrollIntoViewOnBoost": False,
    },
    # entries per page of the feed, timeline and staff console
    "PAGE_SIZE": 25,
    "MAX_PAGE_SIZE": 100,
    # seconds between polls for new items; 0 turns live updates off
    "POLL_INTERVAL": 10,
    # the feed shown at /activity/ ("following" is built in; register others with register_feed)
    "DEFAULT_FEED": "following",
    # username of the actor used outside a request when none is given (created on first use)
    "SYSTEM_ACTOR": "system",
    # dotted path of a function returning that actor instead (any saved model instance)
    "SYSTEM_ACTOR_FUNCTION": None,
    # text values in changes and labels are cut to this many characters (with a marker)
    "MAX_TEXT_LENGTH": 2000,
    "MAX_LABEL_LENGTH": 200,
    # an action whose target or object is of a type without a registered visibility rule
    # is shown to staff only when False
    "UNREGISTERED_VISIBLE": False,
    # user model fields the staff console's actor filter searches (part, any case) besides the
    # names snapshotted with the actions; None: USERNAME_FIELD, email, the text fields of
    # REQUIRED_FIELDS, first and last name
    "PERSON_SEARCH_FIELDS": None,
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

"""System checks for the mistakes people make when adding activityui to a site."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register

from activityui.conf import app_settings


@register()
def check_setup(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    for app in ("actstream", "django.contrib.contenttypes", "django_htmx", "django_filters"):
        if not apps.is_installed(app):
            problems.append(
                Error(f"activityui needs '{app}' in INSTALLED_APPS.", id="activityui.E001")
            )
    actstream_settings = getattr(settings, "ACTSTREAM_SETTINGS", {}) or {}
    if not actstream_settings.get("USE_JSONFIELD"):
        problems.append(
            Error(
                "ACTSTREAM_SETTINGS['USE_JSONFIELD'] must be True before the first migrate.",
                hint="Without it actstream's migration 0002 drops Action.data, where "
                "activityui keeps changes and snapshots.",
                id="activityui.E002",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if "activityui.middleware.ActivityUIMiddleware" not in middleware:
        problems.append(
            Warning(
                "activityui.middleware.ActivityUIMiddleware is not in MIDDLEWARE: captured "
                "actions will be attributed to the system actor.",
                id="activityui.W001",
            )
        )
    if "django_htmx.middleware.HtmxMiddleware" not in middleware:
        problems.append(
            Error("activityui needs django_htmx.middleware.HtmxMiddleware.", id="activityui.E003")
        )
    unknown = app_settings.unknown_keys()
    if unknown:
        problems.append(
            Error(
                f"Unknown key(s) in ACTIVITYUI: {', '.join(unknown)}.",
                hint="See activityui.conf.DEFAULTS for the settings there are.",
                id="activityui.E004",
            )
        )
    return problems


# --- ecosystem: mistakes made when adding activityui to an existing site ---


@register()
def check_default_feed(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``DEFAULT_FEED`` must name a registered feed, or /activity/ is a 404."""
    from activityui.feeds import get_feed, registered_feeds

    name = app_settings.DEFAULT_FEED
    if get_feed(name) is not None:
        return []
    known = ", ".join(repr(feed.name) for feed in registered_feeds())
    return [
        Warning(
            f"ACTIVITYUI['DEFAULT_FEED'] is {name!r}, but no feed of that name is registered: "
            "/activity/ answers 404.",
            hint=f"Register it with activityui.register_feed() in an AppConfig.ready(), or use "
            f"one of: {known}.",
            id="activityui.W002",
        )
    ]

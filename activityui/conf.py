"""activityui settings: one ``ACTIVITYUI`` dict, read lazily so ``override_settings`` works."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast, overload

from django.conf import settings as django_settings


class Setting[T]:
    """One key of ``ACTIVITYUI``: its default here, its value read from the settings on every
    access (so ``override_settings`` works), typed ``T`` for mypy. The type is a promise to
    the code, not a check of the host's value: ``manage.py check`` validates the values people
    get wrong (``activityui.checks``)."""

    name: str

    def __init__(self, default: T) -> None:
        self.default = default

    def __set_name__(self, owner: type[ActivityUISettings], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type[ActivityUISettings] | None = None) -> Setting[T]: ...
    @overload
    def __get__(
        self, obj: ActivityUISettings, owner: type[ActivityUISettings] | None = None
    ) -> T: ...
    def __get__(
        self, obj: ActivityUISettings | None, owner: type[ActivityUISettings] | None = None
    ) -> Setting[T] | T:
        if obj is None:
            return self
        return cast(T, obj.value(self.name))

    def __set__(self, obj: ActivityUISettings, value: T) -> None:
        raise AttributeError(
            f"ACTIVITYUI[{self.name!r}] is read from settings; use override_settings to change it"
        )


class ActivityUISettings:
    """Attribute access to ``settings.ACTIVITYUI`` merged over the defaults below; each
    attribute has the type of its setting."""

    # template every activityui page extends; it must define the block named below
    BASE_TEMPLATE = Setting[str]("activityui/base.html")
    CONTENT_BLOCK = Setting[str]("content")
    # colours of activityui's elements: "auto" follows the OS (prefers-color-scheme), "light"
    # or "dark" fixes them (one element or part of the page: data-aui-theme="light|dark")
    THEME = Setting[str]("auto")
    # htmx's global config that activityui/_head.html writes as <meta name="htmx-config">;
    # None writes none, so a host keeps its own (see docs/quickstart.md, "htmx")
    HTMX_CONFIG = Setting[dict[str, Any] | None](
        {
            "includeIndicatorStyles": False,  # no inline <style> (a strict CSP refuses it)
            "allowEval": False,
            "allowScriptTags": False,
            "selfRequestsOnly": True,
            "historyCacheSize": 0,  # back/forward reload live pages instead of stale snapshots
            "scrollIntoViewOnBoost": False,
        }
    )
    # entries per page of the feed, timeline and staff console
    PAGE_SIZE = Setting[int](25)
    MAX_PAGE_SIZE = Setting[int](100)
    # seconds between polls for new items; 0 turns live updates off
    POLL_INTERVAL = Setting[int](10)
    # the feed shown at /activity/ ("following" is built in; register others with register_feed)
    DEFAULT_FEED = Setting[str]("following")
    # username of the actor used outside a request when none is given (created on first use)
    SYSTEM_ACTOR = Setting[str]("system")
    # dotted path of a function returning that actor instead (any saved model instance)
    SYSTEM_ACTOR_FUNCTION = Setting[str | None](None)
    # text values in changes and labels are cut to this many characters (with a marker)
    MAX_TEXT_LENGTH = Setting[int](2000)
    MAX_LABEL_LENGTH = Setting[int](200)
    # an action whose target or object is of a type without a registered visibility rule
    # is shown to staff only when False
    UNREGISTERED_VISIBLE = Setting[bool](False)
    # user model fields the staff console's actor filter searches (part, any case) besides the
    # names snapshotted with the actions; None: USERNAME_FIELD, email, the text fields of
    # REQUIRED_FIELDS, first and last name
    PERSON_SEARCH_FIELDS = Setting[Sequence[str] | None](None)
    # staff console: counts are exact up to this number, then shown as "N+"
    COUNT_LIMIT = Setting[int](10_000)
    # cache alias where polls remember "nothing new for this user at this point" (one index
    # probe answers the next poll until any action is written); None: no cache
    POLL_CACHE = Setting[str | None]("default")
    # cache alias keeping rendered feed and timeline rows (their per-viewer parts and
    # relative times are filled per request); None: rows are rendered on every request
    ROW_CACHE = Setting[str | None]("default")
    # seconds a rendered row stays cached (rows never change; a template override changes keys)
    ROW_CACHE_TIMEOUT = Setting[int](7 * 24 * 3600)
    # database alias that feed reads go to (e.g. a PostgreSQL replica); None = default routing
    READ_DATABASE = Setting[str | None](None)
    # default age for `manage.py prune_activity`, in days; None (or 0): --older-than required
    RETENTION_DAYS = Setting[int | None](400)

    def _user_settings(self) -> dict[str, Any]:
        value = getattr(django_settings, "ACTIVITYUI", {})
        return value if isinstance(value, dict) else {}

    def value(self, name: str) -> object:
        """The value of setting ``name`` as the host gave it (or its default), unchecked: for
        the system checks, which validate it."""
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown activityui setting: {name}")
        return self._user_settings().get(name, DEFAULTS[name])

    def unknown_keys(self) -> list[str]:
        return sorted(set(self._user_settings()) - set(DEFAULTS))


# every setting and its default, by name
DEFAULTS: dict[str, Any] = {
    name: attr.default
    for name, attr in vars(ActivityUISettings).items()
    if isinstance(attr, Setting)
}

app_settings = ActivityUISettings()

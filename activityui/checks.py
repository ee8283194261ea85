"""System checks for the mistakes people make when adding activityui to a site."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

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


# --- hosts that are not the demo: model shapes and the system actor ---


@register()
def check_system_actor(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The system actor must be creatable: a function that imports, or a valid login value."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.utils.module_loading import import_string

    path = app_settings.SYSTEM_ACTOR_FUNCTION
    if path:
        try:
            import_string(path)
        except ImportError as exc:
            return [
                Error(
                    f"ACTIVITYUI['SYSTEM_ACTOR_FUNCTION'] is {path!r}, which does not import: "
                    f"{exc}.",
                    hint="Give the dotted path of a function that returns the actor of what "
                    "happens outside a request (a saved model instance).",
                    id="activityui.E005",
                )
            ]
        return []
    user_model = get_user_model()
    field: Any = user_model._meta.get_field(user_model.USERNAME_FIELD)
    value = app_settings.SYSTEM_ACTOR
    try:
        field.clean(value, None)
    except ValidationError as exc:
        return [
            Error(
                f"ACTIVITYUI['SYSTEM_ACTOR'] is {value!r}, which is not a valid "
                f"{user_model._meta.label}.{field.name} ({'; '.join(exc.messages)}): activityui "
                "could not create the system actor, the actor of what happens outside a "
                "request (commands, tasks, the shell).",
                hint="Set ACTIVITYUI['SYSTEM_ACTOR_FUNCTION'] to the dotted path of a function "
                "returning an actor of yours (a service account, a bot), or set "
                f"ACTIVITYUI['SYSTEM_ACTOR'] to a valid {field.name} that you own.",
                id="activityui.E006",
            )
        ]
    return []


def _served_models() -> list[Any]:
    """The models whose ids activityui stores or compares: tracked, visibility-registered (so
    followable) and the user model (actors)."""
    from django.contrib.auth import get_user_model

    from activityui.tracked import tracked_models
    from activityui.visibility import visibility_rules

    models = [*tracked_models(), *visibility_rules(), get_user_model()]
    return list(dict.fromkeys(models))


@register()
def check_model_shapes(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Primary keys activityui cannot keep in actstream's text object ids, or only slowly."""
    from activityui.ids import MAX_ID_LENGTH, id_kind, key_field

    problems: list[Any] = []
    for model in _served_models():
        label = model._meta.label
        kind = id_kind(model)
        if kind == "composite":
            problems.append(
                Error(
                    f"{label} has a composite primary key: activityui cannot record, show or "
                    "follow its objects.",
                    hint="actstream keeps one object id per actor, object and target, as text. "
                    "Record such rows through a model with a single primary key (e.g. the "
                    "parent they belong to), and do not track() or register_visibility() this "
                    "one.",
                    obj=model,
                    id="activityui.E007",
                )
            )
            continue
        field = key_field(model)
        length = getattr(field, "max_length", None)
        if kind == "text" and (length is None or length > MAX_ID_LENGTH):
            problems.append(
                Error(
                    f"{label}'s primary key {field.name} may hold "
                    f"{'text of any length' if length is None else f'{length} characters'}; "
                    f"actstream's object ids hold at most {MAX_ID_LENGTH}.",
                    hint=f"Give it max_length={MAX_ID_LENGTH} or less.",
                    obj=model,
                    id="activityui.E008",
                )
            )
        elif kind == "other":
            problems.append(
                Warning(
                    f"{label}'s primary key is a {type(field).__name__}, which activityui "
                    "cannot turn into actstream's text ids in SQL: the visible ids of this "
                    "model are read into Python lists, which is slower with many objects.",
                    hint="Integer, UUID and text primary keys are compared in the database.",
                    obj=model,
                    id="activityui.W003",
                )
            )
    return problems


# --- host fit: the base template, the sign-in page, the settings' values ---

THEMES = ("auto", "light", "dark")


def _blocks(template: Any, seen: set[str] | None = None) -> set[str]:
    """The block names of a compiled template and of the templates it extends (by name)."""
    from django.template import Context
    from django.template.loader_tags import BlockNode, ExtendsNode

    seen = seen if seen is not None else set()
    nodelist = template.nodelist
    names = {node.name for node in nodelist.get_nodes_by_type(BlockNode)}
    for node in nodelist.get_nodes_by_type(ExtendsNode):
        try:
            parent_name = node.parent_name.resolve(Context())
        except Exception:  # a variable: cannot be followed without a request
            continue  # noqa: S112
        if isinstance(parent_name, str) and parent_name not in seen:
            seen.add(parent_name)
            names |= _blocks(template.engine.get_template(parent_name), seen)
    return names


@register()
def check_base_template(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``BASE_TEMPLATE`` exists and has the block named ``CONTENT_BLOCK``: else every activityui
    page is an error, or silently blank."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template

    from activityui.views.common import BLOCK_NAME

    base, block = app_settings.BASE_TEMPLATE, app_settings.CONTENT_BLOCK
    if not isinstance(block, str) or not BLOCK_NAME.match(block):
        return [
            Error(
                f"ACTIVITYUI['CONTENT_BLOCK'] is {block!r}, which is not a template block name.",
                id="activityui.E011",
            )
        ]
    try:
        template = get_template(base)
    except TemplateDoesNotExist:
        return [
            Error(
                f"ACTIVITYUI['BASE_TEMPLATE'] is {base!r}, but no template of that name is found.",
                hint="Name your site's base template, or leave the key out to use activityui's.",
                id="activityui.E010",
            )
        ]
    except TemplateSyntaxError as exc:
        return [Error(f"ACTIVITYUI['BASE_TEMPLATE'] {base!r}: {exc}", id="activityui.E010")]
    compiled = getattr(template, "template", None)
    if compiled is None:  # another template engine: its blocks cannot be read here
        return []
    blocks = _blocks(compiled)
    if block in blocks:
        return []
    known = ", ".join(sorted(blocks)) or "none"
    return [
        Error(
            f"The base template {base!r} has no block {block!r} (ACTIVITYUI['CONTENT_BLOCK']): "
            "activityui's pages would be blank.",
            hint=f"Set CONTENT_BLOCK to the block your pages fill. Its blocks: {known}.",
            id="activityui.E012",
        )
    ]


@register(Tags.urls)
def check_login_url(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``LOGIN_URL`` leads somewhere: activityui's pages send signed-out visitors there."""
    from urllib.parse import urlsplit

    from django.shortcuts import resolve_url
    from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve

    login_url = settings.LOGIN_URL
    try:
        url = str(resolve_url(login_url))
    except NoReverseMatch:
        url = ""
    parts = urlsplit(url)
    if url and (parts.scheme or parts.netloc):
        return []  # another site's sign-in page: nothing to check here
    path = parts.path
    prefix = get_script_prefix()
    if path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    try:
        if path.startswith("/"):
            resolve(path)
            return []
    except Resolver404:
        pass
    return [
        Warning(
            f"LOGIN_URL ({login_url!r}) does not lead to a page of this site: signed-out "
            "visitors of activityui's pages are sent to a 404.",
            hint="Add a sign-in page, e.g. path('accounts/', include('django.contrib.auth.urls'))"
            " and a registration/login.html template, or set LOGIN_URL to yours.",
            id="activityui.W005",
        )
    ]


@register()
def check_values(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if app_settings.THEME not in THEMES:
        problems.append(
            Error(
                f"ACTIVITYUI['THEME'] is {app_settings.THEME!r}; it is one of "
                f"{', '.join(map(repr, THEMES))}.",
                id="activityui.E013",
            )
        )
    config = app_settings.value("HTMX_CONFIG")  # as the host wrote it, before it is trusted
    if config is not None and not isinstance(config, dict):
        problems.append(Error("ACTIVITYUI['HTMX_CONFIG'] is a dict or None.", id="activityui.E014"))
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if "activityui.middleware.ActivityUIMiddleware" in middleware and auth not in middleware:
        problems.append(
            Warning(
                f"{auth} is not in MIDDLEWARE: activityui cannot tell who is signed in, and "
                "captured actions are attributed to the system actor.",
                id="activityui.W006",
            )
        )
    return problems


SUPPORTED_VENDORS = ("postgresql", "sqlite")


@register(Tags.database)
def check_database(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """The text index and the history's field-change index are kept by the database itself
    (PostgreSQL's tsvector and triggers, SQLite's FTS5 and triggers): elsewhere search scans
    and as-of views miss every change. Run only when ``check --database`` asks."""
    from django.db import connections

    vendors = {alias: connections[alias].vendor for alias in databases or []}
    return database_problems(vendors)


def database_problems(vendors: dict[str, str]) -> list[Any]:
    """A warning per database alias whose vendor activityui cannot index."""
    return [
        Warning(
            f"The database {alias!r} is {vendor}: activityui keeps its text index, the "
            "history's field-change index and the chart's action counts only on PostgreSQL "
            "and SQLite.",
            hint="On this database search scans every action, as-of views know no change and "
            "the staff chart counts every action of its window.",
            id="activityui.W007",
        )
        for alias, vendor in vendors.items()
        if vendor not in SUPPORTED_VENDORS
    ]

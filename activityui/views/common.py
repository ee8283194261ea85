"""What every view shares: the htmx request type, page-or-fragment rendering, cursor and
filter parameters."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template import Engine
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor
from activityui.rowcache import flush_rows


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# the headers is_fragment_request() reads: a response that depends on it names them in Vary
FRAGMENT_VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """True for htmx requests that want a fragment (not boosted, not a history restore);
    its answer depends on the headers of ``FRAGMENT_VARY``."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the page, or only its ``fragment`` partial for htmx (``Vary``: ``FRAGMENT_VARY``)."""
    name = f"{template}#{fragment}" if fragment and is_fragment_request(request) else template
    context.setdefault("activityui_base_template", base_template())
    response = render(request, name, context, status=status)
    flush_rows(request)  # the rows rendered for this page, written to the row cache at once
    patch_vary_headers(response, FRAGMENT_VARY)
    return response


BLOCK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def base_template() -> Any:
    """What activityui's pages extend: ``BASE_TEMPLATE`` itself when its content block is
    called ``content`` (activityui's pages fill ``content``), else a small bridge template
    that extends it and fills its ``CONTENT_BLOCK`` with activityui's ``content`` block."""
    base = app_settings.BASE_TEMPLATE
    block = app_settings.CONTENT_BLOCK
    if block == "content":
        return base
    return _bridge(base, block)


def _bridge(base: str, block: str) -> Any:
    # a few dozen characters to compile: not worth a cache that override_settings would outlive
    if not BLOCK_NAME.match(block):  # the system check reports it too
        raise ImproperlyConfigured(f"ACTIVITYUI['CONTENT_BLOCK'] is not a block name: {block!r}")
    if '"' in base or "\\" in base:
        raise ImproperlyConfigured(f"ACTIVITYUI['BASE_TEMPLATE'] is not a template name: {base!r}")
    source = (
        f'{{% extends "{base}" %}}{{% block {block} %}}{{% block content %}}{{% endblock %}}'
        "{% endblock %}"
    )
    return Engine.get_default().from_string(source)


class BadParameter(ValueError):
    pass


def cursor_param(request: HttpRequest, name: str) -> Cursor | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return None
    try:
        return decode_cursor(value)
    except InvalidCursor as exc:
        raise BadParameter(f"'{name}' is not a valid cursor") from exc


def filter_query(request: HttpRequest, *, leave_out: Collection[str]) -> QueryDict:
    """The request's non-empty parameters without those of ``leave_out`` (cursors): the
    query string of a clean, shareable URL of the same filters."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key in leave_out:
            continue
        kept = [value for value in values if value.strip()]
        if kept:
            query.setlist(key, kept)
    return query


def url_with_query(path: str, query: QueryDict) -> str:
    """``path`` with ``query`` (no ``?`` when it is empty)."""
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path

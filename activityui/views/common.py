"""What every view shares: the htmx request type, page-or-fragment rendering, cursor parameters."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor
from activityui.rowcache import flush_rows


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """True for htmx requests that want a fragment (not boosted, not a history restore)."""
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
    """Render the page, or only its ``fragment`` partial for htmx; always ``Vary: HX-Request``."""
    name = f"{template}#{fragment}" if fragment and is_fragment_request(request) else template
    context.setdefault("activityui_base_template", app_settings.BASE_TEMPLATE)
    response = render(request, name, context, status=status)
    flush_rows(request)  # the rows rendered for this page, written to the row cache at once
    patch_vary_headers(response, ["HX-Request"])
    return response


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

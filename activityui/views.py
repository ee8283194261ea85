"""HTTP: thin function views. One URL serves a page and its fragments (``request.htmx``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor
from activityui.feeds import get_feed
from activityui.filters import ActionFilterSet
from activityui.presenters import group_by_day, present
from activityui.selectors import UnknownFeed, action_list_for_feed, page_of


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """True for htmx requests that want a fragment (not boosted, not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


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


@require_GET
@login_required
def feed(request: HtmxHttpRequest, feed_name: str | None = None) -> HttpResponse:
    """A named feed (the default one at /activity/), newest first, with filters."""
    name = feed_name or app_settings.DEFAULT_FEED
    scope = get_feed(name)
    try:
        actions = action_list_for_feed(user=request.user, feed=name)
    except UnknownFeed as exc:
        raise Http404("No such feed") from exc
    try:
        before = cursor_param(request, "before")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    filterset = ActionFilterSet(request.GET or None, queryset=actions, request=request)
    valid = filterset.is_valid() if filterset.is_bound else True
    if valid:
        page = page_of(filterset.qs, before=before, size=app_settings.PAGE_SIZE)
    else:
        page = page_of(actions.none(), size=app_settings.PAGE_SIZE)
    entries = present(page.actions)
    context = {
        "feed": scope,
        "feed_name": name,
        "filterset": filterset,
        "filters_valid": valid,
        "page": page,
        "days": group_by_day(entries),
        "entries": entries,
    }
    return render_page(
        request,
        "activityui/feed.html",
        context,
        fragment="feed-page" if before else "feed-items",
    )

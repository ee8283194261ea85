"""Feeds: the page, load more, the poll and the "new items" reveal, and the read marker."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor, encode_cursor
from activityui.days import FeedDay, feed_days
from activityui.feeds import feed_tabs, feed_url, get_feed
from activityui.filters import ActionFilterSet
from activityui.follows import followable_types, followed_keys
from activityui.ids import id_of
from activityui.keyset import page_of
from activityui.polls import (
    Signature,
    known_quiet,
    newer_than_cursor,
    quiet_key,
    remember_quiet,
    site_signature,
)
from activityui.presenters import UNREAD_CAP, count_label, present
from activityui.readmarkers import move_read_marker
from activityui.rowcache import flush_rows, prefetch_rows
from activityui.selectors import (
    Stream,
    UnknownFeed,
    feed_stream,
    no_actions,
    read_marker_for,
    stream_newer,
    stream_page,
    unread_count,
    unread_on_first_page,
)
from activityui.views.common import (
    BadParameter,
    HtmxHttpRequest,
    cursor_param,
    is_fragment_request,
    render_page,
)

FEED_TEMPLATE = "activityui/feed.html"
CURSOR_PARAMS = ("before", "after", "seen")


def _feed_url(name: str) -> str:
    return feed_url(name)


def _filter_params(request: HttpRequest) -> QueryDict:
    """The non-empty filter parameters of the request, without cursors: a clean, shareable URL."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key in CURSOR_PARAMS:
            continue
        kept = [value for value in values if value.strip()]
        if kept:
            query.setlist(key, kept)
    return query


def _own_actor(user: Any) -> tuple[str, str]:
    return (user._meta.label_lower, id_of(user))


def _local_day(cursor: Cursor | None) -> dt.date | None:
    return timezone.localtime(cursor.timestamp).date() if cursor else None


def _feed_days(
    request: HttpRequest,
    entries: list[Any],
    *,
    marker: Cursor | None,
    new_above: bool = False,
    continues_day: dt.date | None = None,
) -> list[FeedDay]:
    followable = followable_types()
    refs = {
        (e.action_object.type_key, e.action_object.object_id)
        for e in entries
        if e.action_object and e.action_object.type_key in followable
    }
    followed = followed_keys(user=request.user, refs=refs) if refs else set()
    return feed_days(
        entries,
        marker=marker,
        own_actor=_own_actor(request.user),
        new_above=new_above,
        continues_day=continues_day,
        followable=followable,
        followed=followed,
    )


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _poll_response(
    request: HtmxHttpRequest,
    stream: Stream,
    narrow: Any,
    after: Cursor,
    signature: Signature | None,
    quiet: str,
) -> HttpResponse:
    """The banner for the polling sentinel: 204 (nothing swapped) when nothing is new."""
    limit = app_settings.MAX_PAGE_SIZE
    count = 0
    if newer_than_cursor(signature, after):
        rows = stream_newer(stream, after=after, narrow=narrow, limit=limit + 1, probe=False)
        count = len(rows)
        if not count:
            remember_quiet(quiet, signature)
    if not count:
        response = HttpResponse(status=204)
    else:
        context = {
            "new_count": min(count, limit),
            "too_many": count > limit,
            "filter_query": _filter_params(request).urlencode(),
            "after": request.GET.get("after", ""),
        }
        response = render(request, f"{FEED_TEMPLATE}#feed-banner", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Read-only GET views opt out of ATOMIC_REQUESTS: a transaction around a read costs two
# round trips per request (polls included) and protects nothing.
@transaction.non_atomic_requests
@require_GET
@login_required
# the poll (HX-Target feed-banner) and the page share a URL: caches must keep them apart
@vary_on_headers("HX-Request", "HX-Target")
def feed(request: HtmxHttpRequest, feed_name: str | None = None) -> HttpResponse:
    """A named feed (the default one at /activity/), newest first, with filters.

    One URL: ``before`` pages older entries ("load more"), ``after`` asks for newer ones
    (the polling sentinel, whose target is the banner, gets a count or 204; the banner's
    button gets the entries). GET never writes: the read marker moves by POST.
    """
    name = feed_name or app_settings.DEFAULT_FEED
    scope = get_feed(name)
    if scope is None:
        raise Http404("No such feed")
    try:
        before = cursor_param(request, "before")
        after = cursor_param(request, "after")
        seen = cursor_param(request, "seen")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    polling = (
        after is not None and is_fragment_request(request) and request.htmx.target == "feed-banner"
    )
    signature: Signature | None = None
    quiet = ""
    if polling:
        assert after is not None
        # the cheap poll: one probe of two indexes, before any scope or visibility work.
        # Nothing newer anywhere on the site: nothing newer in this feed. Else, an earlier
        # full check that found nothing for this very poll while the site was as it is now
        # still holds (selectors.known_quiet).
        signature = site_signature()
        filters = _filter_params(request)
        if not filters and not newer_than_cursor(signature, after):
            return _no_content()
        quiet = quiet_key(user=request.user, feed=name, query=filters.urlencode(), after=after)
        if known_quiet(quiet, signature):
            return _no_content()
    try:
        stream = feed_stream(user=request.user, feed=name)
    except UnknownFeed as exc:
        raise Http404("No such feed") from exc
    filterset = ActionFilterSet(
        request.GET or None,
        queryset=no_actions(),
        request=request,
        actions=stream.branch_queryset,  # the menus list what occurs in this feed
    )
    valid = filterset.is_valid() if filterset.is_bound else True
    for field_name in filterset.form.errors:
        if field_name in filterset.form.fields:  # tie each error to its field for screen readers
            attrs = filterset.form.fields[field_name].widget.attrs
            attrs.update({"aria-invalid": "true", "aria-describedby": f"feed-error-{field_name}"})
    filter_query = _filter_params(request)
    filters_active = valid and any(key in filterset.form.fields for key in filter_query)
    fragment = is_fragment_request(request)
    size = app_settings.PAGE_SIZE

    # the filters narrow each index-friendly branch of the feed's scope (selectors.stream_page)
    narrow = filterset.filter_queryset if filterset.is_bound and valid else None
    if after is not None and fragment:
        if not valid:
            return HttpResponseBadRequest("Invalid filters")
        if polling:
            return _poll_response(request, stream, narrow, after, signature, quiet)
        return _feed_new(request, name, stream, narrow, after, filter_query, filters_active)

    marker = seen if seen is not None else read_marker_for(user=request.user, feed=name)
    if valid:
        page = stream_page(stream, narrow=narrow, before=before, size=size)
    else:
        page = page_of(no_actions(), size=size)
    if not fragment and before is None and seen is None and valid and not filters_active:
        # the navigation's unread badge of this feed, read off this page (no query when the
        # page decides it) if the page shows the badge: {% aui_unread_badge %} calls this
        known = getattr(request, "activityui_unread", {})
        request.activityui_unread = {  # type: ignore[attr-defined]
            **known,
            name: lambda: unread_on_first_page(
                stream, page, user=request.user, marker=marker, limit=UNREAD_CAP
            ),
        }
    entries = present(page.actions)
    days = _feed_days(
        request,
        entries,
        marker=marker,
        new_above=bool(before and marker and before > marker),
        continues_day=_local_day(before) if fragment else None,
    )
    prefetch_rows(request, [item for day in days for item in day.items])  # one cache read
    newest = page.newest_cursor or encode_cursor(timezone.now(), 0)
    newest_action = page.actions[0] if page.actions else None
    show_mark_read = bool(
        before is None
        and not filters_active
        and newest_action is not None
        and (
            marker is None
            or (newest_action.timestamp, newest_action.pk) > (marker.timestamp, marker.id)
        )
    )
    more_query = filter_query.copy()
    if page.next_cursor:
        more_query["before"] = page.next_cursor
        if marker is not None:
            more_query["seen"] = encode_cursor(marker.timestamp, marker.id)
    context = {
        "feed": scope,
        "feed_name": name,
        "feed_url": _feed_url(name),
        "feed_tabs": feed_tabs(),
        "filterset": filterset,
        "filters_valid": valid,
        "filters_active": filters_active,
        "filter_query": filter_query.urlencode(),
        "more_query": more_query.urlencode(),
        "page": page,
        "days": days,
        "join": "beforeend",
        "entries": entries,
        "newest_cursor": newest,
        "poll_interval": app_settings.POLL_INTERVAL if before is None and valid else 0,
        "mark_read_cursor": newest if show_mark_read else None,
        "first_page": before is None,
        "fragment": fragment,
    }
    response = render_page(
        request, FEED_TEMPLATE, context, fragment="feed-page" if before else "feed-items"
    )
    if fragment and before is None:
        # the filter form sends empty fields too; push the clean URL that reproduces the page
        query = filter_query.urlencode()
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    return response


def _feed_new(
    request: HtmxHttpRequest,
    name: str,
    stream: Stream,
    narrow: Any,
    after: Cursor,
    filter_query: QueryDict,
    filters_active: bool,
) -> HttpResponse:
    """Entries newer than ``after``, put on top of the list when the banner is clicked."""
    limit = app_settings.MAX_PAGE_SIZE
    rows = stream_newer(stream, after=after, narrow=narrow, limit=limit + 1)
    if len(rows) > limit:
        # too many to slot in without a gap: load the page afresh
        query = filter_query.urlencode()
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{request.path}?{query}" if query else request.path
        return response
    entries = present(rows)
    marker = read_marker_for(user=request.user, feed=name)
    days = _feed_days(request, entries, marker=marker)
    prefetch_rows(request, [item for day in days for item in day.items])
    after_day = _local_day(after)
    if days and days[-1].day == after_day and after.id:  # id 0: the list was empty
        days[-1] = replace(days[-1], continued=True)
    newest = entries[0].cursor if entries else request.GET["after"]
    context = {
        "feed": get_feed(name),
        "feed_name": name,
        "feed_url": _feed_url(name),
        "filter_query": filter_query.urlencode(),
        "days": days,
        "join": "afterbegin",
        "entries": entries,
        "newest_cursor": newest,
        "poll_interval": app_settings.POLL_INTERVAL,
        "mark_read_cursor": newest if rows and not filters_active else None,
        "oob": True,
    }
    response = render(request, f"{FEED_TEMPLATE}#feed-new", context)
    flush_rows(request)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def feed_mark_read(request: HtmxHttpRequest) -> HttpResponse:
    """Move the user's read marker of a feed up to the newest entry the page has shown."""
    name = request.POST.get("feed", "")
    if get_feed(name) is None:
        raise Http404("No such feed")
    try:
        cursor = decode_cursor(request.POST.get("cursor", ""))
    except InvalidCursor:
        return HttpResponseBadRequest("'cursor' is not a valid cursor")
    # a marker in the future would hide what happens until then
    when = min(cursor.timestamp, timezone.now())
    move_read_marker(user=request.user, feed=name, timestamp=when, action_id=cursor.id)
    if not request.htmx:
        return redirect(_feed_url(name))
    # the host's badge (if it shows one) updates from this event (activityui.js)
    response = HttpResponse("")
    response["HX-Trigger"] = json.dumps(
        {"aui:unread": {"feed": name, "count": _unread_label(request, name)}}
    )
    return response


def _unread_label(request: HttpRequest, name: str) -> str:
    count = unread_count(user=request.user, feed=name, limit=UNREAD_CAP)
    return count_label(count, UNREAD_CAP)

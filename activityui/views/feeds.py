"""Feeds: the page, load more, the poll and the "new items" reveal, and the read marker."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url, trigger_client_event

from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor, encode_cursor
from activityui.days import FeedDay, feed_days
from activityui.feeds import feed_tabs, feed_url, get_feed
from activityui.filters import ActionFilterSet
from activityui.follows import followable_types, followed_keys
from activityui.ids import id_of
from activityui.keyset import Page, page_of
from activityui.menus import MENU_WINDOW
from activityui.polls import (
    known_quiet,
    newer_than_cursor,
    quiet_key,
    read_marker_and_signature,
    remember_quiet,
    site_signature,
    unread_count_remembered,
)
from activityui.presenters import UNREAD_CAP, count_label, present
from activityui.readmarkers import move_read_marker
from activityui.rowcache import flush_rows, prefetch_rows
from activityui.selectors import (
    Narrow,
    Stream,
    UnknownFeed,
    feed_stream,
    no_actions,
    read_marker_for,
    stream_newer,
    stream_page,
    unread_on_first_page,
    unread_on_page,
)
from activityui.views.common import (
    FRAGMENT_VARY,
    BadParameter,
    HtmxHttpRequest,
    cursor_param,
    filter_query,
    is_fragment_request,
    render_page,
    url_with_query,
)
from activityui.visibility import as_person

if TYPE_CHECKING:
    from activityui.visibility import Viewer

FEED_TEMPLATE = "activityui/feed.html"
CURSOR_PARAMS = ("before", "after", "seen")
POLL_TARGET = "feed-banner"  # the polling sentinel's hx-target; the reveal has another


# Read-only GET views opt out of ATOMIC_REQUESTS: a transaction around a read costs two
# round trips per request (polls included) and protects nothing.
@transaction.non_atomic_requests
@require_GET
@login_required
# the poll and the reveal share the URL and the cursor, told apart by HX-Target: caches
# must keep them (and the page and its fragments) apart
@vary_on_headers(*FRAGMENT_VARY, "HX-Target")
def feed(request: HtmxHttpRequest, feed_name: str | None = None) -> HttpResponse:
    """A named feed (the default one at /activity/), newest first, with filters.

    One URL, four kinds of request: the page; load more (``before``); and, from htmx, with
    ``after``, the poll (the sentinel's, whose target is the banner) and the reveal (the
    banner's button). GET never writes: the read marker moves by POST.
    """
    name = feed_name or app_settings.DEFAULT_FEED
    if get_feed(name) is None:
        raise Http404("No such feed")
    try:
        before = cursor_param(request, "before")
        after = cursor_param(request, "after")
        seen = cursor_param(request, "seen")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    if after is not None and is_fragment_request(request):
        if request.htmx.target == POLL_TARGET:
            return _poll(request, name, after=after)
        return _reveal(request, name, after=after)
    if before is not None:
        return _more(request, name, before=before, seen=seen)
    return _page(request, name, seen=seen)


# --- the four kinds of request ---


def _page(request: HtmxHttpRequest, name: str, *, seen: Cursor | None) -> HttpResponse:
    """The newest page: the whole page, or for htmx (the filter form) the list, with the
    clean URL of the filters pushed (the form sends its empty fields too)."""
    listing = _listing(request, name)
    marker = (
        seen
        if seen is not None
        else read_marker_and_signature(request, user=request.user, feed=name)
    )
    page = _read_page(listing, before=None)
    context = _list_context(request, listing, page, marker=marker, before=None)
    newest = page.actions[0] if page.actions else None
    unseen = newest is not None and (
        marker is None or (newest.timestamp, newest.pk) > (marker.timestamp, marker.id)
    )
    context["poll_interval"] = app_settings.POLL_INTERVAL if listing.valid else 0
    context["mark_read_cursor"] = (
        context["newest_cursor"] if unseen and not listing.active else None
    )
    if not context["fragment"] and seen is None and listing.valid and not listing.active:
        # the host's unread badge of this feed ({% aui_unread_badge %}) reads the count off
        # this page: no query when the page decides it, none at all without a badge
        context["activityui_unread"] = {
            name: partial(_unread_badge, request, listing, page, marker=marker)
        }
    response = render_page(request, FEED_TEMPLATE, context, fragment="feed-items")
    if context["fragment"]:
        push_url(response, url_with_query(request.path, listing.query))
    return response


def _more(
    request: HtmxHttpRequest, name: str, *, before: Cursor, seen: Cursor | None
) -> HttpResponse:
    """Load more: the page older than ``before`` (for htmx only its entries, the first day
    continuing the last one shown). ``seen`` keeps the read marker of the first page."""
    listing = _listing(request, name)
    marker = seen if seen is not None else read_marker_for(user=request.user, feed=name)
    page = _read_page(listing, before=before)
    context = _list_context(request, listing, page, marker=marker, before=before)
    context.update(poll_interval=0, mark_read_cursor=None)
    return render_page(request, FEED_TEMPLATE, context, fragment="feed-page")


def _poll(request: HtmxHttpRequest, name: str, *, after: Cursor) -> HttpResponse:
    """The polling sentinel: the banner with the count of new entries, or 204 (nothing
    swapped) when nothing is new."""
    # the cheap checks first, before any scope, visibility or FilterSet work: nothing newer
    # anywhere on the site is nothing newer in this feed; else an earlier full check that
    # found nothing for this very poll while the site was as it is now still holds
    signature = site_signature(request)
    filters = filter_query(request, leave_out=CURSOR_PARAMS)
    if not filters and not newer_than_cursor(signature, after):
        return HttpResponse(status=204)
    quiet = quiet_key(user=request.user, feed=name, query=filters.urlencode(), after=after)
    if known_quiet(quiet, signature):
        return HttpResponse(status=204)
    listing = _listing(request, name)
    if not listing.valid:
        return HttpResponseBadRequest("Invalid filters")
    limit = app_settings.MAX_PAGE_SIZE
    count = 0
    if newer_than_cursor(signature, after):  # (just probed: stream_newer need not again)
        rows = stream_newer(
            listing.stream, after=after, narrow=listing.narrow, limit=limit + 1, probe=False
        )
        count = len(rows)
        if not count:
            remember_quiet(quiet, signature)
    if not count:
        return HttpResponse(status=204)
    context = {
        "new_count": min(count, limit),
        "too_many": count > limit,
        "filter_query": listing.query.urlencode(),
        "after": request.GET["after"],
    }
    return render(request, f"{FEED_TEMPLATE}#feed-banner", context)


def _unread_badge(
    request: HtmxHttpRequest, listing: Listing, page: Page, *, marker: Cursor | None
) -> int:
    """The feed's own unread count for the host's badge, read off its first page: no query
    when the page decides it, else the COUNT past the page, remembered under the site's
    signature like the badge on every other page (polls.unread_count_remembered)."""
    user = request.user
    unread, decided = unread_on_page(page, user=user, marker=marker, limit=UNREAD_CAP)
    if decided:
        return unread
    return unread_count_remembered(
        request=request,
        user=user,
        feed=listing.name,
        limit=UNREAD_CAP,
        marker=marker,
        count=partial(
            unread_on_first_page, listing.stream, page, user=user, marker=marker, limit=UNREAD_CAP
        ),
    )


def _reveal(request: HtmxHttpRequest, name: str, *, after: Cursor) -> HttpResponse:
    """The banner's button: the entries newer than ``after``, put on top of the list."""
    listing = _listing(request, name)
    if not listing.valid:
        return HttpResponseBadRequest("Invalid filters")
    limit = app_settings.MAX_PAGE_SIZE
    rows = stream_newer(listing.stream, after=after, narrow=listing.narrow, limit=limit + 1)
    if len(rows) > limit:  # too many to slot in without a gap: load the page afresh
        return HttpResponseClientRedirect(url_with_query(request.path, listing.query), status=204)
    entries = present(rows)
    days = _feed_days(request, entries, marker=read_marker_for(user=request.user, feed=name))
    prefetch_rows(request, [item for day in days for item in day.items])
    if days and days[-1].day == _local_day(after) and after.id:  # id 0: the list was empty
        days[-1] = replace(days[-1], continued=True)
    newest = entries[0].cursor if entries else request.GET["after"]
    context = {
        "feed": get_feed(name),
        "feed_name": name,
        "feed_url": feed_url(name),
        "filter_query": listing.query.urlencode(),
        "days": days,
        "join": "afterbegin",
        "entries": entries,
        "newest_cursor": newest,
        "poll_interval": app_settings.POLL_INTERVAL,
        "mark_read_cursor": newest if rows and not listing.active else None,
        "oob": True,
    }
    response = render(request, f"{FEED_TEMPLATE}#feed-new", context)
    flush_rows(request)
    return response


# --- what they share ---


@dataclass(frozen=True)
class Listing:
    """A feed as one request asks for it: its stream and the request's filters."""

    name: str
    stream: Stream
    filterset: ActionFilterSet
    valid: bool
    query: QueryDict  # the non-empty filters without cursors: a clean, shareable URL

    @property
    def narrow(self) -> Narrow | None:
        """What narrows each index-friendly branch of the feed (selectors.stream_page)."""
        return self.filterset.filter_queryset if self.filterset.is_bound and self.valid else None

    @property
    def active(self) -> bool:
        """Some valid filter is set (the page is not the whole feed)."""
        return self.valid and any(key in self.filterset.form.fields for key in self.query)


def _listing(request: HtmxHttpRequest, name: str) -> Listing:
    try:
        stream = feed_stream(user=request.user, feed=name)
    except UnknownFeed as exc:
        raise Http404("No such feed") from exc
    filterset = ActionFilterSet(
        request.GET or None,
        queryset=no_actions(),
        request=request,
        actions=lambda: stream.window(MENU_WINDOW),  # the menus list what occurs in this feed
        menu_scope=f"feed:{name}",
    )
    valid = filterset.is_valid() if filterset.is_bound else True
    query = filter_query(request, leave_out=CURSOR_PARAMS)
    return Listing(name, stream, filterset, valid, query)


def _read_page(listing: Listing, *, before: Cursor | None) -> Page:
    size = app_settings.PAGE_SIZE
    if not listing.valid:
        return page_of(no_actions(), size=size)
    return stream_page(listing.stream, narrow=listing.narrow, before=before, size=size)


def _list_context(
    request: HtmxHttpRequest,
    listing: Listing,
    page: Page,
    *,
    marker: Cursor | None,
    before: Cursor | None,
) -> dict[str, Any]:
    """The context of a page of the feed (the newest or an older one)."""
    fragment = is_fragment_request(request)
    entries = present(page.actions)
    days = _feed_days(
        request,
        entries,
        marker=marker,
        new_above=bool(before and marker and before > marker),
        continues_day=_local_day(before) if fragment else None,
    )
    prefetch_rows(request, [item for day in days for item in day.items])  # one cache read
    more_query = listing.query.copy()
    if page.next_cursor:
        more_query["before"] = page.next_cursor
        if marker is not None:
            more_query["seen"] = encode_cursor(marker.timestamp, marker.id)
    return {
        "feed": get_feed(listing.name),
        "feed_name": listing.name,
        "feed_url": feed_url(listing.name),
        "feed_tabs": feed_tabs(),
        "filterset": listing.filterset,
        "filters_valid": listing.valid,
        "filters_active": listing.active,
        "filter_query": listing.query.urlencode(),
        "more_query": more_query.urlencode(),
        "page": page,
        "days": days,
        "join": "beforeend",
        "entries": entries,
        "newest_cursor": page.newest_cursor or encode_cursor(timezone.now(), 0),
        "first_page": before is None,
        "fragment": fragment,
    }


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


def _own_actor(user: Viewer) -> tuple[str, str]:
    person = as_person(user)
    return (person._meta.label_lower, id_of(person))


def _local_day(cursor: Cursor | None) -> dt.date | None:
    return timezone.localtime(cursor.timestamp).date() if cursor else None


# --- the read marker ---


@require_POST
@login_required
@vary_on_headers("HX-Request")
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
        return redirect(feed_url(name))
    # the host's badge (if it shows one) updates from this event (activityui.js)
    unread = unread_count_remembered(
        request=request, user=request.user, feed=name, limit=UNREAD_CAP
    )
    count = count_label(unread, UNREAD_CAP)
    return trigger_client_event(HttpResponse(""), "aui:unread", {"feed": name, "count": count})

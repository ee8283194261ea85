"""HTTP: thin function views. One URL serves a page and its fragments (``request.htmx``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any, cast
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from activityui.capture import record
from activityui.conf import app_settings
from activityui.cursors import Cursor, InvalidCursor, decode_cursor, encode_cursor
from activityui.exports import export_response
from activityui.feeds import (
    follow_toggle,
    followable_types,
    followed_keys,
    get_feed,
    move_read_marker,
)
from activityui.filters import ActionFilterSet, StaffActionFilterSet, TimelineFilterSet
from activityui.presenters import (
    FeedDay,
    FollowState,
    count_label,
    feed_days,
    group_by_day,
    present,
    present_timeline,
    subject_label,
    timeline_url,
)
from activityui.selectors import (
    Signature,
    Stream,
    UnknownFeed,
    action_list_for_staff,
    count_up_to,
    existing_now,
    feed_stream,
    known_quiet,
    newer_than_cursor,
    no_actions,
    object_stream,
    page_of,
    quiet_key,
    read_marker_for,
    remember_quiet,
    site_signature,
    stream_newer,
    stream_page,
    unread_count,
    unread_on_first_page,
)
from activityui.visibility import STAFF_PERMISSION, can_see, can_view_all, visible_objects


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


# --- feed ---

FEED_TEMPLATE = "activityui/feed.html"
UNREAD_CAP = 20  # the navigation shows "20+" past this
CURSOR_PARAMS = ("before", "after", "seen")


def _feed_url(name: str) -> str:
    if name == "following":
        return reverse("activityui:following")
    return reverse("activityui:feed")


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
    return (user._meta.label_lower, str(user.pk))


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
    filterset = ActionFilterSet(request.GET or None, queryset=no_actions(), request=request)
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
        request,
        FEED_TEMPLATE,
        context,
        fragment="feed-page" if before else "feed-items",
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


def _followable_object(user: Any, key: str, object_id: str) -> models.Model:
    """The object behind ``key``/``object_id`` if it has a visibility rule and ``user`` may
    see it; 404 otherwise (also for objects that exist but are hidden)."""
    app_label, _dot, model_name = key.partition(".")
    if "\x00" in key or "\x00" in object_id:  # PostgreSQL refuses NUL in text: a 500
        raise Http404("No such object")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist as exc:
        raise Http404("No such object") from exc
    model = content_type.model_class()
    objects = visible_objects(model, user) if model is not None else None
    if objects is None or model is None:
        raise Http404("No such object")
    try:
        pk = model._meta.pk.to_python(object_id)
        obj: models.Model | None = objects.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such object") from exc
    if obj is None:
        raise Http404("No such object")
    return obj


@require_POST
@login_required
def follow(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """Follow or unfollow an object; htmx gets the new button, others go back."""
    obj = _followable_object(request.user, key, object_id)
    following = follow_toggle(user=request.user, obj=obj)
    if not request.htmx:
        target = request.POST.get("next", "")
        allowed = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        # only a path: redirect() would take "abc" for a URL name (NoReverseMatch, a 500)
        if not allowed or not target.startswith("/"):
            target = getattr(obj, "get_absolute_url", lambda: _feed_url("following"))()
        return redirect(target)
    state = FollowState(key, str(obj.pk), str(obj), following)
    response = render(
        request,
        "activityui/_follow_button.html",
        {"follow": state, "next": request.POST.get("next", "")},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- staff console ---

MAX_ACTION_ID = 2**63 - 1  # larger ids cannot exist; the database would reject the lookup


def _staff_required(view: Any) -> Any:
    """Anonymous users go to sign-in; signed-in users without the permission get 403."""
    return login_required(permission_required(STAFF_PERMISSION, raise_exception=True)(view))


def _staff_filterset(request: HttpRequest) -> StaffActionFilterSet:
    actions = action_list_for_staff(user=request.user)
    return StaffActionFilterSet(request.GET or None, queryset=actions, request=request)


def _filter_query(request: HttpRequest) -> str:
    """The query string of the filters alone (no cursor): what an export or a link keeps."""
    query = request.GET.copy()
    for key in ("before", "page"):
        query.pop(key, None)
    for key in list(query):
        values = [v for v in query.getlist(key) if v.strip()]
        if values:
            query.setlist(key, values)
        else:
            del query[key]
    return query.urlencode()


@transaction.non_atomic_requests
@require_GET
@_staff_required
def staff(request: HtmxHttpRequest) -> HttpResponse:
    """Every action on the site, filterable, newest first, paged by keyset."""
    try:
        before = cursor_param(request, "before")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    filterset = _staff_filterset(request)
    valid = filterset.is_valid() if filterset.is_bound else True
    limit = app_settings.COUNT_LIMIT
    if valid:
        queryset = filterset.qs
        count = count_up_to(queryset, limit=limit)
        page = page_of(queryset, before=before, size=app_settings.PAGE_SIZE)
    else:
        count = 0
        page = page_of(filterset.queryset.none(), size=app_settings.PAGE_SIZE)
    filter_query = _filter_query(request)
    list_url = reverse("activityui:staff")
    context = {
        "filterset": filterset,
        "filters_valid": valid,
        "page": page,
        "entries": present(page.actions),
        "count": min(count, limit),
        "count_capped": count > limit,
        "count_display": number_format(min(count, limit), force_grouping=True)
        + ("+" if count > limit else ""),
        "before": before,
        "filter_query": filter_query,
        "permalink": request.build_absolute_uri(
            f"{list_url}?{filter_query}" if filter_query else list_url
        ),
        "time_zone": timezone.get_current_timezone_name(),
        "utc_offset": timezone.localtime().strftime("%z"),
        "is_fragment": is_fragment_request(request),
    }
    return render_page(request, "activityui/staff.html", context, fragment="staff-results")


@transaction.non_atomic_requests
@require_GET
@_staff_required
def staff_action(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One action in full: the detail panel (htmx) or its own page."""
    if pk > MAX_ACTION_ID:
        raise Http404("No such action")
    action = action_list_for_staff(user=request.user).filter(pk=pk).first()
    if action is None:
        raise Http404("No such action")
    (entry,) = present([action])
    data = action.data if isinstance(action.data, dict) else {}
    filter_query = _filter_query(request)
    list_url = reverse("activityui:staff")
    context = {
        "entry": entry,
        "action": action,
        "data_json": json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str),
        "back_url": f"{list_url}?{filter_query}" if filter_query else list_url,
        "time_zone": timezone.get_current_timezone_name(),
    }
    return render_page(request, "activityui/staff_action.html", context, fragment="staff-detail")


def _staff_export(request: HttpRequest, format: str) -> HttpResponseBase:
    filterset = _staff_filterset(request)
    if filterset.is_bound and not filterset.is_valid():
        errors = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in filterset.form.errors.items()
        )
        return HttpResponseBadRequest(f"Invalid filters: {errors}", content_type="text/plain")
    # Freeze the export at this moment: later actions (this export's own record among them)
    # stay out, so the file holds exactly the rows the console counted.
    queryset = existing_now(filterset.qs)
    record(
        cast(models.Model, request.user),
        "exported",
        public=False,
        filter=_filter_query(request),
        format=format,
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return export_response(queryset, format=format, filename=f"activity-{stamp}")


@transaction.non_atomic_requests
@require_GET
@_staff_required
def staff_export_csv(request: HttpRequest) -> HttpResponseBase:
    """The current filter's actions as CSV, streamed."""
    return _staff_export(request, "csv")


@transaction.non_atomic_requests
@require_GET
@_staff_required
def staff_export_json(request: HttpRequest) -> HttpResponseBase:
    """The current filter's actions as JSON Lines, streamed."""
    return _staff_export(request, "json")


# --- object timeline ---

NOT_FOUND = "No history here."  # one message: a hidden object reads exactly like a missing one


@dataclass(frozen=True)
class TimelineSubject:
    """The object a timeline is about, resolved from the URL (``obj`` None once deleted)."""

    key: str  # "app_label.model_name"
    object_id: str
    content_type: ContentType
    model: type[models.Model] | None
    obj: models.Model | None

    @property
    def type_name(self) -> str:
        return str(self.model._meta.verbose_name) if self.model else self.content_type.model

    @property
    def url(self) -> str | None:
        get_url = getattr(self.obj, "get_absolute_url", None)
        return str(get_url()) if get_url is not None else None

    @property
    def timeline_url(self) -> str:
        return timeline_url(self.key, self.object_id) or ""


def _timeline_subject(key: str, raw_id: str) -> TimelineSubject:
    """Resolve ``app_label.model_name`` and the pk; anything malformed or unknown is a 404."""
    app_label, dot, model_name = key.partition(".")
    if not dot or "\x00" in key or "\x00" in raw_id:  # PostgreSQL refuses NUL in text: a 500
        raise Http404(NOT_FOUND)
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist as exc:
        raise Http404(NOT_FOUND) from exc
    model = content_type.model_class()
    if model is None:  # the model itself is gone; its history is kept as snapshots
        return TimelineSubject(key, raw_id, content_type, None, None)
    try:
        pk = model._meta.pk.to_python(raw_id)
    except ValidationError as exc:
        raise Http404(NOT_FOUND) from exc
    if pk is None or pk == "":
        raise Http404(NOT_FOUND)
    obj = model._default_manager.filter(pk=pk).first()
    return TimelineSubject(key, str(pk), content_type, model, obj)


def _embedded(request: HtmxHttpRequest) -> bool:
    """Loaded into another page (the template tag) rather than shown at its own URL."""
    if not is_fragment_request(request):
        return False
    return urlsplit(request.htmx.current_url_abs_path or "").path != request.path


@transaction.non_atomic_requests
@require_GET
@login_required
def object_timeline(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """One object's history; its fragments serve the lazy template tag, filters and paging."""
    subject = _timeline_subject(key, object_id)
    staff = can_view_all(request.user)
    if subject.obj is None and not staff:
        raise Http404(NOT_FOUND)
    if subject.obj is not None and not staff and not can_see(request.user, subject.obj):
        raise Http404(NOT_FOUND)
    # one index-friendly branch per role (actor, object, target): every page costs the same
    stream = object_stream(
        user=request.user, content_type=subject.content_type, object_id=subject.object_id
    )
    # staff may read any history but not any row: an object of a model without a visibility
    # rule has a timeline only if it has history (else its str() could be read by id)
    unregistered = (
        subject.obj is not None
        and subject.model is not None
        and visible_objects(subject.model, request.user) is None
    )
    if (subject.obj is None or unregistered) and not stream.fast_queryset().exists():
        raise Http404(NOT_FOUND)
    try:
        before = cursor_param(request, "before")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    filterset = TimelineFilterSet(
        request.GET or None, queryset=no_actions(), request=request, model=subject.model
    )
    valid = filterset.is_valid() if filterset.is_bound else True
    if valid:
        narrow = filterset.filter_queryset if filterset.is_bound else None
        page = stream_page(stream, narrow=narrow, before=before, size=app_settings.PAGE_SIZE)
    else:
        page = page_of(no_actions(), size=app_settings.PAGE_SIZE)
    entries = present_timeline(page.actions, key=subject.key, object_id=subject.object_id)
    days = group_by_day(entries)  # type: ignore[arg-type]
    label = (
        str(subject.obj)
        if subject.obj is not None
        else subject_label(entries, subject.key, subject.object_id)
        or f"{subject.type_name} #{subject.object_id}"
    )
    if before is not None:
        fragment = "timeline-page"
    elif is_fragment_request(request) and request.htmx.target == "timeline-items":
        fragment = "timeline-items"
    else:
        fragment = "timeline"
    context = {
        "subject": subject,
        "label": label,
        "deleted": subject.obj is None,
        "embedded": _embedded(request),
        "filterset": filterset,
        "filters_valid": valid,
        "filtered": valid and filterset.is_bound and any(filterset.form.cleaned_data.values()),
        "page": page,
        "days": days,
        # a page that starts on the day the previous one ended on gets no second heading
        "continues_day": bool(
            before and days and days[0].day == timezone.localtime(before.timestamp).date()
        ),
    }
    response = render_page(
        request,
        "activityui/timeline.html",
        context,
        fragment=fragment,
        status=200 if valid else 400,
    )
    patch_vary_headers(response, ["HX-Target"])
    return response

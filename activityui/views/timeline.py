"""One object's timeline: its page and the fragments the template tag and filters load."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from activityui.conf import app_settings
from activityui.cursors import Cursor
from activityui.days import group_by_day
from activityui.filters import TimelineFilterSet
from activityui.keyset import page_of
from activityui.links import timeline_url
from activityui.menus import MENU_WINDOW
from activityui.presenters import present_timeline, subject_label
from activityui.rowcache import prefetch_rows, timeline_row_block
from activityui.selectors import no_actions, object_stream, stream_page
from activityui.timelines import DEFAULT_ID, timeline_id
from activityui.views.common import (
    BadParameter,
    HtmxHttpRequest,
    cursor_param,
    filter_query,
    is_fragment_request,
    render_page,
    url_with_query,
)
from activityui.visibility import ObjectSubject, object_subject, timeline_subject

NOT_FOUND = "No history here."  # one message: a hidden object reads exactly like a missing one


@dataclass(frozen=True)
class TimelineSubject(ObjectSubject):
    """The object a timeline is about (:func:`activityui.visibility.timeline_subject`), with
    the link to its timeline."""

    @classmethod
    def of(cls, subject: ObjectSubject) -> TimelineSubject:
        return cls(subject.key, subject.object_id, subject.content_type, subject.model, subject.obj)

    @property
    def timeline_url(self) -> str:
        return timeline_url(self.key, self.object_id) or ""


def _timeline_subject(key: str, raw_id: str) -> TimelineSubject:
    """The object ``key`` and ``raw_id`` name, whoever asks; anything malformed or unknown is
    a 404. (The history views' lookup; they check access themselves.)"""
    subject = object_subject(key, raw_id)
    if subject is None:
        raise Http404(NOT_FOUND)
    return TimelineSubject.of(subject)


def _embedded(request: HtmxHttpRequest) -> bool:
    """Loaded into another page (the template tag) rather than shown at its own URL."""
    if not is_fragment_request(request):
        return False
    return urlsplit(request.htmx.current_url_abs_path or "").path != request.path


def _fragment(request: HtmxHttpRequest, *, before: Cursor | None, tid: str) -> str:
    """The partial an htmx request gets: an older page, the list (refreshed after a change)
    or the whole timeline (its filter form, the template tag's placeholder)."""
    if before is not None:
        return "timeline-page"
    if is_fragment_request(request) and request.htmx.target == f"{tid}-items":
        return "timeline-items"
    return "timeline"


@transaction.non_atomic_requests
@require_GET
@login_required
def object_timeline(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """One object's history; its fragments serve the lazy template tag, filters and paging."""
    found = timeline_subject(request.user, key, object_id)
    if found is None:
        raise Http404(NOT_FOUND)
    subject = TimelineSubject.of(found)
    # one index-friendly branch per role (actor, object, target): every page costs the same
    stream = object_stream(
        user=request.user, content_type=subject.content_type, object_id=subject.object_id
    )
    if subject.shown_if_history and not stream.fast_queryset().exists():
        raise Http404(NOT_FOUND)
    try:
        before = cursor_param(request, "before")
    except BadParameter as exc:
        return HttpResponseBadRequest(str(exc))
    tid = timeline_id(request.GET.get("tl"))
    filterset = TimelineFilterSet(
        request.GET or None,
        queryset=no_actions(),
        request=request,
        model=subject.model,
        subject=(subject.content_type, subject.object_id),
        actions=lambda: stream.window(MENU_WINDOW),  # the menu lists what occurs here
    )
    if tid != DEFAULT_ID:  # a second timeline of the page: ids of its own (activityui.timelines)
        for name in ("verb", "field"):
            widget = filterset.form.fields[name].widget
            widget.attrs = {**widget.attrs, "id": f"{tid}-{name}"}
    valid = filterset.is_valid() if filterset.is_bound else True
    if valid:
        narrow = filterset.filter_queryset if filterset.is_bound else None
        page = stream_page(stream, narrow=narrow, before=before, size=app_settings.PAGE_SIZE)
    else:
        page = page_of(no_actions(), size=app_settings.PAGE_SIZE)
    entries = present_timeline(page.actions, key=subject.key, object_id=subject.object_id)
    days = group_by_day(entries)
    label = (
        str(subject.obj)
        if subject.obj is not None
        else subject_label(entries, subject.key, subject.object_id)
        or f"{subject.type_name} #{subject.object_id}"
    )
    fragment = _fragment(request, before=before, tid=tid)
    from activityui.views.history import history_links  # the history views import this module

    history = history_links(request, subject)
    embedded = _embedded(request)
    # the cached rows of the page in one read: whole rows, keyed by the facts they draw
    prefetch_rows(request, entries, whole=timeline_row_block(tid, history, embedded))
    context = {
        "history": history,
        "history_notice": getattr(request, "activityui_notice", ""),  # after a restore
        "subject": subject,
        "label": label,
        "deleted": subject.obj is None,
        "embedded": embedded,
        "tid": tid,
        "embedded_id": tid != DEFAULT_ID,
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
    if fragment == "timeline" and is_fragment_request(request) and not context["embedded"]:
        # the filter form of the timeline's own page: push the clean URL of its filters
        push_url(response, url_with_query(request.path, filter_query(request, leave_out=())))
    # the fragment follows the target; the markup, whether it is embedded in another page
    patch_vary_headers(response, ["HX-Target", "HX-Current-URL"])
    return response

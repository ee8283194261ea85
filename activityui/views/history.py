"""One object's history beyond the list: as of an entry, and two points compared (the restore
of one value is in :mod:`activityui.views.restore`).

Every URL checks visibility as the timeline does (404 for an object the user may not see, or an
entry not in its visible history); a restore the user may not make is a 403. The panels replace
the timeline's section (``hx-target="closest .aui-timeline"``) and keep its id.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from actstream.models import Action
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from activityui.cursors import Cursor, InvalidCursor, decode_cursor
from activityui.fieldrows import REASON_GONE, field_rows
from activityui.history import (
    ObjectState,
    current_values,
    field_specs,
    state_as_of,
    state_now,
)
from activityui.links import object_url
from activityui.presenters import ActionEntry, present
from activityui.reconstruction import (
    EXACT,
    UNKNOWN,
    FieldState,
)
from activityui.selectors import object_stream
from activityui.views.common import HtmxHttpRequest, is_fragment_request, render_page
from activityui.views.timeline import NOT_FOUND, TimelineSubject, _timeline_subject
from activityui.visibility import can_see, can_view_all

TEMPLATE = "activityui/history.html"
POINTS = 50  # entries offered in the compare form
_PANEL_ID = re.compile(r"^[A-Za-z][\w-]{0,80}$")


# --------------------------------------------------------------------------- shared steps


def _visible_subject(request: HtmxHttpRequest, key: str, object_id: str) -> TimelineSubject:
    """The object, when the user may open its timeline (the timeline's own rule), else 404."""
    subject = _timeline_subject(key, object_id)
    staff = can_view_all(request.user)
    if subject.model is None or not field_specs(subject.model):
        raise Http404(NOT_FOUND)  # nothing is tracked: there is nothing to rebuild
    if subject.obj is None:
        if not staff:
            raise Http404(NOT_FOUND)
    elif not staff and not can_see(request.user, subject.obj):
        raise Http404(NOT_FOUND)
    return subject


def _stream(request: HtmxHttpRequest, subject: TimelineSubject) -> Any:
    return object_stream(
        user=request.user, content_type=subject.content_type, object_id=subject.object_id
    ).fast_queryset()


class BadPoint(ValueError):
    pass


def _entry_at(request: HtmxHttpRequest, subject: TimelineSubject, token: str | None) -> Action:
    """The action a cursor names, when it is in the object's visible history."""
    if not token:
        raise BadPoint(_("Choose an entry of the history."))
    try:
        cursor = decode_cursor(token)
    except InvalidCursor as exc:
        raise BadPoint(_("This is not an entry of the history.")) from exc
    action = _stream(request, subject).filter(pk=cursor.id, timestamp=cursor.timestamp).first()
    if action is None:
        raise Http404(NOT_FOUND)
    return action


def _panel_id(request: HtmxHttpRequest) -> str:
    """The id of the element the panel replaces, so that the timeline can come back to it."""
    target = request.htmx.target if is_fragment_request(request) else None
    return target if target and _PANEL_ID.match(target) else "timeline"


def _label(subject: TimelineSubject, entry: ActionEntry | None = None) -> str:
    if subject.obj is not None:
        return str(subject.obj)
    if entry is not None and entry.action_object is not None:
        return entry.action_object.label
    return f"{subject.type_name} #{subject.object_id}"


def _urls(subject: TimelineSubject) -> dict[str, str]:
    return {
        "as_of_url": object_url("activityui:object_as_of", subject.key, subject.object_id),
        "compare_url": object_url("activityui:object_compare", subject.key, subject.object_id),
        "restore_url": object_url("activityui:object_restore", subject.key, subject.object_id),
    }


def history_links(request: Any, subject: TimelineSubject) -> dict[str, Any]:
    """What the timeline's entries need for their history links and Restore buttons."""
    from activityui.restore import restorable_fields

    if subject.model is None or not field_specs(subject.model):
        return {}
    fields = restorable_fields(request.user, subject.obj) if subject.obj is not None else set()
    return {**_urls(subject), "restorable": fields}


def _points(
    request: HtmxHttpRequest, subject: TimelineSubject, shown: list[ActionEntry]
) -> list[ActionEntry]:
    """The newest entries that changed the object, for the compare form (one query), with
    the entries ``shown`` (any entry of the timeline, e.g. a comment) among them."""
    stream = object_stream(
        user=request.user, content_type=subject.content_type, object_id=subject.object_id
    )
    # the object-as-action-object branch alone (not the stream's actor/object/target OR): one
    # backward scan of the (action object, timestamp, id) index that stops after POINTS rows
    own = Q(
        action_object_content_type=subject.content_type,
        action_object_object_id=subject.object_id,
    )
    queryset = Action.objects.filter(own, data__has_key="changes")
    if stream.restricted:
        queryset = queryset.filter(stream.visibility.branch_q(own))
    actions = queryset.order_by("-timestamp", "-id")[:POINTS]
    points = {entry.id: entry for entry in present(actions)}
    for entry in shown:
        points.setdefault(entry.id, entry)
    return sorted(points.values(), key=lambda e: (e.timestamp, e.id), reverse=True)


def _state(subject: TimelineSubject, action: Action, current: Any) -> ObjectState:
    assert subject.model is not None
    return state_as_of(
        model=subject.model,
        content_type=subject.content_type,
        object_id=subject.object_id,
        obj=subject.obj,
        at=Cursor(action.timestamp, action.pk),
        current=current,
    )


def _now(subject: TimelineSubject) -> tuple[ObjectState | None, Any]:
    if subject.obj is None or subject.model is None:
        return None, None
    specs = field_specs(subject.model)
    return state_now(subject.obj, specs), current_values(subject.obj, specs)


def _render(
    request: HtmxHttpRequest, subject: TimelineSubject, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {
        "subject": subject,
        "panel_id": _panel_id(request),
        "embedded": _embedded_request(request, subject),
        **_urls(subject),
        **context,
    }
    response = render_page(request, TEMPLATE, context, fragment="history-panel", status=status)
    # the panel's ids come from HX-Target, its links from HX-Current-URL (embedded or not)
    patch_vary_headers(response, ["HX-Target", "HX-Current-URL"])
    return response


def _embedded_request(request: HtmxHttpRequest, subject: TimelineSubject) -> bool:
    """Loaded into another page (a detail page's timeline) rather than on one of the object's
    own history URLs: the panel's links then leave the host page's URL alone."""
    if not is_fragment_request(request):
        return False
    current = urlsplit(request.htmx.current_url_abs_path or "").path
    own = {subject.timeline_url, *(url for url in _urls(subject).values())}
    return current not in own


# --------------------------------------------------------------------------- as of


@transaction.non_atomic_requests
@require_GET
@login_required
def object_as_of(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """The object's tracked fields right after one entry, the ones that differ from now marked."""
    subject = _visible_subject(request, key, object_id)
    try:
        action = _entry_at(request, subject, request.GET.get("as_of"))
    except BadPoint as exc:
        return HttpResponseBadRequest(str(exc))
    now, current = _now(subject)
    then = _state(subject, action, current)
    assert subject.model is not None
    if now is None:
        now = ObjectState(
            None, tuple(FieldState(f.spec, None, UNKNOWN, REASON_GONE) for f in then.fields)
        )
    rows = field_rows(subject.model, then, now)
    entry = present([action])[0]
    return _render(
        request,
        subject,
        {
            "mode": "as_of",
            "label": _label(subject, entry),
            "entry": entry,
            "rows": rows,
            "changed_count": sum(row.changed for row in rows),
            "points": _points(request, subject, [entry]),
            "from_cursor": entry.cursor,
            "to_cursor": "now",
            "deleted": subject.obj is None,
        },
    )


# --------------------------------------------------------------------------- compare


@transaction.non_atomic_requests
@require_GET
@login_required
def object_compare(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """Two points of the object's history (two entries, or an entry and now), field by field."""
    subject = _visible_subject(request, key, object_id)
    assert subject.model is not None
    to_token = request.GET.get("to") or "now"
    try:
        first = _entry_at(request, subject, request.GET.get("from"))
        second = None if to_token == "now" else _entry_at(request, subject, to_token)
    except BadPoint as exc:
        return HttpResponseBadRequest(str(exc))
    if second is not None and (second.timestamp, second.pk) < (first.timestamp, first.pk):
        first, second = second, first  # older on the left, whatever the order asked
    now, current = _now(subject)
    if second is None and now is None:
        return HttpResponseBadRequest(_("This object no longer exists: compare two entries."))
    left = _state(subject, first, current)
    right = now if second is None else _state(subject, second, current)
    assert right is not None
    rows = field_rows(subject.model, left, right)
    entries = present([first] if second is None else [first, second])
    return _render(
        request,
        subject,
        {
            "mode": "compare",
            "label": _label(subject, entries[0]),
            "entry": entries[0],
            "second": entries[1] if len(entries) > 1 else None,
            "rows": [
                row
                for row in rows
                if row.changed or row.left.certainty != EXACT or row.right.certainty != EXACT
            ],
            "same_count": sum(
                1
                for row in rows
                if not row.changed and row.left.certainty == EXACT and row.right.certainty == EXACT
            ),
            "points": _points(request, subject, entries),
            "from_cursor": entries[0].cursor,
            "to_cursor": entries[1].cursor if len(entries) > 1 else "now",
            "deleted": subject.obj is None,
        },
    )


__all__ = ["history_links", "object_as_of", "object_compare"]

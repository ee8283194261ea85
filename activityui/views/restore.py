"""Restoring one value from an object's history: POST only, visibility and permission checked,
a conflict asked about first; the answer is the timeline with the restore at its top."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
)
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from activityui.presenters import change_value, model_field_named, present
from activityui.reconstruction import is_cut
from activityui.restore import RestoreRefused, apply_restore, may_restore
from activityui.views.common import HtmxHttpRequest, is_fragment_request
from activityui.views.history import _label, _render, _stream, _visible_subject
from activityui.views.timeline import NOT_FOUND, TimelineSubject, object_timeline


def _safe_next(request: HtmxHttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
@login_required
def object_restore(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """Put one field back to its value before a recorded change (asks first when it changed
    since). POST: ``action`` (the change's id), ``field``, and ``expected`` once confirmed."""
    subject = _visible_subject(request, key, object_id)
    raw_id = request.POST.get("action", "")
    field = request.POST.get("field", "")
    if not raw_id.isdigit() or len(raw_id) > 18 or not field:
        return HttpResponseBadRequest(_("Choose a change to restore."))
    action = (
        _stream(request, subject)
        .filter(
            pk=int(raw_id),
            action_object_content_type=subject.content_type,
            action_object_object_id=subject.object_id,
        )
        .first()
    )
    if action is None:
        raise Http404(NOT_FOUND)
    if subject.obj is None:
        return _refused(
            request, subject, _("This object was deleted: its values cannot be restored here.")
        )
    if not may_restore(request.user, subject.obj, field):
        raise PermissionDenied
    expected = request.POST.get("expected")
    try:
        plan = apply_restore(
            user=request.user, obj=subject.obj, action=action, field=field, expected=expected
        )
    except RestoreRefused as exc:
        return _refused(request, subject, str(exc))
    entry = present([action])[0]
    model_field = model_field_named(subject.model, field)
    if plan.already:
        return _refused(
            request,
            subject,
            _("%(field)s is already “%(value)s”: nothing to restore.")
            % {"field": capfirst(plan.spec.verbose_name), "value": _value_text(model_field, plan)},
            status=200,
        )
    if plan.conflict and expected != plan.expected:
        return _render(
            request,
            subject,
            {
                "mode": "conflict",
                "label": _label(subject, entry),
                "entry": entry,
                "plan": plan,
                "field": field,
                "field_name": capfirst(plan.spec.verbose_name),
                "restored_text": _value_text(model_field, plan),
                "current_text": _current_text(model_field, plan),
                "next": request.POST.get("next", ""),
            },
        )
    message = _("%(field)s restored to “%(value)s”.") % {
        "field": capfirst(plan.spec.verbose_name),
        "value": _value_text(model_field, plan),
    }
    timeline = subject.timeline_url
    if not is_fragment_request(request):
        return HttpResponseRedirect(_safe_next(request, timeline), status=303)
    # answer with the timeline as it is now, the restore at its top and the news announced
    get = copy.copy(request)
    get.method = "GET"
    get.GET = QueryDict()
    get.POST = QueryDict()
    get.activityui_notice = message  # type: ignore[attr-defined]
    response = object_timeline(get, subject.key, subject.object_id)
    trigger_client_event(response, "activityui:restored")
    return response


def _value_text(model_field: Any, plan: Any) -> str:
    if plan.spec.kind == "m2m":
        added = [str(v.get("label") or "") for v in plan.restored["added"]]
        removed = [str(v.get("label") or "") for v in plan.restored["removed"]]
        parts = [f"+ {label}" for label in added] + [f"− {label}" for label in removed]
        return ", ".join(parts)
    return change_value(model_field, plan.restored)


def _current_text(model_field: Any, plan: Any) -> str:
    if plan.spec.kind == "m2m":
        return ", ".join(str(v.get("label") or "") for v in plan.current or []) or "—"
    if isinstance(plan.current, str) and not is_cut(plan.current):
        return plan.current if len(plan.current) <= 400 else plan.current[:400] + " […]"
    return change_value(model_field, plan.current)


def _refused(
    request: HtmxHttpRequest, subject: TimelineSubject, message: str, status: int = 400
) -> HttpResponse:
    # htmx swaps 2xx answers only: a refusal it must show is a 200 for it, a 400 for the rest
    code = 200 if is_fragment_request(request) else status
    return _render(
        request,
        subject,
        {"mode": "refused", "label": _label(subject), "message": message},
        status=code,
    )


__all__ = ["object_restore"]

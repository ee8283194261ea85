"""The staff console: the filtered list, one action in full, the streamed exports."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from activityui.chart import activity_chart
from activityui.conf import app_settings
from activityui.exports import export_response
from activityui.filters import StaffActionFilterSet
from activityui.keyset import page_of
from activityui.presenters import present
from activityui.recording import record
from activityui.rowcache import STAFF_ROW, prefetch_rows, staff_row_block
from activityui.selectors import action_list_for_staff, count_up_to, existing_now
from activityui.views.common import (
    BadParameter,
    HtmxHttpRequest,
    cursor_param,
    filter_query,
    is_fragment_request,
    render_page,
    url_with_query,
)
from activityui.visibility import STAFF_PERMISSION, as_person

MAX_ACTION_ID = 2**63 - 1  # larger ids cannot exist; the database would reject the lookup


def _staff_required(view: Any) -> Any:
    """Anonymous users go to sign-in; signed-in users without the permission get 403."""
    return login_required(permission_required(STAFF_PERMISSION, raise_exception=True)(view))


def _staff_filterset(request: HttpRequest) -> StaffActionFilterSet:
    actions = action_list_for_staff(user=request.user)
    return StaffActionFilterSet(request.GET or None, queryset=actions, request=request)


PAGE_PARAMS = ("before", "page")  # not filters: a link to the filters leaves them out


def _filter_query(request: HttpRequest) -> str:
    """The query string of the filters alone (no cursor): what an export or a link keeps."""
    return filter_query(request, leave_out=PAGE_PARAMS).urlencode()


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
    query = filter_query(request, leave_out=PAGE_PARAMS)
    list_url = reverse("activityui:staff")
    entries = present(page.actions)
    prefetch_rows(  # the rows whole ({% aui_staff_rows %}), else their cached blocks
        request,
        entries,
        template=STAFF_ROW,
        extra=[query.urlencode()],
        whole=staff_row_block(query.urlencode()),
    )
    older = query.copy()
    if page.next_cursor:
        older["before"] = page.next_cursor
    context = {
        "filterset": filterset,
        "filters_valid": valid,
        "page": page,
        "entries": entries,
        "count": min(count, limit),
        "count_capped": count > limit,
        "count_display": number_format(min(count, limit), force_grouping=True)
        + ("+" if count > limit else ""),
        "before": before,
        "filter_query": query.urlencode(),
        "older_url": url_with_query(list_url, older),
        "permalink": request.build_absolute_uri(url_with_query(list_url, query)),
        "time_zone": timezone.get_current_timezone_name(),
        "utc_offset": timezone.localtime().strftime("%z"),
        "is_fragment": is_fragment_request(request),
    }
    response = render_page(request, "activityui/staff.html", context, fragment="staff-results")
    if is_fragment_request(request):
        # the filter form sends its empty fields too: push the clean URL of this page
        if before is not None:
            query["before"] = request.GET["before"]
        push_url(response, url_with_query(list_url, query))
    return response


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


@transaction.non_atomic_requests
@require_GET
@_staff_required
def staff_chart(request: HtmxHttpRequest) -> HttpResponse:
    """Actions per day or week of the current filter: an SVG and the same numbers as a table.
    Each bar links to the console narrowed to its day or week."""
    filterset = _staff_filterset(request)
    if filterset.is_bound and not filterset.is_valid():
        return HttpResponseBadRequest("Invalid filters")
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    chart = activity_chart(
        filterset.qs,
        since=data.get("since"),
        until=data.get("until"),
        kinds=filterset.counted_kinds(),
    )
    query = filter_query(request, leave_out=(*PAGE_PARAMS, "since", "until"))
    list_url = reverse("activityui:staff")
    links = []
    for bar in chart.bars:
        narrowed = query.copy()
        narrowed["since"] = bar.start.replace(tzinfo=None).isoformat()
        narrowed["until"] = bar.until.replace(tzinfo=None).isoformat()
        links.append((bar, f"{list_url}?{narrowed.urlencode()}"))
    context = {
        "chart": chart,
        "total_shown": number_format(chart.total, force_grouping=True),
        "limit_shown": number_format(chart.count_limit, force_grouping=True),
        "bars": links,
        "time_zone": timezone.get_current_timezone_name(),
        "filter_query": _filter_query(request),
    }
    return render_page(request, "activityui/staff_chart.html", context, fragment="staff-chart")


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
        as_person(request.user),  # staff: signed in
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

"""Admin integration: an object's activity on its change page, and a way to the staff console.

activityui registers no ModelAdmin of its own: actstream already registers ``Action`` and
``Follow`` with the admin, and those stay as they are.

Usage::

    from django.contrib import admin
    from activityui.admin import ActivityAdminMixin

    @admin.register(Task)
    class TaskAdmin(ActivityAdminMixin, admin.ModelAdmin):
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from activityui.days import group_by_day
from activityui.ids import id_of
from activityui.keys import type_key
from activityui.keyset import page_of
from activityui.links import timeline_url
from activityui.presenters import present
from activityui.selectors import action_list_for_object
from activityui.visibility import can_view_all

__all__ = ["ActivityAdminMixin", "staff_console_url"]


def staff_console_url(obj: models.Model) -> str | None:
    """The staff console filtered on ``obj`` (None when the console is not mounted)."""
    try:
        base = reverse("activityui:staff")
    except NoReverseMatch:
        return None
    key = type_key(ContentType.objects.get_for_model(obj))
    return f"{base}?{urlencode({'object_type': key, 'object_id': id_of(obj)})}"


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class ActivityAdminMixin(_AdminBase):
    """Mix into a ``ModelAdmin`` to show the object's latest activity on its change page.

    The history obeys the same visibility policy as every other activityui surface: users
    with ``activityui.view_all_activity`` see all of it, others what they may see. Put the
    mixin before ``admin.ModelAdmin`` in the bases.
    """

    change_form_template = "activityui/admin/change_form.html"
    #: how many of the newest actions the change page shows
    activity_limit: int = 20

    def activity_context(self, request: HttpRequest, obj: models.Model) -> dict[str, Any]:
        """Template context for the activity section of ``obj``'s change page."""
        content_type = ContentType.objects.get_for_model(obj)
        actions = action_list_for_object(
            user=request.user, content_type=content_type, object_id=id_of(obj)
        )
        page = page_of(actions, size=self.activity_limit)
        entries = present(page.actions)
        return {
            "activityui_days": group_by_day(entries),
            "activityui_entries": entries,
            "activityui_has_more": page.has_more,
            "activityui_timeline_url": timeline_url(type_key(content_type), id_of(obj)),
            "activityui_staff_url": (
                staff_console_url(obj) if can_view_all(request.user) else None
            ),
        }

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: models.Model | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None and not add:
            context.update(self.activity_context(request, obj))
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

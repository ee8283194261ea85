"""activityui's URLs: the feeds, follow, object timelines and history, the staff console."""

from __future__ import annotations

from django.urls import path, register_converter

from activityui import views

app_name = "activityui"


class ObjectIdConverter:
    """An object id as actstream stores it: any text, "/" included (a string primary key may
    hold one; the URL quotes everything else). Unlike ``<path:>``, also a newline."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ObjectIdConverter, "aui_object_id")

urlpatterns = [
    path("", views.feed, name="feed"),
    path("following/", views.feed, {"feed_name": "following"}, name="following"),
    # --- feed ---
    path("read/", views.feed_mark_read, name="feed_mark_read"),
    path("follow/<str:key>/<aui_object_id:object_id>/", views.follow, name="follow"),
    # --- object history: as of an entry, two points compared, one value restored (before
    # the timeline: an object id may hold slashes, so "…/as-of/" would read as one) ---
    path(
        "objects/<str:key>/<aui_object_id:object_id>/as-of/",
        views.object_as_of,
        name="object_as_of",
    ),
    path(
        "objects/<str:key>/<aui_object_id:object_id>/compare/",
        views.object_compare,
        name="object_compare",
    ),
    path(
        "objects/<str:key>/<aui_object_id:object_id>/restore/",
        views.object_restore,
        name="object_restore",
    ),
    # --- object timeline ---
    path("objects/<str:key>/<aui_object_id:object_id>/", views.object_timeline, name="object"),
    # --- staff console ---
    path("staff/", views.staff, name="staff"),
    path("staff/chart/", views.staff_chart, name="staff_chart"),
    path("staff/export.csv", views.staff_export_csv, name="staff_export_csv"),
    path("staff/export.json", views.staff_export_json, name="staff_export_json"),
    path("staff/actions/<int:pk>/", views.staff_action, name="staff_action"),
    # --- every registered feed (feeds.register_feed), after the fixed paths above ---
    path("<slug:feed_name>/", views.feed, name="feed_named"),
]

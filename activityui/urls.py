from __future__ import annotations

from django.urls import path

from activityui import views

app_name = "activityui"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("following/", views.feed, {"feed_name": "following"}, name="following"),
    # --- feed ---
    path("read/", views.feed_mark_read, name="feed_mark_read"),
    path("follow/<str:key>/<str:object_id>/", views.follow, name="follow"),
    # --- object timeline ---
    path("objects/<str:key>/<str:object_id>/", views.object_timeline, name="object"),
    # --- object history: as of an entry, two points compared, one value restored ---
    path("objects/<str:key>/<str:object_id>/as-of/", views.object_as_of, name="object_as_of"),
    path("objects/<str:key>/<str:object_id>/compare/", views.object_compare, name="object_compare"),
    path("objects/<str:key>/<str:object_id>/restore/", views.object_restore, name="object_restore"),
    # --- staff console ---
    path("staff/", views.staff, name="staff"),
    path("staff/export.csv", views.staff_export_csv, name="staff_export_csv"),
    path("staff/export.json", views.staff_export_json, name="staff_export_json"),
    path("staff/actions/<int:pk>/", views.staff_action, name="staff_action"),
]

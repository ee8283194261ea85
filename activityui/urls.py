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
    # --- staff console ---
    path("staff/", views.staff, name="staff"),
    path("staff/chart/", views.staff_chart, name="staff_chart"),
    path("staff/export.csv", views.staff_export_csv, name="staff_export_csv"),
    path("staff/export.json", views.staff_export_json, name="staff_export_json"),
    path("staff/actions/<int:pk>/", views.staff_action, name="staff_action"),
]

from __future__ import annotations

from django.urls import path

from activityui import views

app_name = "activityui"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("following/", views.feed, {"feed_name": "following"}, name="following"),
    # --- object timeline ---
    path("objects/<str:key>/<str:object_id>/", views.object_timeline, name="object"),
]

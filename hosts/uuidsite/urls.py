from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hosts.uuidsite import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "sign-in/", auth_views.LoginView.as_view(template_name="uuidsite/login.html"), name="login"
    ),
    path("notes/<uuid:pk>/", views.note, name="note"),
    path("activity/", include("activityui.urls")),
    path("admin/", admin.site.urls),
]

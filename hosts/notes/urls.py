from django.contrib import admin
from django.urls import include, path

from hosts.notes.notes import views

urlpatterns = [
    path("", views.home, name="home"),
    path("notes/<int:pk>/", views.note_detail, name="note_detail"),
    path("notes/<int:pk>/public/", views.note_public, name="note_public"),
    path("notebooks/<int:pk>/", views.notebook_detail, name="notebook_detail"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("activity/", include("activityui.urls")),
    path("admin/", admin.site.urls),
]

# a plain host view that changes a note (a test posts to it: the user becomes the actor)
urlpatterns.append(path("test-capture/<int:pk>/", views.rename_note))

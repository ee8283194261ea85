from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from demo_site.demo import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/status/", views.task_update, name="task_update"),
    path("tasks/<int:pk>/comments/", views.task_comment, name="task_comment"),
    path("activity/", include("activityui.urls")),
    path("admin/", admin.site.urls),
]

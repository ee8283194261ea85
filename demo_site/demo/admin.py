from django.contrib import admin

from activityui.admin import ActivityAdminMixin
from demo_site.demo.models import Comment, Project, Task, Team


@admin.register(Task)
class TaskAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["title", "project", "status", "priority", "assignee"]
    list_filter = ["status", "priority"]
    search_fields = ["title"]


@admin.register(Project)
class ProjectAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team"]
    search_fields = ["name"]


admin.site.register(Team)
admin.site.register(Comment)

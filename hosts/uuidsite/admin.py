from __future__ import annotations

from django.contrib import admin

from activityui.admin import ActivityAdminMixin
from hosts.uuidsite.models import Member, Note, Page, Tag


@admin.register(Note)
class NoteAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["title", "notebook"]


@admin.register(Tag)
class TagAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["name"]


@admin.register(Page)
class PageAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["key", "workspace"]


@admin.register(Member)
class MemberAdmin(ActivityAdminMixin, admin.ModelAdmin):
    list_display = ["email", "display_name"]
    exclude = ["password"]

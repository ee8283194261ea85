"""How the notebooks site plugs into activityui, written from the docs alone."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

import activityui
from activityui.ids import stored_ids
from hosts.uuidsite.models import Bot, Comment, Member, Note, Notebook, Page, Tag, Workspace

activityui.track(Workspace, fields=["name"])
activityui.track(Notebook, fields=["title"], target="workspace")
activityui.track(Note, fields=["title", "body", "tags"], target="notebook")
activityui.track(Tag, fields=["name"], target="workspace")
activityui.track(Comment, fields=["text"], target="note")
activityui.track(Page, fields=["text"], target="workspace")


def my_workspaces(user):
    return Workspace.objects.filter(members=user)


activityui.register_visibility(Workspace, my_workspaces)
activityui.register_visibility(Notebook, lambda u: Notebook.objects.filter(workspace__members=u))
activityui.register_visibility(Note, lambda u: Note.objects.filter(notebook__workspace__members=u))
activityui.register_visibility(
    Comment, lambda u: Comment.objects.filter(note__notebook__workspace__members=u)
)
activityui.register_visibility(Page, lambda u: Page.objects.filter(workspace__members=u))
activityui.register_visibility(Tag, lambda u: Tag.objects.filter(workspace__members=u))
activityui.register_visibility(
    Member,
    lambda u: Member.objects.filter(Q(pk=u.pk) | Q(workspaces__members=u)).distinct(),
)


def workspace_scope(user):
    """What happened in the user's workspaces: in them, and in their notebooks, notes, tags,
    comments and pages (each compared as actstream stores ids: ``stored_ids``)."""
    workspaces = my_workspaces(user)
    places = [
        workspaces,
        Notebook.objects.filter(workspace__in=workspaces),
        Note.objects.filter(notebook__workspace__in=workspaces),
        Tag.objects.filter(workspace__in=workspaces),
        Comment.objects.filter(note__notebook__workspace__in=workspaces),
        Page.objects.filter(workspace__in=workspaces),
    ]
    q = Q(pk__in=[])
    for objects in places:
        q |= Q(
            target_content_type=ContentType.objects.get_for_model(objects.model),
            target_object_id__in=stored_ids(objects),
        )
    return q


activityui.register_feed("workspace", _("Workspace activity"), workspace_scope)


def system_actor():
    """ACTIVITYUI["SYSTEM_ACTOR_FUNCTION"]: a bot, not a made-up login in the member table."""
    bot, _created = Bot.objects.get_or_create(name="Notebooks robot")
    return bot

"""The notes host's activityui set-up, as the quickstart tells a host to write it."""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

import activityui
from hosts.notes.notes.models import Note, Notebook

activityui.track(Note, fields=["title", "body", "status"], target="notebook")
activityui.track(Notebook, fields=["name"])

activityui.register_visibility(Notebook, lambda user: Notebook.objects.filter(group__user=user))
activityui.register_visibility(Note, lambda user: Note.objects.filter(notebook__group__user=user))


def notebooks_scope(user):
    notebook_ct = ContentType.objects.get_for_model(Notebook)
    ids = sorted(
        str(pk) for pk in Notebook.objects.filter(group__user=user).values_list("pk", flat=True)
    )
    return Q(target_content_type=notebook_ct, target_object_id__in=ids) | Q(
        target_content_type__isnull=True,
        action_object_content_type=notebook_ct,
        action_object_object_id__in=ids,
    )


def my_notes_scope(user):
    user_ct = ContentType.objects.get_for_model(get_user_model())
    return Q(actor_content_type=user_ct, actor_object_id=str(user.pk))


activityui.register_feed(
    "notebooks",
    "All notebooks",
    notebooks_scope,
    empty_text="Nothing has happened in your notebooks yet.",
    tab_label="Notebooks",
    order=0,
)
activityui.register_feed(
    "mine",
    "My notes",
    my_notes_scope,
    empty_text="You have not written anything yet.",
    order=20,
)

"""Following: who follows what (actstream ``Follow`` rows), toggled and read in one query."""

from __future__ import annotations

from collections.abc import Iterable

from actstream.models import Follow
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from activityui.ids import id_of
from activityui.keys import content_type_for_key
from activityui.visibility import Viewer, visibility_rules


def followable_types() -> set[str]:
    """``"app_label.model"`` keys of the models with a visibility rule: those can be followed."""
    return {model._meta.label_lower for model in visibility_rules()}


def followed_keys(*, user: Viewer, refs: Iterable[tuple[str, object]]) -> set[tuple[str, str]]:
    """Which of ``refs`` (pairs of "app_label.model" and object id) ``user`` follows: 1 query."""
    wanted: dict[int, set[str]] = {}
    keys: dict[int, str] = {}
    for key, object_id in refs:
        content_type = content_type_for_key(key)
        if content_type is None:
            continue
        wanted.setdefault(content_type.pk, set()).add(str(object_id))
        keys[content_type.pk] = key
    if not wanted or not user.is_authenticated:
        return set()
    q = Q(pk__in=[])
    for content_type_id, ids in wanted.items():
        q |= Q(content_type_id=content_type_id, object_id__in=sorted(ids))
    rows = Follow.objects.filter(q, user=user, flag="").values_list("content_type_id", "object_id")
    return {(keys[content_type_id], object_id) for content_type_id, object_id in rows}


def is_following(*, user: Viewer, obj: models.Model) -> bool:
    content_type = ContentType.objects.get_for_model(obj)
    following: bool = Follow.objects.filter(
        user=user, content_type=content_type, object_id=id_of(obj), flag=""
    ).exists()
    return following


def follow_toggle(*, user: Viewer, obj: models.Model) -> bool:
    """Follow ``obj`` or stop following it; returns whether ``user`` follows it now.

    Writes actstream ``Follow`` rows directly: actstream's ``follow()`` insists on its own
    registry, which adds cascading generic relations that would delete history.
    """
    content_type = ContentType.objects.get_for_model(obj)
    lookup = {"user": user, "content_type": content_type, "object_id": id_of(obj), "flag": ""}
    deleted, _rows = Follow.objects.filter(**lookup).delete()
    if deleted:
        return False
    Follow.objects.get_or_create(**lookup, defaults={"actor_only": False})
    return True


def unfollow(*, user: Viewer, content_type: ContentType, object_ids: Iterable[object]) -> bool:
    """Stop following, whether or not ``user`` may still see the object (or it still exists):
    True when a follow was removed."""
    deleted, _rows = Follow.objects.filter(
        user=user, content_type=content_type, object_id__in=[str(i) for i in object_ids], flag=""
    ).delete()
    return bool(deleted)

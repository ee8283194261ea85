"""The visibility policy: which actions a user may see. Every selector applies it.

The host registers, per model, the queryset of instances a user may see. An action is visible
when its *place* is: the target when it has one (the project a task lives in), else the action
object. Actions with neither are visible when public or the user's own. Users with the
``activityui.view_all_activity`` permission see everything in the staff console only; on the
end-user surfaces the same rules apply to them as to everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from activityui.conf import app_settings

VisibilityRule = Callable[[Any], QuerySet[Any]]

STAFF_PERMISSION = "activityui.view_all_activity"

_rules: dict[type[models.Model], VisibilityRule] = {}


def register_visibility(model: type[models.Model], rule: VisibilityRule) -> None:
    """``rule(user)`` returns the queryset of ``model`` instances ``user`` may see."""
    _rules[model] = rule


def visibility_rules() -> dict[type[models.Model], VisibilityRule]:
    return dict(_rules)


def can_view_all(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(STAFF_PERMISSION))


def visible_objects(model: type[models.Model], user: Any) -> QuerySet[Any] | None:
    """Instances of ``model`` that ``user`` may see; None when no rule is registered."""
    rule = _rules.get(model)
    if rule is None:
        return None
    if user is None or not user.is_authenticated:
        return model._default_manager.none()
    return rule(user)


def visible_ids(model: type[models.Model], user: Any) -> QuerySet[Any] | None:
    """The primary keys of :func:`visible_objects`, as text (actstream's object ids are text)."""
    objects = visible_objects(model, user)
    if objects is None:
        return None
    ids: QuerySet[Any] = (
        objects.order_by().annotate(_aui_id=Cast("pk", CharField())).values("_aui_id")
    )
    return ids


def can_see(user: Any, obj: models.Model) -> bool:
    """May ``user`` see ``obj`` itself (used for object timelines and follow buttons)?"""
    objects = visible_objects(type(obj), user)
    if objects is None:
        return bool(user is not None and user.is_authenticated) and (
            app_settings.UNREGISTERED_VISIBLE or can_view_all(user)
        )
    return objects.filter(pk=obj.pk).exists()


def place_q(role: str, user: Any) -> Q:
    """Actions whose ``role`` ("target" or "action_object") is an object ``user`` may see."""
    allowed = Q(pk__in=[])
    registered = []
    for model in _rules:
        content_type = ContentType.objects.get_for_model(model)
        registered.append(content_type.pk)
        allowed |= Q(
            **{
                f"{role}_content_type": content_type,
                f"{role}_object_id__in": visible_ids(model, user),
            }
        )
    if app_settings.UNREGISTERED_VISIBLE:
        allowed |= Q(**{f"{role}_content_type__isnull": False}) & ~Q(
            **{f"{role}_content_type__in": registered}
        )
    return allowed


def action_visibility_q(user: Any) -> Q:
    """The one policy as a filter on ``Action``."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return Q(pk__in=[])
    user_ct = ContentType.objects.get_for_model(user)
    own = Q(actor_content_type=user_ct, actor_object_id=str(user.pk))
    has_target = Q(target_content_type__isnull=False)
    object_only = Q(target_content_type__isnull=True, action_object_content_type__isnull=False)
    nowhere = Q(target_content_type__isnull=True, action_object_content_type__isnull=True)
    placed = (has_target & place_q("target", user)) | (object_only & place_q("action_object", user))
    return (Q(public=True) | own) & (placed | (nowhere & (Q(public=True) | own)))

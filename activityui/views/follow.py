"""Follow and unfollow: the toggle button."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from activityui.feeds import follow_toggle
from activityui.ids import id_of
from activityui.presenters import FollowState
from activityui.views.common import HtmxHttpRequest
from activityui.views.feeds import _feed_url
from activityui.visibility import visible_objects


def _followable_object(user: Any, key: str, object_id: str) -> models.Model:
    """The object behind ``key``/``object_id`` if it has a visibility rule and ``user`` may
    see it; 404 otherwise (also for objects that exist but are hidden)."""
    app_label, _dot, model_name = key.partition(".")
    if "\x00" in key or "\x00" in object_id:  # PostgreSQL refuses NUL in text: a 500
        raise Http404("No such object")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
    except ContentType.DoesNotExist as exc:
        raise Http404("No such object") from exc
    model = content_type.model_class()
    objects = visible_objects(model, user) if model is not None else None
    if objects is None or model is None:
        raise Http404("No such object")
    try:
        pk = model._meta.pk.to_python(object_id)
        obj: models.Model | None = objects.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such object") from exc
    if obj is None:
        raise Http404("No such object")
    return obj


@require_POST
@login_required
def follow(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """Follow or unfollow an object; htmx gets the new button, others go back."""
    obj = _followable_object(request.user, key, object_id)
    following = follow_toggle(user=request.user, obj=obj)
    if not request.htmx:
        target = request.POST.get("next", "")
        allowed = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        # only a path: redirect() would take "abc" for a URL name (NoReverseMatch, a 500)
        if not allowed or not target.startswith("/"):
            target = getattr(obj, "get_absolute_url", lambda: _feed_url("following"))()
        return redirect(target)
    state = FollowState(key, id_of(obj), str(obj), following)
    response = render(
        request,
        "activityui/_follow_button.html",
        {"follow": state, "next": request.POST.get("next", "")},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response

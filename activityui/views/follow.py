"""Follow and unfollow: the toggle button."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from activityui.days import FollowState
from activityui.feeds import feed_url
from activityui.follows import follow_toggle, unfollow
from activityui.ids import id_of, id_text
from activityui.keys import content_type_for_key
from activityui.views.common import HtmxHttpRequest
from activityui.visibility import Viewer, visible_object


def _followable_object(user: Viewer, key: str, object_id: str) -> models.Model:
    """The object behind ``key``/``object_id`` if it has a visibility rule and ``user`` may
    see it; 404 otherwise (also for objects that exist but are hidden)."""
    content_type = content_type_for_key(key)
    obj = visible_object(user, content_type, object_id) if content_type is not None else None
    if obj is None:
        raise Http404("No such object")
    return obj


def _unfollow_hidden(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse | None:
    """Unfollow an object the user follows but may no longer see (or that is gone): the follow
    is theirs to end. None when they do not follow it (then it is a 404 like any other)."""
    content_type = content_type_for_key(key)
    if content_type is None or "\x00" in object_id:
        return None
    ids = {object_id}
    model = content_type.model_class()
    if model is not None:
        with contextlib.suppress(ValidationError, ValueError, TypeError, OverflowError):
            ids.add(id_text(model, model._meta.pk.to_python(object_id)))
    if not unfollow(user=request.user, content_type=content_type, object_ids=ids):
        return None
    if not request.htmx:
        return redirect(feed_url("following"))
    # no label: the object's name now is not the user's to learn
    state = FollowState(key, object_id, "", False)
    return render(request, "activityui/_follow_button.html", {"follow": state, "next": ""})


@require_POST
@login_required
@vary_on_headers("HX-Request")  # the new button for htmx, a redirect back for a form
def follow(request: HtmxHttpRequest, key: str, object_id: str) -> HttpResponse:
    """Follow or unfollow an object; htmx gets the new button, others go back. An object the
    user may not see (any more) can only be unfollowed."""
    try:
        obj = _followable_object(request.user, key, object_id)
    except Http404:
        unfollowed = _unfollow_hidden(request, key, object_id)
        if unfollowed is None:
            raise
        return unfollowed
    following = follow_toggle(user=request.user, obj=obj)
    if not request.htmx:
        target = request.POST.get("next", "")
        allowed = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        # only a path: redirect() would take "abc" for a URL name (NoReverseMatch, a 500)
        if not allowed or not target.startswith("/"):
            target = getattr(obj, "get_absolute_url", lambda: feed_url("following"))()
        return redirect(target)
    state = FollowState(key, id_of(obj), str(obj), following)
    return render(
        request,
        "activityui/_follow_button.html",
        {"follow": state, "next": request.POST.get("next", "")},
    )

"""What the filter menus offer, read from what the viewer may see: verbs and people.

The verbs that occur there and the people who acted there (never a verb the site does not
record, never anyone the viewer has no trace of); ``choices.py`` words them as menu items."""

from __future__ import annotations

from typing import Any

from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet

from activityui.ids import IdText

MAX_VERBS = 60  # distinct verbs looked at (a site records a few dozen at most)
MAX_PEOPLE = 200  # people listed in the person menu


def _visible_actions(user: Any) -> QuerySet[Any]:
    from activityui.selectors import _plain
    from activityui.visibility import action_visibility_q

    return _plain().filter(action_visibility_q(user))


def verbs_seen_by(
    user: Any,
    actions: QuerySet[Any] | None = None,
    *,
    selected: str | None = None,
) -> list[str]:
    """The verbs of the actions ``user`` may see (of ``actions``, e.g. one object's timeline,
    when given: it must already be limited to what ``user`` may see), in order. The candidates
    are the verbs of the whole table (one loose index scan of the verb index,
    :func:`selectors.verbs_in_use`), bounded to :data:`MAX_VERBS`; then one query asks, per
    candidate, whether a visible action has it (an EXISTS that stops at the first row).

    A ``selected`` verb that is registered or recorded somewhere is kept (a shared link to
    "comments" on an object without any reads "nothing matches", not "invalid filter")."""
    from activityui.selectors import verbs_in_use
    from activityui.verbs import registered_verbs

    if user is None or not getattr(user, "is_authenticated", False):
        return []
    candidates = verbs_in_use()[:MAX_VERBS]
    known = set(candidates) | {verb.key for verb in registered_verbs()}
    kept = [selected] if selected and selected in known else []
    if not candidates:
        return kept
    visible = (actions if actions is not None else _visible_actions(user)).order_by()
    checks = {f"v{n}": Exists(visible.filter(verb=verb)) for n, verb in enumerate(candidates)}
    # one row to hang the EXISTS columns on: the viewer's own
    viewer = get_user_model()._base_manager.filter(pk=user.pk)
    row = viewer.annotate(**checks).values(*checks).first()
    seen = [verb for n, verb in enumerate(candidates) if row is not None and row[f"v{n}"]]
    return seen + [verb for verb in kept if verb not in seen]


def people_seen_by(user: Any, actions: QuerySet[Any] | None = None) -> QuerySet[Any]:
    """The users who did something ``user`` may see (of ``actions`` when given, which must be
    limited to what ``user`` may see), ``user`` too once they acted; ordered
    by username, at most :data:`MAX_PEOPLE`. One query: per user an EXISTS that probes the
    actor index (actor type, actor id) and stops at the first visible action. No visibility
    rule for the user model is needed: someone whose action you may see is no secret to you."""
    user_model = get_user_model()
    if user is None or not getattr(user, "is_authenticated", False):
        return user_model._default_manager.none()
    user_ct = ContentType.objects.get_for_model(user_model)
    visible = actions if actions is not None else _visible_actions(user)
    acted = visible.order_by().filter(
        actor_content_type=user_ct,
        actor_object_id=IdText(OuterRef("pk"), model=user_model),
    )
    people: QuerySet[Any] = user_model._default_manager.filter(Exists(acted)).order_by(
        user_model.USERNAME_FIELD
    )[:MAX_PEOPLE]
    return people


__all__ = ["MAX_PEOPLE", "MAX_VERBS", "Action", "people_seen_by", "verbs_seen_by"]

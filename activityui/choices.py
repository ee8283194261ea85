"""The choices of the filter menus: verbs, object types, people and fields as (value, label)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef

from activityui.conf import app_settings
from activityui.keys import type_key
from activityui.menus import Seen, people_seen_by, person_name, person_seen_by, verbs_seen_by
from activityui.selectors import verbs_in_use
from activityui.tracked import tracked_models, tracking_for
from activityui.verbs import get_verb, registered_verbs

if TYPE_CHECKING:
    from activityui.visibility import Viewer


def verb_choices() -> list[tuple[str, str]]:
    return [(v.key, str(v.phrase)) for v in registered_verbs()]


def object_type_choices() -> list[tuple[str, str]]:
    choices = []
    for model in tracked_models():
        choices.append((model._meta.label_lower, str(model._meta.verbose_name).capitalize()))
    return sorted(choices, key=lambda c: c[1])


def viewer_verb_choices(
    user: Viewer | None, actions: Seen | None = None, *, selected: str | None = None
) -> list[tuple[str, str]]:
    """The verbs of what ``user`` may see (of ``actions`` when given), as (verb, phrase),
    ordered by phrase (see :func:`activityui.menus.verbs_seen_by`)."""
    verbs = verbs_seen_by(user, actions, selected=selected)
    choices = [(verb, str(get_verb(verb).phrase)) for verb in verbs]
    return sorted(choices, key=lambda c: c[1].lower())


def person_choices(
    user: Viewer | None, actions: Seen | None = None, *, selected: str | None = None
) -> list[tuple[str, str]]:
    """(username, name) of the people who did something ``user`` may see (of ``actions`` when
    given; no visibility rule for the user model needed). Bounded to
    :data:`activityui.menus.MAX_PEOPLE`."""
    if user is None or not user.is_authenticated:
        return []
    if actions is not None and actions.people is not None:  # remembered with the menus
        people = list(actions.people)
    else:
        people = [person_name(person) for person in people_seen_by(user, actions)]
    if selected and actions is not None and selected not in {name[0] for name in people}:
        # a shared link names someone older than the window: kept when the viewer may see them
        person = person_seen_by(user, selected)
        people += [person_name(person)] if person is not None else []
    choices = [(username, name or username) for username, name in people]
    return sorted(choices, key=lambda c: c[1].lower())


def staff_verb_choices(selected: str | None = None) -> list[tuple[str, str]]:
    """Registered verbs plus every verb found in the actions (one loose index scan, see
    :func:`activityui.selectors.verbs_in_use`). ``selected`` is kept for callers; a selected
    verb that exists anywhere is in the data, so it is offered."""
    verbs = {v.key for v in registered_verbs()}
    verbs.update(verbs_in_use())
    return [(verb, verb) for verb in sorted(verbs, key=str.lower)]


def content_types_in_use() -> list[tuple[str, str]]:
    """Types that are the object or target of some action: one query, an EXISTS per type."""
    # a UNION, not "EXISTS OR EXISTS": PostgreSQL turns an OR of EXISTS into subplans that
    # scan the whole action table for every type without actions (seconds at 1M actions);
    # each EXISTS alone is a semi-join that probes the content type index (perf). It reads
    # on READ_DATABASE like every read of the action table (the UNION runs where its first
    # part does).
    in_use = (
        ContentType.objects.using(app_settings.READ_DATABASE or None)
        .filter(Exists(Action.objects.filter(action_object_content_type=OuterRef("pk"))))
        .union(
            ContentType.objects.filter(
                Exists(Action.objects.filter(target_content_type=OuterRef("pk")))
            )
        )
    )
    choices = []
    for content_type in in_use:
        model = content_type.model_class()
        name = str(model._meta.verbose_name) if model else content_type.model
        choices.append((type_key(content_type), name.capitalize()))
    return sorted(choices, key=lambda c: (c[1].lower(), c[0]))


def tracked_field_choices(model: type[Any] | None) -> list[tuple[str, str]]:
    """The fields whose changes capture records for ``model`` (empty when it is not tracked)."""
    tracking = tracking_for(model) if model is not None else None
    if tracking is None:
        return []
    fields = [*tracking.fields, *tracking.m2m_fields]
    return [(f.name, str(f.verbose_name).capitalize()) for f in fields]


def timeline_verb_choices(
    user: Viewer | None = None, actions: Seen | None = None, selected: str | None = None
) -> list[tuple[str, str]]:
    """The verbs of the timeline's ``actions`` as menu items ("Commented on", "Created", …);
    every registered verb when no ``actions`` are given."""
    pairs = (
        viewer_verb_choices(user, actions, selected=selected)
        if actions is not None
        else verb_choices()
    )
    return [(key, phrase[:1].upper() + phrase[1:]) for key, phrase in pairs]

"""Presentation: turn actions into small frozen dataclasses templates can show without queries.

Entries render from the label/URL snapshots that capture stored in ``Action.data``, so a page
costs one query whatever its size and however many content types it mixes, and deleted or
renamed objects still read as they did.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from activityui.cursors import encode_cursor
from activityui.diffs import LONG_TEXT, DiffPart, condense_diff, word_diff
from activityui.keys import type_key
from activityui.links import timeline_url
from activityui.verbs import get_verb

AVATAR_HUES = 12


@dataclass(frozen=True)
class ObjectRef:
    label: str
    url: str | None
    timeline_url: str | None
    type_name: str
    type_key: str  # "app_label.model_name"
    object_id: str


@dataclass(frozen=True)
class Change:
    field: str
    name: str
    old: str
    new: str
    diff: tuple[DiffPart, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def is_text_diff(self) -> bool:
        return bool(self.diff)

    @property
    def is_m2m(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class ActionEntry:
    id: int
    timestamp: dt.datetime
    verb: str
    phrase: str
    icon: str
    actor: ObjectRef | None
    initials: str
    hue: int
    action_object: ObjectRef | None
    target: ObjectRef | None
    changes: tuple[Change, ...]
    public: bool
    cursor: str
    comment: str = ""
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_local_path(url: str) -> bool:
    """A path on this site: "//host", "/\\host" (and "/<tab>/host": browsers drop tabs and
    newlines) are other sites to a browser."""
    if _CONTROL.search(url):
        return False
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def object_ref(content_type_id: int | None, object_id: str | None, snap: Any) -> ObjectRef | None:
    if content_type_id is None or object_id is None:
        return None
    content_type = ContentType.objects.get_for_id(content_type_id)
    snap = snap if isinstance(snap, dict) else {}
    model = content_type.model_class()
    type_name = str(model._meta.verbose_name) if model else content_type.model
    label = snap.get("label") or f"{type_name} #{object_id}"
    key = type_key(content_type)
    url = snap.get("url")
    return ObjectRef(
        label=str(label),
        url=url if isinstance(url, str) and _is_local_path(url) else None,
        timeline_url=timeline_url(key, object_id),
        type_name=type_name,
        type_key=key,
        object_id=object_id,
    )


def initials(label: str) -> str:
    words = [w for w in re.split(r"[\s._@-]+", label) if w]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def display_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        label = value.get("label")
        if label is None:
            label = value.get("value", value.get("pk"))
        return "—" if label is None else str(label)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    return str(value)


def _field_name(model: Any, name: str) -> str:
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name)
        except Exception:
            pass
    return name.replace("_", " ")


def present_changes(model: Any, changes: Any) -> tuple[Change, ...]:
    if not isinstance(changes, dict):
        return ()
    result = []
    for name, value in changes.items():
        label = _field_name(model, str(name))
        if isinstance(value, dict) and ("added" in value or "removed" in value):
            result.append(
                Change(
                    field=str(name),
                    name=label,
                    old="",
                    new="",
                    added=tuple(display_value(v) for v in value.get("added") or []),
                    removed=tuple(display_value(v) for v in value.get("removed") or []),
                )
            )
            continue
        if not isinstance(value, list | tuple) or len(value) != 2:
            continue
        model_field = model_field_named(model, str(name))
        old, new = change_value(model_field, value[0]), change_value(model_field, value[1])
        diff: tuple[DiffPart, ...] = ()
        if (
            isinstance(value[0], str)
            and isinstance(value[1], str)
            and max(len(value[0]), len(value[1])) >= LONG_TEXT
        ):
            diff = condense_diff(word_diff(value[0], value[1]))
        result.append(Change(field=str(name), name=label, old=old, new=new, diff=diff))
    return tuple(result)


def present(actions: Iterable[Any]) -> list[ActionEntry]:
    """ActionEntry objects for actions; reads only the rows themselves (no queries but
    cached content types)."""
    entries = []
    refs: dict[tuple[Any, ...], ObjectRef | None] = {}

    def shared_ref(content_type_id: int | None, object_id: str | None, snap: Any) -> Any:
        # a page names the same people, projects and tasks again and again: one ObjectRef
        # each (they are frozen, so rows may share them)
        if not isinstance(snap, dict):
            return object_ref(content_type_id, object_id, snap)
        key = (content_type_id, object_id, snap.get("label"), snap.get("url"))
        try:
            return refs[key]
        except KeyError:
            ref = refs[key] = object_ref(content_type_id, object_id, snap)
            return ref
        except TypeError:  # a label or URL that is not a string (a hand-written snapshot)
            return object_ref(content_type_id, object_id, snap)

    for action in actions:
        data = action.data if isinstance(action.data, dict) else {}
        snapshot = data.get("snapshot")
        snapshot = snapshot if isinstance(snapshot, dict) else {}
        verb = get_verb(action.verb)
        actor = shared_ref(
            action.actor_content_type_id, action.actor_object_id, snapshot.get("actor")
        )
        action_object = shared_ref(
            action.action_object_content_type_id,
            action.action_object_object_id,
            snapshot.get("action_object"),
        )
        object_model = None
        if action.action_object_content_type_id:
            object_model = ContentType.objects.get_for_id(
                action.action_object_content_type_id
            ).model_class()
        comment = data.get("comment")
        entries.append(
            ActionEntry(
                id=action.pk,
                timestamp=action.timestamp,
                verb=action.verb,
                phrase=str(verb.phrase),
                icon=verb.icon,
                actor=actor,
                initials=initials(actor.label) if actor else "?",
                hue=(
                    int(action.actor_object_id)
                    if str(action.actor_object_id).isdigit()
                    else sum(map(ord, str(action.actor_object_id)))
                )
                % AVATAR_HUES,
                action_object=action_object,
                target=shared_ref(
                    action.target_content_type_id,
                    action.target_object_id,
                    snapshot.get("target"),
                ),
                changes=present_changes(object_model, data.get("changes")),
                public=action.public,
                cursor=encode_cursor(action.timestamp, action.pk),
                comment=str(comment) if comment else "",
                data=data,
            )
        )
    return entries


# --- object timeline ---

COMPACT_CHANGES = 3  # an action changing more fields than this folds the rest away


def model_field_named(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def change_value(model_field: Any, value: Any) -> str:
    """One side of a change as text: choices and FKs by label, dates in the active locale."""
    if isinstance(value, dict) and value.get("label") is None and value.get("pk") is not None:
        return f"#{value['pk']}"  # the related object was already gone when this was recorded
    if isinstance(value, str) and model_field is not None:
        from django.db import models

        try:
            if isinstance(model_field, models.DateTimeField):
                moment = dt.datetime.fromisoformat(value)
                if timezone.is_aware(moment):
                    moment = timezone.localtime(moment)
                return date_format(moment, "DATETIME_FORMAT")
            if isinstance(model_field, models.DateField):
                return date_format(dt.date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            pass  # not an ISO value (e.g. stored before the field type changed): show as is
    return display_value(value)


@dataclass(frozen=True)
class TimelineEntry:
    """An action as one object's timeline shows it (the object itself is not repeated)."""

    entry: ActionEntry
    about_self: bool  # the action object is the timeline's object
    in_self: bool  # the target is the timeline's object
    changes: tuple[Change, ...]  # shown at once
    more_changes: tuple[Change, ...]  # folded away when many fields changed together

    @property
    def timestamp(self) -> dt.datetime:
        return self.entry.timestamp


def _is(ref: ObjectRef | None, key: str, object_id: str) -> bool:
    return ref is not None and ref.type_key == key and ref.object_id == object_id


def present_timeline(actions: Iterable[Any], *, key: str, object_id: str) -> list[TimelineEntry]:
    """Timeline entries of the object ``key`` ("app_label.model_name") / ``object_id``."""
    result = []
    for entry in present(actions):
        changes = entry.changes
        if len(changes) > COMPACT_CHANGES + 1:
            shown, more = changes[:COMPACT_CHANGES], changes[COMPACT_CHANGES:]
        else:
            shown, more = changes, ()
        result.append(
            TimelineEntry(
                entry=entry,
                about_self=_is(entry.action_object, key, object_id),
                in_self=_is(entry.target, key, object_id),
                changes=shown,
                more_changes=more,
            )
        )
    return result


def subject_label(entries: Sequence[TimelineEntry], key: str, object_id: str) -> str | None:
    """The newest snapshot label of the timeline's object among ``entries`` (None if absent)."""
    for item in entries:
        for ref in (item.entry.action_object, item.entry.target, item.entry.actor):
            if _is(ref, key, object_id) and ref is not None:
                return ref.label
    return None


UNREAD_CAP = 20  # unread badges count this far and then show "20+"


def count_label(count: int, limit: int) -> str:
    """ "" for none, "7", or "20+" past ``limit`` (counts stop there to stay cheap)."""
    if count <= 0:
        return ""
    return f"{limit}+" if count > limit else str(count)

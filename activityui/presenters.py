"""Presentation: turn actions into small frozen dataclasses templates can show without queries.

Entries render from the label/URL snapshots that capture stored in ``Action.data``, so a page
costs one query whatever its size and however many content types it mixes, and deleted or
renamed objects still read as they did.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from django.contrib.contenttypes.models import ContentType
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from activityui.cursors import encode_cursor
from activityui.verbs import get_verb

LONG_TEXT = 60  # characters from which a text change is shown as a word diff
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
class DiffPart:
    op: str  # "equal", "delete" or "insert"
    text: str


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


@dataclass(frozen=True)
class DayGroup:
    day: dt.date
    label: str
    entries: tuple[ActionEntry, ...]


def type_key(content_type: ContentType) -> str:
    return f"{content_type.app_label}.{content_type.model}"


_ID = "AUIOBJECTID0"  # stands for the object id in a reversed URL; quoting leaves it as is
_url_templates: dict[tuple[Any, ...], str] = {}


def object_url(name: str, key: str, object_id: str) -> str:
    """``reverse(name, args=[key, object_id])`` for activityui's ``<key>/<object_id>/``
    routes, with one real ``reverse()`` per route, type, language and URLconf: a page links
    every object it shows (the same string, about 50 times faster)."""
    if not object_id or "/" in object_id or "/" in key:
        return reverse(name, args=[key, object_id])  # no template fits: let reverse() decide
    cache_key = (name, key, get_language(), get_script_prefix(), get_urlconf())
    template = _url_templates.get(cache_key)
    if template is None:
        template = reverse(name, args=[key, _ID])
        if template.count(_ID) != 1:
            return reverse(name, args=[key, object_id])
        _url_templates[cache_key] = template
    # reverse() quotes the whole path with these safe characters; the rest of it already is
    return template.replace(_ID, quote(object_id, safe=RFC3986_SUBDELIMS + "/~:@"))


def _forget_url_templates(*, setting: str, **kwargs: Any) -> None:
    if setting in {"ROOT_URLCONF", "FORCE_SCRIPT_NAME", "LANGUAGES", "LANGUAGE_CODE"}:
        _url_templates.clear()


setting_changed.connect(_forget_url_templates)


def timeline_url(key: str, object_id: str) -> str | None:
    try:
        return object_url("activityui:object", key, object_id)
    except NoReverseMatch:
        return None


def _is_local_path(url: str) -> bool:
    """A path on this site: "//host", "/\\host" (and "/<tab>/host": browsers drop tabs and
    newlines) are other sites to a browser."""
    if any(ord(char) < 0x20 or char == "\x7f" for char in url):
        return False
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def _ref(content_type_id: int | None, object_id: str | None, snap: Any) -> ObjectRef | None:
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


def word_diff(old: str, new: str) -> tuple[DiffPart, ...]:
    """Word-level diff of two texts: runs of equal, deleted and inserted words."""
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    opcodes = matcher.get_opcodes()
    # A lone space kept between two edits ("quick brown" -> "slow red") would chop the diff
    # into word-by-word pairs; merge such edits into one deleted and one inserted run.
    removed: list[str] = []
    added: list[str] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            text = "".join(a[i1:i2])
            if text.isspace() and 0 < index < len(opcodes) - 1:
                removed.append(text)
                added.append(text)
                continue
            _flush_edit(parts, removed, added)
            parts.append(DiffPart("equal", text))
            continue
        removed.extend(a[i1:i2])
        added.extend(b[j1:j2])
    _flush_edit(parts, removed, added)
    return tuple(parts)


def _flush_edit(parts: list[DiffPart], removed: list[str], added: list[str]) -> None:
    old, new = "".join(removed), "".join(added)
    if old.strip():
        parts.append(DiffPart("delete", old))
    if new.strip():
        parts.append(DiffPart("insert", new))
    elif new and not old.strip():
        parts.append(DiffPart("equal", new))  # only whitespace changed: keep the spacing
    removed.clear()
    added.clear()


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
        model_field = _model_field(model, str(name))
        old, new = _change_value(model_field, value[0]), _change_value(model_field, value[1])
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
    for action in actions:
        data = action.data if isinstance(action.data, dict) else {}
        snapshot = data.get("snapshot")
        snapshot = snapshot if isinstance(snapshot, dict) else {}
        verb = get_verb(action.verb)
        actor = _ref(action.actor_content_type_id, action.actor_object_id, snapshot.get("actor"))
        action_object = _ref(
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
                target=_ref(
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


def day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("Today")
    if day == today - dt.timedelta(days=1):
        return _("Yesterday")
    if day.year == today.year:
        # the format is translatable: French writes "samedi 14 février", without the comma
        return date_format(day, pgettext("day heading, this year", "l, j F"))
    return date_format(day, pgettext("day heading, another year", "j F Y"))


def group_by_day(entries: Sequence[ActionEntry]) -> list[DayGroup]:
    """Entries in runs by local calendar day (the active time zone), newest first."""
    today = timezone.localdate()
    groups: list[DayGroup] = []
    current: list[ActionEntry] = []
    current_day: dt.date | None = None
    for entry in entries:
        day = timezone.localtime(entry.timestamp).date()
        if day != current_day and current:
            groups.append(DayGroup(current_day, day_label(current_day, today), tuple(current)))  # type: ignore[arg-type]
            current = []
        current_day = day
        current.append(entry)
    if current and current_day is not None:
        groups.append(DayGroup(current_day, day_label(current_day, today), tuple(current)))
    return groups


# --- feed: aggregation, "since your last visit", day sections ---


@dataclass(frozen=True)
class FollowState:
    """What a follow button needs: the object and whether the user follows it."""

    type_key: str
    object_id: str
    label: str
    following: bool

    @cached_property
    def url(self) -> str:
        """Where the button posts (``activityui:follow``; the form names it twice)."""
        return object_url("activityui:follow", self.type_key, self.object_id)


@dataclass(frozen=True)
class FeedItem:
    """One row of the feed: an entry, or consecutive similar entries collapsed into one."""

    entries: tuple[ActionEntry, ...]
    summary: str = ""  # "updated 4 tasks" (after the actor, before the target) for groups
    new: bool = False  # newer than the user's read marker (and not the user's own)
    divider_above: bool = False  # the "New since your last visit" line goes above this row
    follow: FollowState | None = None

    @property
    def entry(self) -> ActionEntry:
        return self.entries[0]

    @property
    def is_group(self) -> bool:
        return len(self.entries) > 1

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def same_object(self) -> bool:
        """A group of actions on one object ("Bob commented on Fix login 3 times")."""
        ids = {
            (e.action_object.type_key, e.action_object.object_id)
            for e in self.entries
            if e.action_object
        }
        return self.is_group and len(ids) == 1


@dataclass(frozen=True)
class FeedDay:
    day: dt.date
    label: str
    key: str  # "2026-11-27": DOM ids of the day's section and list
    items: tuple[FeedItem, ...]
    continued: bool = False  # the same day as the end of the page before (no new heading)
    divider_above: bool = False


def _aggregation_key(entry: ActionEntry) -> tuple[Any, ...] | None:
    if entry.actor is None or entry.target is None or entry.action_object is None:
        return None
    return (
        entry.actor.type_key,
        entry.actor.object_id,
        entry.verb,
        entry.target.type_key,
        entry.target.object_id,
        entry.action_object.type_key,
    )


def _group_summary(entries: Sequence[ActionEntry]) -> str:
    from django.apps import apps
    from django.utils.translation import ngettext

    first = entries[0]
    count = len(entries)
    assert first.action_object is not None
    if len({e.action_object.object_id for e in entries if e.action_object}) == 1:
        return ngettext(
            "%(verb)s %(object)s %(count)d time", "%(verb)s %(object)s %(count)d times", count
        ) % {"verb": first.phrase, "object": first.action_object.label, "count": count}
    try:
        model = apps.get_model(first.action_object.type_key)
        plural = str(model._meta.verbose_name_plural)
    except (LookupError, ValueError):
        plural = first.action_object.type_name
    return _("%(verb)s %(count)d %(things)s") % {
        "verb": first.phrase,
        "count": count,
        "things": plural,
    }


def _is_after(entry: ActionEntry, marker: Any) -> bool:
    return (entry.timestamp, entry.id) > (marker.timestamp, marker.id)


def feed_days(
    entries: Sequence[ActionEntry],
    *,
    marker: Any = None,
    own_actor: tuple[str, str] | None = None,
    new_above: bool = False,
    continues_day: dt.date | None = None,
    followable: frozenset[str] | set[str] = frozenset(),
    followed: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
    max_group: int = 50,
) -> list[FeedDay]:
    """A page of the feed as day sections of rows, newest first.

    Consecutive actions of one actor with one verb on objects of one type in one target
    collapse into a group row (within a day and one side of the read ``marker``, a cursor).
    ``own_actor`` ("app.model", id) marks the user's own actions, which are never "new".
    ``new_above`` says that newer rows on earlier pages were new (for the divider when the
    page starts right below the marker); ``continues_day`` is the day the previous page
    ended on, so that its heading is not repeated.
    """
    today = timezone.localdate()
    days: list[FeedDay] = []
    divider_placed = False
    seen_new = new_above

    def own(entry: ActionEntry) -> bool:
        return bool(
            own_actor and entry.actor and (entry.actor.type_key, entry.actor.object_id) == own_actor
        )

    def follow_state(entry: ActionEntry) -> FollowState | None:
        ref = entry.action_object
        if ref is None or ref.type_key not in followable or entry.verb == "deleted":
            return None
        return FollowState(
            ref.type_key, ref.object_id, ref.label, (ref.type_key, ref.object_id) in followed
        )

    # runs of entries by (day, side of the marker, aggregation key)
    runs: list[tuple[dt.date, bool, list[ActionEntry]]] = []
    previous_key: tuple[Any, ...] | None = None
    for entry in entries:
        day = timezone.localtime(entry.timestamp).date()
        after = marker is None or _is_after(entry, marker)
        key = _aggregation_key(entry)
        if (
            runs
            and key is not None
            and key == previous_key
            and runs[-1][0] == day
            and runs[-1][1] == after
            and len(runs[-1][2]) < max_group
        ):
            runs[-1][2].append(entry)
        else:
            runs.append((day, after, [entry]))
        previous_key = key

    current: list[FeedItem] = []
    current_day: dt.date | None = None
    day_divider = False

    def close_day() -> None:
        if current_day is None or not current:
            return
        days.append(
            FeedDay(
                day=current_day,
                label=day_label(current_day, today),
                key=current_day.isoformat(),
                items=tuple(current),
                continued=not days and current_day == continues_day,
                divider_above=day_divider,
            )
        )

    for day, after, run in runs:
        if day != current_day:
            close_day()
            current, current_day, day_divider = [], day, False
        is_new = marker is not None and after and any(not own(e) for e in run)
        divider = marker is not None and not after and seen_new and not divider_placed
        if divider:
            divider_placed = True
            if not current and not (not days and day == continues_day):
                day_divider, divider = True, False
        seen_new = seen_new or is_new
        current.append(
            FeedItem(
                entries=tuple(run),
                summary=_group_summary(run) if len(run) > 1 else "",
                new=is_new,
                divider_above=divider,
                follow=follow_state(run[0]) if len(run) == 1 else None,
            )
        )
    close_day()
    return days


# --- object timeline ---

DIFF_CONTEXT_WORDS = 8  # unchanged words kept on each side of an edit in a long text diff
COMPACT_CHANGES = 3  # an action changing more fields than this folds the rest away


def _model_field(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _change_value(model_field: Any, value: Any) -> str:
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


def condense_diff(
    parts: Sequence[DiffPart], *, context: int = DIFF_CONTEXT_WORDS
) -> tuple[DiffPart, ...]:
    """Shorten long unchanged runs of a word diff to ``context`` words around each edit."""
    if all(part.op == "equal" for part in parts):
        return tuple(parts)
    result = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if part.op != "equal":
            result.append(part)
            continue
        tokens = re.findall(r"\S+\s*", part.text)
        keep_head = context if index > 0 else 0
        keep_tail = context if index < last else 0
        if len(tokens) <= keep_head + keep_tail + 2:
            result.append(part)
            continue
        lead = re.match(r"\s*", part.text).group()  # type: ignore[union-attr]
        head = lead + "".join(tokens[:keep_head]) if keep_head else ""
        tail = "".join(tokens[len(tokens) - keep_tail :]) if keep_tail else ""
        result.append(DiffPart("equal", f"{head}… {tail}" if head else f"… {tail}"))
    return tuple(result)


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

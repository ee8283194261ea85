"""The visibility policy: which actions a user may see. Every selector applies it.

The host registers, per model, the queryset of instances a user may see. An action is visible
when its *place* is: the target when it has one (the project a task lives in), else the action
object. Actions with neither are visible when public or the user's own. Users with the
``activityui.view_all_activity`` permission see everything in the staff console only; on the
end-user surfaces the same rules apply to them as to everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import F, Q, QuerySet, Value

from activityui.conf import app_settings
from activityui.ids import IdText, id_kind, id_of, id_text, stored_ids
from activityui.keys import content_type_for_key


class Viewer(Protocol):
    """A reader as activityui uses one: the request's user, signed in or not (Django's
    ``AnonymousUser``), of whatever user model the host has."""

    @property
    def pk(self) -> Any: ...
    @property
    def is_authenticated(self) -> bool: ...
    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool: ...


def as_person(user: Viewer) -> models.Model:
    """A signed-in ``user`` as the model instance it is (for its content type and id as an
    actor); an anonymous user is none, and is an error here."""
    if not isinstance(user, models.Model):
        raise TypeError(f"{user!r} is not a signed-in user")
    return user


VisibilityRule = Callable[[Any], QuerySet[Any]]

STAFF_PERMISSION = "activityui.view_all_activity"

_rules: dict[type[models.Model], VisibilityRule] = {}


def register_visibility(model: type[models.Model], rule: VisibilityRule) -> None:
    """``rule(user)`` returns the queryset of ``model`` instances ``user`` may see."""
    _rules[model] = rule


def visibility_rules() -> dict[type[models.Model], VisibilityRule]:
    return dict(_rules)


def can_view_all(user: Viewer) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(STAFF_PERMISSION))


def visible_objects(model: type[models.Model], user: Viewer) -> QuerySet[Any] | None:
    """Instances of ``model`` that ``user`` may see; None when no rule is registered."""
    rule = _rules.get(model)
    if rule is None:
        return None
    if user is None or not user.is_authenticated:
        return model._default_manager.none()
    return rule(user)


def visible_ids(model: type[models.Model], user: Viewer) -> QuerySet[Any] | list[str] | None:
    """The primary keys of :func:`visible_objects` as actstream stores them
    (:func:`activityui.ids.stored_ids`)."""
    objects = visible_objects(model, user)
    if objects is None:
        return None
    return stored_ids(objects)


def visible_object(user: Viewer, content_type: ContentType, raw_id: str) -> models.Model | None:
    """The object of ``content_type`` whose pk reads ``raw_id``, if its model has a rule and
    ``user`` may see it; None otherwise (missing, hidden, unruled or a malformed id alike)."""
    if "\x00" in raw_id:  # PostgreSQL refuses NUL in text: a 500
        return None
    model = content_type.model_class()
    objects = visible_objects(model, user) if model is not None else None
    if objects is None or model is None:
        return None
    try:
        pk = model._meta.pk.to_python(raw_id)
        obj: models.Model | None = objects.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError, OverflowError):
        return None
    return obj


def can_see(user: Viewer, obj: models.Model) -> bool:
    """May ``user`` see ``obj`` itself (used for object timelines and follow buttons)?"""
    objects = visible_objects(type(obj), user)
    if objects is None:
        return bool(user is not None and user.is_authenticated) and (
            app_settings.UNREGISTERED_VISIBLE or can_view_all(user)
        )
    return objects.filter(pk=obj.pk).exists()


def place_q(role: str, user: Viewer) -> Q:
    """Actions whose ``role`` ("target" or "action_object") is an object ``user`` may see."""
    return Visibility(user, inline=False).place(role)


def action_visibility_q(user: Viewer) -> Q:
    """The one policy as a filter on ``Action``, the visible ids as subqueries (no query
    until it runs). :class:`Visibility` writes the policy; this is it without inlining."""
    return Visibility(user, inline=False).q()


# --- an object's timeline: who may read its history ---


@dataclass(frozen=True)
class ObjectSubject:
    """The object a timeline or history page is about, resolved from its URL: ``obj`` None
    once deleted, ``model`` None once the model itself is gone (its history is kept as
    snapshots)."""

    key: str  # "app_label.model_name"
    object_id: str
    content_type: ContentType
    model: type[models.Model] | None
    obj: models.Model | None

    @property
    def type_name(self) -> str:
        return str(self.model._meta.verbose_name) if self.model else self.content_type.model

    @property
    def url(self) -> str | None:
        get_url = getattr(self.obj, "get_absolute_url", None)
        return str(get_url()) if get_url is not None else None

    @property
    def shown_if_history(self) -> bool:
        """Its timeline exists only if it has history: deleted, or of a model without a
        visibility rule (staff may read any history but not any row: else its ``str()``
        could be read by id)."""
        return self.obj is None or self.model not in _rules


def object_subject(key: str, raw_id: str) -> ObjectSubject | None:
    """Resolve ``key`` ("app_label.model_name") and the pk ``raw_id``; None when either is
    malformed or names nothing (a deleted object resolves, with ``obj`` None)."""
    if "\x00" in raw_id:  # PostgreSQL refuses NUL in text: a 500
        return None
    content_type = content_type_for_key(key)
    if content_type is None:
        return None
    model = content_type.model_class()
    if model is None:
        return ObjectSubject(key, raw_id, content_type, None, None)
    try:
        pk = model._meta.pk.to_python(raw_id)
    except ValidationError:
        return None
    if pk is None or pk == "":
        return None
    obj = model._default_manager.filter(pk=pk).first()
    return ObjectSubject(key, id_text(model, pk), content_type, model, obj)


def timeline_subject(user: Viewer, key: str, raw_id: str) -> ObjectSubject | None:
    """The object ``key``/``raw_id`` names, if ``user`` may read its history: staff
    (:func:`can_view_all`) that of any object, deleted or not; others that of an existing
    object they may see (:func:`can_see`). None otherwise: malformed, unknown, deleted or
    hidden alike, so a hidden object reads exactly like a missing one. A subject that is
    :attr:`~ObjectSubject.shown_if_history` has a timeline only if the user's stream of it
    has an action (the caller reads that stream anyway)."""
    subject = object_subject(key, raw_id)
    if subject is None or can_view_all(user):
        return subject
    if subject.obj is None or not can_see(user, subject.obj):
        return None
    return subject


# --- the policy, read once per request and specialised per branch (perf) ---

MAX_LITERAL_IDS = 500  # more visible objects of a model than this: keep its subquery


class Visibility:
    """The policy for one user, as a ``Q`` on ``Action`` (:meth:`q`, :meth:`branch_q`).

    Built cheaply: the visible ids of every registered model are read in one query and
    inlined as literals (a model with more than :data:`MAX_LITERAL_IDS` keeps its subquery),
    so a filter repeated in many branches costs neither Python time to build nor database time
    to run. ``inline=False`` keeps every model's ids as a subquery and reads nothing
    (:func:`action_visibility_q`)."""

    def __init__(self, user: Viewer, *, inline: bool = True) -> None:
        self.user = user
        self.inline = inline
        self._ids: dict[type[models.Model], list[str] | QuerySet[Any]] = {}

    @property
    def signed_in(self) -> bool:
        user = self.user
        return bool(user is not None and not isinstance(user, AnonymousUser)) and bool(
            user.is_authenticated
        )

    def ids(self, model: type[models.Model]) -> list[str] | QuerySet[Any]:
        if not self.inline:
            return self._rule_ids(model)
        if model not in self._ids:
            self.prefetch(list(_rules))
        return self._ids[model]

    def _rule_ids(self, model: type[models.Model]) -> list[str] | QuerySet[Any]:
        """:func:`visible_ids` of a ``model`` that has a rule (the only ones asked for)."""
        ids = visible_ids(model, self.user)
        if ids is None:
            raise LookupError(f"{model._meta.label} has no visibility rule")
        return ids

    def prefetch(self, wanted: list[type[models.Model]]) -> None:
        """Read the visible ids of the ``wanted`` models not read yet, in one query."""
        missing = [model for model in dict.fromkeys(wanted) if model not in self._ids]
        if missing:
            self._ids.update(self._read(missing))

    def models_for(self, branch: Q) -> list[type[models.Model]]:
        """The models whose visible ids :meth:`branch_q` needs for ``branch``."""
        facts = _pinned(branch)
        for role in ("target", "action_object"):
            content_type_id = facts.get(f"{role}_content_type")
            if content_type_id is not None:
                model = ContentType.objects.get_for_id(content_type_id).model_class()
                return [model] if model in _rules else []
            if role == "target" and "target_content_type" in facts:
                continue  # no target: the action object decides
            break
        return list(_rules)

    def _read(
        self, models_in_order: list[type[models.Model]]
    ) -> dict[type[models.Model], list[str] | QuerySet[Any]]:
        arms = []
        found: dict[int, list[str]] = {n: [] for n in range(len(models_in_order))}
        for number, model in enumerate(models_in_order):
            objects = cast(QuerySet[Any], visible_objects(model, self.user)).order_by()
            if id_kind(model) == "other":  # no SQL text form: read in Python
                pks = objects.values_list("pk", flat=True)[: MAX_LITERAL_IDS + 1]
                found[number] = [id_text(model, pk) for pk in pks]
                continue
            text = IdText(F("pk"), model=model)
            if connections[objects.db].features.supports_slicing_ordering_in_compound:
                arms.append(
                    objects.annotate(_aui_n=Value(number), _aui_id=text).values_list(
                        "_aui_n", "_aui_id"
                    )[: MAX_LITERAL_IDS + 1]
                )
                continue
            # SQLite forbids LIMIT in the arms of a compound SELECT: "pk IN (limited)"
            limited = objects.values("pk")[: MAX_LITERAL_IDS + 1]
            arms.append(
                model._base_manager.filter(pk__in=limited)
                .order_by()
                .annotate(_aui_n=Value(number), _aui_id=text)
                .values_list("_aui_n", "_aui_id")
            )
        if arms:
            # one arm alone is no UNION: Django cannot order a sliced query (PostgreSQL arms
            # are sliced), and one arm needs no order
            rows = (
                arms[0] if len(arms) == 1 else arms[0].union(*arms[1:], all=True).order_by("_aui_n")
            )
            for number, stored in rows:
                found[number].append(stored)
        result: dict[type[models.Model], list[str] | QuerySet[Any]] = {}
        for number, model in enumerate(models_in_order):
            ids = found[number]
            if len(ids) > MAX_LITERAL_IDS:
                result[model] = self._rule_ids(model)
            else:
                result[model] = sorted(ids)
        return result

    def place(self, role: str, content_type_id: int | None = None) -> Q:
        """Actions whose ``role`` is an object the user may see (of one content type of
        ``role`` when given: then the ``Q`` tests the object id only)."""
        allowed = Q(pk__in=[])
        registered = []
        for model in _rules:
            content_type = ContentType.objects.get_for_model(model)
            registered.append(content_type.pk)
            if content_type_id is not None and content_type.pk != content_type_id:
                continue
            ids = self.ids(model)
            if content_type_id is not None:
                return Q(**{f"{role}_object_id__in": ids})
            allowed |= Q(**{f"{role}_content_type": content_type, f"{role}_object_id__in": ids})
        if content_type_id is not None:
            return Q() if app_settings.UNREGISTERED_VISIBLE else Q(pk__in=[])
        if app_settings.UNREGISTERED_VISIBLE:
            allowed |= Q(**{f"{role}_content_type__isnull": False}) & ~Q(
                **{f"{role}_content_type__in": registered}
            )
        return allowed

    def _shown(self) -> Q:
        person = as_person(self.user)
        user_ct = ContentType.objects.get_for_model(person)
        return Q(public=True) | Q(actor_content_type=user_ct, actor_object_id=id_of(person))

    def q(self) -> Q:
        """The actions the user may see: public or their own, and placed where they may see
        (the target when there is one, else the action object), or placed nowhere."""
        if not self.signed_in:
            return Q(pk__in=[])
        shown = self._shown()
        has_target = Q(target_content_type__isnull=False)
        object_only = Q(target_content_type__isnull=True, action_object_content_type__isnull=False)
        nowhere = Q(target_content_type__isnull=True, action_object_content_type__isnull=True)
        placed = (has_target & self.place("target")) | (object_only & self.place("action_object"))
        return shown & (placed | nowhere)

    def branch_q(self, branch: Q) -> Q:
        """:meth:`q` for the actions that match ``branch``: what the branch fixes (the target's
        type, or no target) is not tested again."""
        if not self.signed_in:
            return Q(pk__in=[])
        facts = _pinned(branch)
        if "target_content_type" not in facts:
            return self.q()
        shown = self._shown()
        target_type = facts["target_content_type"]
        if target_type is not None:
            return shown & self.place("target", target_type)
        object_type = facts.get("action_object_content_type", "unknown")
        if object_type is None:
            return shown
        if object_type != "unknown":
            return shown & self.place("action_object", object_type)
        placed = Q(action_object_content_type__isnull=False) & self.place("action_object")
        return shown & (placed | Q(action_object_content_type__isnull=True))


def _pinned(branch: Q) -> dict[str, Any]:
    """Equalities ``branch`` fixes at its top level: {"target_content_type": id or None, ...}."""
    facts: dict[str, Any] = {}
    if branch.negated or branch.connector != Q.AND:
        return facts
    for child in branch.children:
        if not isinstance(child, tuple):
            continue
        name, value = child
        for role in ("target", "action_object"):
            if name in {f"{role}_content_type", f"{role}_content_type_id"} and value is not None:
                facts[f"{role}_content_type"] = getattr(value, "pk", value)
            elif name == f"{role}_content_type__isnull" and value is True:
                facts[f"{role}_content_type"] = None
    return facts

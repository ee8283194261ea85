"""django-filter FilterSets that narrow a selector's queryset (never widen it)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import django_filters
from actstream.models import Action
from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activityui.verbs import get_verb, registered_verbs

MAX_QUERY_LENGTH = 200


def verb_choices() -> list[tuple[str, str]]:
    return [(v.key, str(v.phrase)) for v in registered_verbs()]


class ActionFilterSet(django_filters.FilterSet):
    """Filters of the feed: verb, actor, object type, date range and text."""

    verb = django_filters.ChoiceFilter(label=_("Verb"), empty_label=_("Any verb"))
    actor = django_filters.ChoiceFilter(
        label=_("Person"), empty_label=_("Anyone"), method="filter_actor"
    )
    object_type = django_filters.ChoiceFilter(
        label=_("Type"), empty_label=_("Any type"), method="filter_object_type"
    )
    # days of the viewer's time zone as timestamp ranges: the (timestamp, id) index serves
    # them, where a ``__date`` cast would be computed for every row
    since = django_filters.DateFilter(
        label=_("From"), method="filter_since", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("To"), method="filter_until", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_text",
        max_length=MAX_QUERY_LENGTH,
        widget=forms.SearchInput(attrs={"placeholder": _("Search…"), "autocomplete": "off"}),
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["verb"].extra["choices"] = verb_choices
        self.filters["object_type"].extra["choices"] = object_type_choices
        user = getattr(self.request, "user", None)
        # only people the user may see: the choices must not reveal anyone else
        people: list[list[tuple[str, str]]] = []

        def actor_choices() -> list[tuple[str, str]]:
            if not people:  # once per filterset, however often the form iterates them
                people.append(person_choices(user))
            return people[0]

        self.filters["actor"].extra["choices"] = actor_choices

    def filter_actor(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(actor_object_id__in=_user_ids_matching(value))

    def filter_object_type(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        app_label, _dot, model = value.partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is None:
            return queryset.none()
        return queryset.filter(
            Q(action_object_content_type=content_type) | Q(target_content_type=content_type)
        )

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return text_search(self, queryset, value)

    def filter_since(self, queryset: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        if value.year < MIN_YEAR:  # before any action; its midnight may not fit in UTC
            return queryset
        return queryset.filter(timestamp__gte=day_start(value))

    def filter_until(self, queryset: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        if value.year > MAX_YEAR:  # after any action; the next midnight may not exist
            return queryset
        return queryset.filter(timestamp__lt=day_start(value + dt.timedelta(days=1)))


def day_start(day: dt.date) -> dt.datetime:
    """Midnight starting ``day`` in the current (the viewer's) time zone, as an aware time."""
    start = dt.datetime.combine(day, dt.time.min)
    return timezone.make_aware(start) if settings.USE_TZ else start


def text_search(filterset: Any, queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    """``queryset`` narrowed to the actions whose words match ``value`` (activityui.search).
    The index is asked once per filterset and database, however many branches it narrows."""
    from activityui import search

    value = value.strip()
    alias = queryset.db
    if not value:
        return queryset
    if not search.supported(alias):  # no text index on this database: a scan of the labels
        scanned: QuerySet[Any] = queryset.annotate(_aui_text=Cast("data", TextField()))
        return scanned.filter(Q(verb__icontains=value) | Q(_aui_text__icontains=value))
    memo = filterset.__dict__.setdefault("_aui_text_match", {})
    if (value, alias) not in memo:
        memo[(value, alias)] = search.match_expression(value, alias=alias)
    match = memo[(value, alias)]
    return queryset if match is None else queryset.filter(match)


def object_type_choices() -> list[tuple[str, str]]:
    from activityui.capture import tracked_models

    choices = []
    for model in tracked_models():
        choices.append((model._meta.label_lower, str(model._meta.verbose_name).capitalize()))
    return sorted(choices, key=lambda c: c[1])


MAX_PEOPLE = 200


def person_choices(user: Any) -> list[tuple[str, str]]:
    """(username, name) of the people ``user`` may see (the host's visibility rule for the user
    model), else only ``user``. Bounded to :data:`MAX_PEOPLE`."""
    from django.contrib.auth import get_user_model

    from activityui.visibility import visible_objects

    if user is None or not user.is_authenticated:
        return []
    user_model = get_user_model()
    people = visible_objects(user_model, user)
    if people is None:
        people = user_model._default_manager.filter(pk=user.pk)
    field = user_model.USERNAME_FIELD
    choices = []
    for person in people.order_by(field)[:MAX_PEOPLE]:
        username = person.get_username()
        name = person.get_full_name() if hasattr(person, "get_full_name") else ""
        choices.append((username, name or username))
    return sorted(choices, key=lambda c: c[1].lower())


def _user_ids_matching(value: str) -> QuerySet[Any]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    return (
        user_model._default_manager.filter(**{f"{field}__iexact": value.strip()})
        .annotate(_aui_id=Cast("pk", TextField()))
        .values("_aui_id")
    )


__all__ = ["ActionFilterSet", "get_verb"]


# --- staff console ---

VISIBILITY_CHOICES = [("public", _("Public")), ("private", _("Private"))]
MIN_YEAR, MAX_YEAR = 1900, 9998  # bounds that survive time zone shifts in every database
TYPE_ID_PAIRS = (
    ("action_object", "object_type", "object_id"),
    ("target", "target_type", "target_id"),
)


def staff_verb_choices(selected: str | None = None) -> list[tuple[str, str]]:
    """Registered verbs plus every verb found in the actions (one loose index scan, see
    :func:`activityui.selectors.verbs_in_use`). ``selected`` is kept for callers; a selected
    verb that exists anywhere is in the data, so it is offered."""
    from activityui.selectors import verbs_in_use

    verbs = {v.key for v in registered_verbs()}
    verbs.update(verbs_in_use())
    return [(verb, verb) for verb in sorted(verbs, key=str.lower)]


def content_types_in_use() -> list[tuple[str, str]]:
    """Types that are the object or target of some action: one query, an EXISTS per type."""
    # a UNION, not "EXISTS OR EXISTS": PostgreSQL turns an OR of EXISTS into subplans that
    # scan the whole action table for every type without actions (seconds at 1M actions);
    # each EXISTS alone is a semi-join that probes the content type index (perf)
    in_use = ContentType.objects.filter(
        Exists(Action.objects.filter(action_object_content_type=OuterRef("pk")))
    ).union(
        ContentType.objects.filter(
            Exists(Action.objects.filter(target_content_type=OuterRef("pk")))
        )
    )
    choices = []
    for content_type in in_use:
        model = content_type.model_class()
        name = str(model._meta.verbose_name) if model else content_type.model
        choices.append((f"{content_type.app_label}.{content_type.model}", name.capitalize()))
    return sorted(choices, key=lambda c: (c[1].lower(), c[0]))


def _content_type_for(key: str) -> ContentType | None:
    app_label, _dot, model = key.partition(".")
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None


class StaffFilterForm(forms.Form):
    """Cross-field checks of the staff filters: an id needs its type and must fit that type's
    primary key; dates stay in a range every database can store."""

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # Form.clean() returns cleaned_data
        self.content_types: dict[str, ContentType | None] = {}
        for _role, type_field, id_field in TYPE_ID_PAIRS:
            raw_id = (data.get(id_field) or "").strip()
            data[id_field] = raw_id
            key = data.get(type_field)
            content_type = _content_type_for(key) if key else None
            self.content_types[type_field] = content_type
            if not raw_id:
                continue
            if content_type is None:
                if type_field not in self.errors:
                    self.add_error(type_field, _("Choose a type to search by id."))
                continue
            model_class = content_type.model_class()
            if model_class is None:
                continue
            pk_field = model_class._meta.pk
            try:
                value = pk_field.to_python(raw_id)
                pk_field.run_validators(value)
            except (ValidationError, TypeError, ValueError, OverflowError):
                message = _("“%(value)s” is not a valid id.") % {"value": raw_id[:64]}
                self.add_error(id_field, message)
                continue
            data[id_field] = str(value)
        for name in ("since", "until"):
            value = data.get(name)
            if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
                out_of_range = _("Enter a date between %(min)s and %(max)s.")
                self.add_error(name, out_of_range % {"min": MIN_YEAR, "max": MAX_YEAR})
        since, until = data.get("since"), data.get("until")
        if since and until and since > until and "until" not in self.errors:
            self.add_error("until", _("“Until” must not be before “From”."))
        return data


def _text_input(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", **attrs})


class StaffActionFilterSet(django_filters.FilterSet):
    """Site-wide filters of the staff console. Every value is validated: bad input gives a
    form error, never a database error."""

    actor = django_filters.CharFilter(
        label=_("Actor"),
        method="filter_actor",
        max_length=150,
        widget=_text_input(type="search"),
        help_text=_("Part of a username"),
    )
    verb = django_filters.ChoiceFilter(label=_("Verb"), empty_label=_("Any verb"))
    object_type = django_filters.ChoiceFilter(
        label=_("Object type"), empty_label=_("Any type"), method="filter_pair"
    )
    object_id = django_filters.CharFilter(
        label=_("Object id"), method="filter_pair", max_length=64, widget=_text_input()
    )
    target_type = django_filters.ChoiceFilter(
        label=_("Target type"), empty_label=_("Any type"), method="filter_pair"
    )
    target_id = django_filters.CharFilter(
        label=_("Target id"), method="filter_pair", max_length=64, widget=_text_input()
    )
    since = django_filters.DateTimeFilter(
        label=_("From"),
        field_name="timestamp",
        lookup_expr="gte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    until = django_filters.DateTimeFilter(
        label=_("Until"),
        field_name="timestamp",
        lookup_expr="lte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    visibility = django_filters.ChoiceFilter(
        label=_("Visibility"),
        empty_label=_("Public and private"),
        choices=VISIBILITY_CHOICES,
        method="filter_visibility",
    )
    q = django_filters.CharFilter(
        label=_("Text"),
        method="filter_text",
        max_length=MAX_QUERY_LENGTH,
        widget=_text_input(type="search"),
        help_text=_("Verb or a name or title"),
    )

    class Meta:
        model = Action
        fields: list[str] = []
        form = StaffFilterForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        selected = self.data.get("verb") if self.data is not None else None
        # a verb the database could not even compare (too long; NUL is refused by PostgreSQL)
        valid = isinstance(selected, str) and len(selected) <= 255 and "\x00" not in selected
        selected = selected if valid else None
        self.filters["verb"].extra["choices"] = staff_verb_choices(selected)
        types = content_types_in_use()
        self.filters["object_type"].extra["choices"] = types
        self.filters["target_type"].extra["choices"] = types

    def filter_pair(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset  # type and id are applied together in filter_queryset

    def filter_actor(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        from django.contrib.auth import get_user_model

        value = value.strip()
        if not value:
            return queryset
        user_model = get_user_model()
        field = user_model.USERNAME_FIELD
        ids = (
            user_model._default_manager.filter(**{f"{field}__icontains": value})
            .order_by()
            .annotate(_aui_id=Cast("pk", TextField()))
            .values("_aui_id")
        )
        return queryset.filter(
            actor_content_type=ContentType.objects.get_for_model(user_model),
            actor_object_id__in=ids,
        )

    def filter_visibility(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(public=value == "public")

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return text_search(self, queryset, value)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        for role, type_field, id_field in TYPE_ID_PAIRS:
            content_type = self.form.content_types.get(type_field)
            if content_type is None:
                continue
            queryset = queryset.filter(**{f"{role}_content_type": content_type})
            if data.get(id_field):
                queryset = queryset.filter(**{f"{role}_object_id": data[id_field]})
        return queryset


# --- object timeline ---


def tracked_field_choices(model: type[Any] | None) -> list[tuple[str, str]]:
    """The fields whose changes capture records for ``model`` (empty when it is not tracked)."""
    from activityui.capture import tracking_for

    tracking = tracking_for(model) if model is not None else None
    if tracking is None:
        return []
    fields = [*tracking.fields, *tracking.m2m_fields]
    return [(f.name, str(f.verbose_name).capitalize()) for f in fields]


def timeline_verb_choices() -> list[tuple[str, str]]:
    """The registered verbs as menu items ("Commented on", "Created", …)."""
    return [(key, phrase[:1].upper() + phrase[1:]) for key, phrase in verb_choices()]


class TimelineFilterSet(django_filters.FilterSet):
    """Filters of an object timeline: one verb, or only the actions that changed one field."""

    verb = django_filters.ChoiceFilter(
        label=_("Event"),
        empty_label=_("All events"),
        widget=forms.Select(attrs={"id": "timeline-verb"}),
    )
    field = django_filters.ChoiceFilter(
        label=_("Field"),
        empty_label=_("All fields"),
        method="filter_field",
        widget=forms.Select(attrs={"id": "timeline-field"}),
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(self, *args: Any, model: type[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["verb"].extra["choices"] = timeline_verb_choices
        self.filters["field"].extra["choices"] = tracked_field_choices(model)

    def filter_field(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(data__changes__has_key=value)

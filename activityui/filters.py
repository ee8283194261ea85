"""django-filter FilterSets that narrow a selector's queryset (never widen it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

import django_filters
from actstream.models import Action
from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activityui.choices import (
    content_types_in_use,
    object_type_choices,
    person_choices,
    staff_verb_choices,
    timeline_verb_choices,
    tracked_field_choices,
    viewer_verb_choices,
)
from activityui.ids import MAX_ID_LENGTH, id_text
from activityui.keys import content_type_for_key
from activityui.menus import Seen, seen_in, seen_remembered
from activityui.people import actor_help_text, people_matching_q, user_ids_matching
from activityui.widgets import (
    QuickDateInput,
    QuickDateTimeInput,
    QuickSearchInput,
    QuickSelect,
    QuickTextInput,
)

MAX_QUERY_LENGTH = 200


class ActionFilterSet(django_filters.FilterSet):
    """Filters of the feed: verb, actor, object type, date range and text."""

    verb = django_filters.ChoiceFilter(
        label=_("Verb"), empty_label=_("Any verb"), widget=QuickSelect
    )
    actor = django_filters.ChoiceFilter(
        label=_("Person"), empty_label=_("Anyone"), method="filter_actor", widget=QuickSelect
    )
    object_type = django_filters.ChoiceFilter(
        label=_("Type"),
        empty_label=_("Any type"),
        method="filter_object_type",
        widget=QuickSelect,
    )
    # days of the viewer's time zone as timestamp ranges: the (timestamp, id) index serves
    # them, where a ``__date`` cast would be computed for every row
    since = django_filters.DateFilter(
        label=_("From"), method="filter_since", widget=QuickDateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("To"), method="filter_until", widget=QuickDateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_text",
        max_length=MAX_QUERY_LENGTH,
        widget=QuickSearchInput(attrs={"placeholder": _("Search…"), "autocomplete": "off"}),
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(
        self,
        *args: Any,
        actions: Callable[[], QuerySet[Any]] | None = None,
        menu_scope: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``actions``: gives the actions the menus are read from (the feed's, limited to what
        the viewer may see; default: everything the viewer may see). Called only if a menu
        is used. ``menu_scope``: names them (e.g. ``"feed:team"``) so that what they hold is
        remembered between page views (:func:`activityui.menus.seen_remembered`)."""
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        selected = _selected(self.data)
        menus: dict[str, list[tuple[str, str]]] = {}

        read: list[Seen | None] = []

        def seen() -> Seen | None:
            if not read:  # both menus from one read, only if a menu is used
                if actions is None:
                    read.append(None)
                elif menu_scope is not None and user is not None:
                    read.append(
                        seen_remembered(
                            user=user, scope=menu_scope, read=actions, request=self.request
                        )
                    )
                else:
                    read.append(seen_in(actions()))
            return read[0]

        def seen_verb_choices() -> list[tuple[str, str]]:
            if "verb" not in menus:  # once per filterset, and only if the menu is used
                menus["verb"] = viewer_verb_choices(user, seen(), selected=selected)
            return menus["verb"]

        self.filters["verb"].extra["choices"] = seen_verb_choices
        self.filters["object_type"].extra["choices"] = object_type_choices

        def actor_choices() -> list[tuple[str, str]]:
            # only people who did something the user may see: the menu reveals no one else
            if "actor" not in menus:
                wanted = self.data.get("actor") if self.data is not None else None
                named = (
                    wanted
                    if isinstance(wanted, str) and 0 < len(wanted) <= 255 and "\x00" not in wanted
                    else None
                )
                menus["actor"] = person_choices(user, seen(), selected=named)
            return menus["actor"]

        self.filters["actor"].extra["choices"] = actor_choices

    def filter_actor(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(actor_object_id__in=user_ids_matching(value))

    def filter_object_type(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        content_type = content_type_for_key(value)
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


def _selected(data: Any) -> str | None:
    """The verb a bound filter form asks for, if it is one the database can compare."""
    value = data.get("verb") if data is not None else None
    if isinstance(value, str) and 0 < len(value) <= 255 and "\x00" not in value:
        return value
    return None


# --- staff console ---

VISIBILITY_CHOICES = [("public", _("Public")), ("private", _("Private"))]
MIN_YEAR, MAX_YEAR = 1900, 9998  # bounds that survive time zone shifts in every database
TYPE_ID_PAIRS = (
    ("action_object", "object_type", "object_id"),
    ("target", "target_type", "target_id"),
)


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
            content_type = content_type_for_key(key) if key else None
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
            data[id_field] = id_text(model_class, value)
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
    return QuickTextInput(attrs={"autocomplete": "off", "spellcheck": "false", **attrs})


class StaffActionFilterSet(django_filters.FilterSet):
    """Site-wide filters of the staff console. Every value is validated: bad input gives a
    form error, never a database error."""

    actor = django_filters.CharFilter(
        label=_("Actor"),
        method="filter_actor",
        max_length=150,
        widget=_text_input(type="search"),
        help_text=_("Part of a name or username"),  # the login's name in __init__
    )
    verb = django_filters.ChoiceFilter(
        label=_("Verb"), empty_label=_("Any verb"), widget=QuickSelect
    )
    object_type = django_filters.ChoiceFilter(
        label=_("Object type"), empty_label=_("Any type"), method="filter_pair", widget=QuickSelect
    )
    object_id = django_filters.CharFilter(
        label=_("Object id"), method="filter_pair", max_length=MAX_ID_LENGTH, widget=_text_input()
    )
    target_type = django_filters.ChoiceFilter(
        label=_("Target type"), empty_label=_("Any type"), method="filter_pair", widget=QuickSelect
    )
    target_id = django_filters.CharFilter(
        label=_("Target id"), method="filter_pair", max_length=MAX_ID_LENGTH, widget=_text_input()
    )
    since = django_filters.DateTimeFilter(
        label=_("From"),
        field_name="timestamp",
        lookup_expr="gte",
        widget=QuickDateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    until = django_filters.DateTimeFilter(
        label=_("Until"),
        field_name="timestamp",
        lookup_expr="lte",
        widget=QuickDateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    visibility = django_filters.ChoiceFilter(
        label=_("Visibility"),
        empty_label=_("Public and private"),
        choices=VISIBILITY_CHOICES,
        method="filter_visibility",
        widget=QuickSelect,
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
        self.filters["actor"].extra["help_text"] = actor_help_text()
        types = content_types_in_use()
        self.filters["object_type"].extra["choices"] = types
        self.filters["target_type"].extra["choices"] = types

    def filter_pair(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset  # type and id are applied together in filter_queryset

    def filter_actor(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(people_matching_q(value))

    def filter_visibility(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(public=value == "public")

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return text_search(self, queryset, value)

    def counted_kinds(self) -> dict[str, Any] | None:
        """The filters as columns of the action counts (:class:`activityui.models.ActionCount`)
        when the counts keep every one in use (verb, visibility, object type, target type;
        ``since``/``until`` are the chart's window), so the chart can sum them; ``None`` when
        another filter narrows (text, actor, an id, a filter added later). Call after
        validation."""
        data = self.form.cleaned_data if self.is_bound else {}
        kept = {"verb", "visibility", "object_type", "target_type", "since", "until"}
        for name in self.filters:
            value = data.get(name)
            if name not in kept and value not in (None, "") and str(value).strip():
                return None
        kinds: dict[str, Any] = {}
        if data.get("verb"):
            kinds["verb"] = data["verb"]
        if data.get("visibility"):
            kinds["public"] = data["visibility"] == "public"
        for type_field in ("object_type", "target_type"):
            content_type = self.form.content_types.get(type_field) if data else None
            if content_type is not None:
                kinds[type_field] = content_type.pk
        return kinds

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


FEW_CHANGES = 500  # a field changed at most this often is read from the field-change index


class TimelineFilterSet(django_filters.FilterSet):
    """Filters of an object timeline: one verb, or only the actions that changed one field."""

    verb = django_filters.ChoiceFilter(
        label=_("Event"),
        empty_label=_("All events"),
        widget=QuickSelect(attrs={"id": "timeline-verb"}),
    )
    field = django_filters.ChoiceFilter(
        label=_("Field"),
        empty_label=_("All fields"),
        method="filter_field",
        widget=QuickSelect(attrs={"id": "timeline-field"}),
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(
        self,
        *args: Any,
        model: type[Any] | None = None,
        actions: Callable[[], QuerySet[Any]] | None = None,
        subject: tuple[ContentType, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """``actions``: gives the actions the verb menu is read from (the timeline's newest,
        limited to what the viewer may see). Called only if the menu is used. ``subject``: the
        timeline's object (content type, id): the field filter reads its changes from the
        field-change index."""
        super().__init__(*args, **kwargs)
        self.subject = subject
        user = getattr(self.request, "user", None)
        verbs: list[list[tuple[str, str]]] = []

        def choices() -> list[tuple[str, str]]:
            if not verbs:  # once per filterset, and only if the menu is used
                seen = None
                if actions is not None and subject is not None and user is not None:
                    scope = f"timeline:{subject[0].pk}:{subject[1]}"
                    seen = seen_remembered(
                        user=user, scope=scope, read=actions, request=self.request, people=False
                    )
                elif actions is not None:
                    seen = seen_in(actions())
                verbs.append(timeline_verb_choices(user, seen, _selected(self.data)))
            return verbs[0]

        self.filters["verb"].extra["choices"] = choices
        self.filters["field"].extra["choices"] = tracked_field_choices(model)

    def filter_field(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if self.subject is None:
            return queryset.filter(data__changes__has_key=value)
        # a field changed rarely: its few changes from the field-change index (a walk of the
        # history would look into every action's data to find them); often: the walk finds a
        # page of them at once
        from activityui.models import FieldChange

        content_type, object_id = self.subject
        changed = list(
            FieldChange.objects.filter(
                content_type=content_type, object_id=str(object_id), field=value
            ).values_list("action_id", flat=True)[: FEW_CHANGES + 1]
        )
        if len(changed) <= FEW_CHANGES:
            return queryset.filter(pk__in=changed)
        return queryset.filter(data__changes__has_key=value)

"""django-filter FilterSets that narrow a selector's queryset (never widen it)."""

from __future__ import annotations

from typing import Any

import django_filters
from actstream.models import Action
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from activityui.verbs import get_verb, registered_verbs

MAX_QUERY_LENGTH = 200


def verb_choices() -> list[tuple[str, str]]:
    return [(v.key, str(v.phrase)) for v in registered_verbs()]


class ActionFilterSet(django_filters.FilterSet):
    """Filters of the feed: verb, actor, object type, date range and text."""

    verb = django_filters.ChoiceFilter(label=_("Verb"), empty_label=_("Any verb"))
    actor = django_filters.CharFilter(label=_("Person"), method="filter_actor", max_length=150)
    object_type = django_filters.ChoiceFilter(
        label=_("Type"), empty_label=_("Any type"), method="filter_object_type"
    )
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="timestamp",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="timestamp",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = django_filters.CharFilter(
        label=_("Search"), method="filter_text", max_length=MAX_QUERY_LENGTH
    )

    class Meta:
        model = Action
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["verb"].extra["choices"] = verb_choices
        self.filters["object_type"].extra["choices"] = object_type_choices

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
        value = value.strip()
        if not value:
            return queryset
        matched: QuerySet[Any] = queryset.annotate(_aui_text=Cast("data", TextField())).filter(
            Q(verb__icontains=value) | Q(_aui_text__icontains=value)
        )
        return matched


def object_type_choices() -> list[tuple[str, str]]:
    from activityui.capture import tracked_models

    choices = []
    for model in tracked_models():
        choices.append((model._meta.label_lower, str(model._meta.verbose_name).capitalize()))
    return sorted(choices, key=lambda c: c[1])


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


# --- object timeline ---


def tracked_field_choices(model: type[Any] | None) -> list[tuple[str, str]]:
    """The fields whose changes capture records for ``model`` (empty when it is not tracked)."""
    from activityui.capture import tracking_for

    tracking = tracking_for(model) if model is not None else None
    if tracking is None:
        return []
    fields = [*tracking.fields, *tracking.m2m_fields]
    return [(f.name, str(f.verbose_name).capitalize()) for f in fields]


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
        self.filters["verb"].extra["choices"] = verb_choices
        self.filters["field"].extra["choices"] = tracked_field_choices(model)

    def filter_field(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(data__changes__has_key=value)

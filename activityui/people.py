"""Finding people: the actors a username names, or whose name or login contains some text."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, EmailField, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from activityui.conf import app_settings
from activityui.ids import stored_ids


def user_ids_matching(value: str) -> QuerySet[Any] | list[str]:
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    return stored_ids(user_model._default_manager.filter(**{f"{field}__iexact": value.strip()}))


def person_search_fields(user_model: Any) -> list[str]:
    """The user model's text fields the staff actor filter searches: ``PERSON_SEARCH_FIELDS``,
    else the ``USERNAME_FIELD``, the text fields of ``REQUIRED_FIELDS`` but emails (where custom
    user models keep the name ``get_full_name()`` shows), and first and last name when the model
    has them."""
    configured = app_settings.PERSON_SEARCH_FIELDS
    if configured is not None:
        return list(configured)
    text_fields = {
        f.name
        for f in user_model._meta.concrete_fields
        if isinstance(f, CharField | TextField) and not f.primary_key and f.name != "password"
    }
    # an email that is not the login is left out: "bo" must not match "@teamboard.example"
    emails = {f.name for f in user_model._meta.concrete_fields if isinstance(f, EmailField)}
    names = [user_model.USERNAME_FIELD]
    names += [name for name in getattr(user_model, "REQUIRED_FIELDS", []) if name not in emails]
    names += ["first_name", "last_name"]
    return [name for name in dict.fromkeys(names) if name in text_fields]


def people_matching_q(value: str) -> Q:
    """Actions whose actor is a person matching ``value`` (part of it, any case) the way people
    see them: the name snapshotted with the action (``get_full_name()`` or ``str()`` then), and
    the person as they are now (:func:`person_search_fields`; first and last name together)."""
    user_model = get_user_model()
    fields = person_search_fields(user_model)
    people = Q(pk__in=[])
    for name in fields:
        people |= Q(**{f"{name}__icontains": value})
    users = user_model._default_manager.order_by()
    if {"first_name", "last_name"} <= set(fields):
        full = Concat("first_name", Value(" "), "last_name", output_field=CharField())
        users = users.alias(_aui_full_name=full)
        people |= Q(_aui_full_name__icontains=value)
    return Q(
        actor_content_type=ContentType.objects.get_for_model(user_model),
        actor_object_id__in=stored_ids(users.filter(people)),
    ) | Q(data__snapshot__actor__label__icontains=value)


def actor_help_text() -> str:
    """What the staff actor filter matches, in the words of the site's user model: "Part of a
    name or username", "Part of a name or email address"."""
    user_model = get_user_model()
    field: Any = user_model._meta.get_field(user_model.USERNAME_FIELD)
    return _("Part of a name or %(login)s") % {"login": field.verbose_name}

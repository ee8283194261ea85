"""Links to activityui's per-object pages, with one ``reverse()`` per route and language."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import get_language

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

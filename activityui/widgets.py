"""Form widgets of the filter bars, written in Python.

:class:`QuickSelect` and the Quick inputs write the same HTML as Django's widgets. Django draws
a ``<select>`` through three templates, the option template once per option, and an input
through three: on a warm feed page, whose rows come from the cache, the filter bar was the
largest part of the template time. A host that overrides Django's widget templates
(``django/forms/widgets/…``, through its ``FORM_RENDERER``) keeps them: the widgets then render
through the templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.forms.renderers import get_default_renderer
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

_DJANGO_FORMS = Path(forms.__file__).resolve().parent / "templates"
_ATTRS = "django/forms/widgets/attrs.html"
_INPUT = "django/forms/widgets/input.html"
# per renderer object (renderers live as long as the process) and templates: Django's own?
_djangos: dict[tuple[int, tuple[str, ...]], tuple[Any, bool]] = {}


def _renders_djangos_own(renderer: Any, names: tuple[str, ...]) -> bool:
    """Does ``renderer`` find Django's own files for the templates ``names``?"""
    known = _djangos.get((id(renderer), names))
    if known is not None and known[0] is renderer:
        return known[1]
    try:
        own = all(
            Path(str(renderer.get_template(name).origin.name))
            .resolve()
            .is_relative_to(_DJANGO_FORMS)
            for name in names
        )
    except Exception:  # a renderer without origins, or a template it cannot find: its way
        own = False
    if len(_djangos) > 64:
        _djangos.clear()
    _djangos[(id(renderer), names)] = (renderer, own)
    return own


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``False`` leaves an attribute out, ``True`` writes
    its name alone."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """``forms.Select``, its HTML written in Python (the same, byte for byte, as Django's
    templates write it: ``tests/test_widgets.py`` compares them)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        renderer = renderer or get_default_renderer()
        if (
            self.template_name != forms.Select.template_name
            or self.option_template_name != forms.Select.option_template_name
            or not _renders_djangos_own(
                renderer, (self.template_name, self.option_template_name, _ATTRS)
            )
        ):
            return super().render(name, value, attrs, renderer)
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{escape(str(widget["name"]))}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(localize(group_name))}">')
            for option in options:
                html.append(
                    f'\n  <option value="{escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{conditional_escape(localize(option['label']))}"
                    "</option>\n"  # the option template's file ends with a newline
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


class _QuickInput(forms.widgets.Input):
    """An ``<input>`` of Django's (``text.html``, ``date.html``… each include ``input.html``),
    written in Python."""

    django_template_name = ""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        renderer = renderer or get_default_renderer()
        if self.template_name != self.django_template_name or not _renders_djangos_own(
            renderer, (self.template_name, _INPUT, _ATTRS)
        ):
            return super().render(name, value, attrs, renderer)
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{escape(str(widget["value"]))}"'
        return mark_safe(  # noqa: S308 - every value is escaped
            f'<input type="{escape(str(widget["type"]))}" name="{escape(str(widget["name"]))}"'
            f"{shown}{_attrs(widget['attrs'])}>"
        )


class QuickTextInput(_QuickInput, forms.TextInput):
    django_template_name = forms.TextInput.template_name


class QuickSearchInput(_QuickInput, forms.SearchInput):
    django_template_name = forms.SearchInput.template_name


class QuickDateInput(_QuickInput, forms.DateInput):
    django_template_name = forms.DateInput.template_name


class QuickDateTimeInput(_QuickInput, forms.DateTimeInput):
    django_template_name = forms.DateTimeInput.template_name

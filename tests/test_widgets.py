"""QuickSelect writes what Django's Select writes through its templates, byte for byte, for any
choices, labels, values and attributes; a renderer whose widget templates are not Django's
own (a host's override) is used as it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting, get_default_renderer
from django.test import override_settings
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import example, given
from hypothesis import strategies as st

from activityui.widgets import (
    QuickDateInput,
    QuickDateTimeInput,
    QuickSearchInput,
    QuickSelect,
    QuickTextInput,
    _renders_djangos_own,
)

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
choice = st.tuples(st.one_of(text, st.integers(-5, 5)), st.one_of(text, st.integers(0, 99)))
group = st.tuples(text, st.lists(choice, min_size=0, max_size=3))
choices = st.lists(st.one_of(choice, group), max_size=6)
attr_value = st.one_of(st.booleans(), text, st.integers(0, 9))
attrs = st.dictionaries(
    st.sampled_from(["id", "class", "aria-invalid", "data-x", "required"]), attr_value, max_size=4
)


def both(name, value, choices, attrs=None, widget_attrs=None, renderer=None):
    plain = forms.Select(attrs=widget_attrs, choices=choices)
    quick = QuickSelect(attrs=widget_attrs, choices=choices)
    return (
        str(plain.render(name, value, attrs=attrs, renderer=renderer)),
        str(quick.render(name, value, attrs=attrs, renderer=renderer)),
    )


@given(
    name=text, value=st.one_of(st.none(), text, st.integers(-5, 5)), choices=choices, attrs=attrs
)
@example(
    name='a"b',
    value="<x>",
    choices=[("<x>", "<b>&amp;</b>"), ("grp & co", [("1", "one"), (2, "two")]), ("", "Any")],
    attrs={"aria-invalid": True, "required": False, "class": 'q"uote'},
)
def test_the_same_html_as_djangos_select(name, value, choices, attrs):
    plain, quick = both(name, value, choices, attrs=attrs)
    assert quick == plain


def test_lazy_and_safe_labels_and_widget_attrs():
    options = [("a", gettext_lazy("Verb")), ("b", mark_safe("<em>safe</em>")), ("c", 3.5)]
    plain, quick = both("verb", "b", options, widget_attrs={"id": "timeline-verb"})
    assert quick == plain
    assert '<option value="b" selected><em>safe</em></option>' in quick


def test_a_bound_field_renders_the_same(rf):
    class Form(forms.Form):
        plain = forms.ChoiceField(choices=[("x", "X & Y"), ("y", "Y")], widget=forms.Select)
        quick = forms.ChoiceField(choices=[("x", "X & Y"), ("y", "Y")], widget=QuickSelect)

    form = Form(data={"plain": "nope", "quick": "nope"})  # invalid: aria-invalid, described by
    assert not form.is_valid()
    assert str(form["quick"]).replace("quick", "plain") == str(form["plain"])


def test_a_renderer_with_its_own_select_template_is_used(tmp_path: Path):
    widgets = tmp_path / "django" / "forms" / "widgets"
    widgets.mkdir(parents=True)
    (widgets / "select.html").write_text('<select class="host" name="{{ widget.name }}"></select>')
    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(tmp_path)],
            "APP_DIRS": True,
        }
    ]
    with override_settings(TEMPLATES=templates):
        renderer = TemplatesSetting()
        html = QuickSelect(choices=[("a", "A")]).render("verb", "a", renderer=renderer)
    assert str(html) == '<select class="host" name="verb"></select>'


@pytest.mark.parametrize("renderer", [None, DjangoTemplates()])
def test_djangos_renderers_take_the_quick_way(renderer):
    names = ("django/forms/widgets/select.html", "django/forms/widgets/attrs.html")
    assert _renders_djangos_own(renderer or get_default_renderer(), names)
    plain, quick = both("verb", "a", [("a", "A")], renderer=renderer)
    assert quick == plain


INPUTS = [
    (forms.TextInput, QuickTextInput),
    (forms.SearchInput, QuickSearchInput),
    (forms.DateInput, QuickDateInput),
    (forms.DateTimeInput, QuickDateTimeInput),
]
values = st.one_of(
    st.none(),
    text,
    st.dates(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.integers(-5, 5),
)


@pytest.mark.parametrize(("plain", "quick"), INPUTS)
@given(name=text, value=values, attrs=attrs, kind=st.sampled_from([None, "date", "search"]))
@example(
    name="q", value='"><script>', attrs={"placeholder": "Search…", "autofocus": True}, kind=None
)
def test_inputs_write_djangos_html(plain, quick, name, value, attrs, kind):
    widget_attrs = {"type": kind} if kind else None
    expected = plain(attrs=widget_attrs).render(name, value, attrs=attrs)
    assert quick(attrs=widget_attrs).render(name, value, attrs=attrs) == expected


def test_a_renderer_with_its_own_input_template_is_used(tmp_path: Path):
    widgets = tmp_path / "django" / "forms" / "widgets"
    widgets.mkdir(parents=True)
    (widgets / "input.html").write_text('<input class="host" name="{{ widget.name }}">')
    (widgets / "search.html").write_text('{% include "django/forms/widgets/input.html" %}')
    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(tmp_path)],
            "APP_DIRS": True,
        }
    ]
    with override_settings(TEMPLATES=templates):
        html = QuickSearchInput().render("q", "x", renderer=TemplatesSetting())
    assert str(html) == '<input class="host" name="q">'

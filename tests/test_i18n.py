from __future__ import annotations

import datetime as dt
import gettext
import re

import pytest
from actstream.models import Action
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

import activityui
from activityui.capture import acting_as
from activityui.days import day_label
from activityui.presenters import present
from demo_site.demo.models import Project, Task
from tests.i18n_catalog import FRENCH_MO, FRENCH_PO, TEMPLATES, read_po, source_messages

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


@pytest.fixture(scope="module")
def catalog():
    return [entry for entry in read_po(FRENCH_PO) if entry.msgid]


# --------------------------------------------------------------------------- the catalog


def test_french_catalog_has_every_string_of_the_app(catalog):
    known = {entry.key for entry in catalog}
    missing = {key: files for key, files in source_messages().items() if key not in known}
    assert not missing, f"not in activityui/locale/fr (run make messages): {missing}"


def test_french_catalog_is_fully_translated(catalog):
    untranslated = [
        entry.msgid
        for entry in catalog
        if "fuzzy" in entry.flags
        or not all(entry.msgstr.values())
        or len(entry.msgstr) != (3 if entry.msgid_plural else 1)
    ]
    assert not untranslated


def test_french_catalog_has_no_obsolete_entries():
    assert "#~" not in FRENCH_PO.read_text(encoding="utf-8")


def test_french_translations_keep_their_placeholders(catalog):
    # msgfmt --check-format (compilemessages) insists on the same named placeholders
    for entry in catalog:
        wanted = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        for text in entry.msgstr.values():
            assert set(PLACEHOLDER.findall(text)) == wanted, (entry.msgid, text)


def test_compiled_french_catalog_matches_the_po_file(catalog):
    with FRENCH_MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in catalog:
        if entry.msgid_plural:
            # French (CLDR): one for 0 and 1, many for millions, other for the rest
            for n, form in ((1, 0), (1_000_000, 1), (2, 2)):
                got = (
                    compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt
                    else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                )
                assert got == entry.msgstr[form], entry.msgid
        elif entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr[0]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0], entry.msgid


# --------------------------------------------------------------------------- templates

TEXT_ATTRIBUTES = re.compile(
    r"\b(aria-label|aria-description|aria-roledescription|title|placeholder|alt)"
    r"\s*=\s*(\"[^\"]*\"|'[^']*')"
)


def untranslated_text(source: str) -> list[str]:
    """Words a template shows that no {% translate %}/{% blocktranslate %} covers."""
    text = re.sub(r"{% *comment *%}.*?{% *endcomment *%}|{#.*?#}", " ", source, flags=re.S)
    text = re.sub(r"{% *blocktrans(late)?\b.*?{% *endblocktrans(late)? *%}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    found = []
    for _name, value in TEXT_ATTRIBUTES.findall(text):
        rest = re.sub(r"{%.*?%}|{{.*?}}", " ", value[1:-1])
        if re.search(r"[A-Za-z]{2,}", rest):
            found.append(value)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[#\w]+;", " ", text)
    found += re.findall(r"[A-Za-z][A-Za-z'’]+(?:\s+[A-Za-z'’]+)*", text)
    return found


def test_untranslated_text_finds_plain_words_and_attributes():
    assert untranslated_text('<p>Hello {% translate "there" %}</p>') == ["Hello"]
    assert untranslated_text('<a title="Open it" aria-label="{{ x }}">') == ['"Open it"']
    assert untranslated_text("{% blocktranslate %}Fine{% endblocktranslate %}{# note #}") == []


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_template_marks_all_its_text_for_translation(template):
    assert untranslated_text(template.read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------- at run time


def french(client, url: str):
    return client.get(url, headers={"accept-language": "fr"})


def test_verbs_are_stored_untranslated_and_shown_translated(demo):
    project = Project.objects.order_by("pk").first()
    with translation.override("fr"), acting_as(demo["alice"]):
        task = Task.objects.create(project=project, title="Traduire l’interface")
        action = activityui.record(demo["alice"], "commented", task, project, comment="Bien")
    created = Action.objects.filter(action_object_object_id=str(task.pk)).order_by("pk").first()
    assert created.verb == "created"
    assert Action.objects.get(pk=action.pk).verb == "commented"
    with translation.override("fr"):
        assert [e.phrase for e in present([created, action])] == ["a créé", "a commenté"]
    with translation.override("en"):
        assert [e.phrase for e in present([created, action])] == ["created", "commented on"]


def test_day_labels_and_dates_are_localised():
    today = dt.date(2026, 6, 10)
    with translation.override("fr"):
        assert day_label(today, today) == "Aujourd’hui"
        assert day_label(dt.date(2026, 6, 9), today) == "Hier"
        assert day_label(dt.date(2025, 3, 3), today) == "3 mars 2025"
        assert day_label(dt.date(2026, 3, 3), today) == "mardi 3 mars"
    with translation.override("en"):
        assert day_label(dt.date(2025, 3, 3), today) == "3 March 2025"
        assert day_label(dt.date(2026, 3, 3), today) == "Tuesday, 3 March"


def test_feed_page_speaks_french(demo, client):
    project = Project.objects.filter(team__members=demo["alice"]).order_by("pk").first()
    activityui.record(demo["bob"], "commented", project.tasks.first(), project, comment="Salut")
    client.force_login(demo["alice"])
    body = french(client, reverse("activityui:feed")).content.decode()
    assert '<html lang="fr">' in body
    assert "Filtrer l’activité" in body
    assert "a commenté" in body
    assert "Aujourd’hui" in body
    assert "il y a" in body
    for english in ("Load more", "Filter", ">Today<", "commented on", " ago"):
        assert english not in body


def test_feed_page_stays_english_without_accept_language(demo, client):
    client.force_login(demo["alice"])
    body = client.get(reverse("activityui:feed")).content.decode()
    assert '<html lang="en">' in body
    assert "Filtrer l’activité" not in body


def test_object_timeline_speaks_french(demo, client):
    task = Task.objects.filter(project__team__members=demo["alice"]).order_by("pk").first()
    client.force_login(demo["alice"])
    response = french(client, reverse("activityui:object", args=["demo.task", task.pk]))
    assert response.status_code == 200
    assert f"Historique de {task.title}" in response.content.decode().replace("&#x27;", "'")


def test_staff_console_speaks_french_and_groups_digits(demo, client):
    activityui.record_bulk(demo["staff"], "exported", [Project.objects.first()] * 1200)
    client.force_login(demo["staff"])
    with override_settings(ACTIVITYUI={"COUNT_LIMIT": 1000, "BASE_TEMPLATE": "demo/base.html"}):
        body = french(client, reverse("activityui:staff")).content.decode()
    assert "Console d’administration" in body
    assert "1\xa0000+" in body  # French groups digits with a no-break space


def test_admin_activity_section_speaks_french(demo, client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    task = Task.objects.order_by("pk").first()
    client.force_login(root)
    body = french(client, reverse("admin:demo_task_change", args=[task.pk])).content.decode()
    assert "Chronologie de l’activité" in body
    assert "Dans la console d’administration" in body
    assert "a créé" in body


def test_timestamps_render_in_the_active_time_zone_with_french_month_names(demo, client):
    project = Project.objects.filter(team__members=demo["alice"]).order_by("pk").first()
    when = dt.datetime(2026, 2, 14, 9, 30, tzinfo=dt.UTC)
    activityui.record(demo["bob"], "commented", project, timestamp=when, comment="x")
    client.force_login(demo["alice"])
    body = french(client, reverse("activityui:object", args=["demo.project", project.pk]))
    text = body.content.decode()
    # Europe/Paris (the demo's TIME_ZONE): 09:30 UTC is 10:30 in February
    assert "14 février 2026 10:30" in text

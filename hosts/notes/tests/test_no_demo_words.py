"""Every page activityui renders, in a host whose models are notebooks and notes, says nothing
of teams, projects or tasks (the demo's words), in English and in French."""

from __future__ import annotations

import re

import pytest
from actstream.models import Action

DEMO_WORDS = re.compile(
    r"\b(teams?|projects?|tasks?|équipes?|projets?|tâches?|teamboard)\b", re.IGNORECASE
)


def visible_text(html: str) -> str:
    """The page without its tags (attribute values and class names are not words on show)."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def staff(world):
    from django.contrib.auth.models import Permission

    world["ann"].user_permissions.add(Permission.objects.get(codename="view_all_activity"))
    return world["ann"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_library_page_speaks_of_teams_projects_or_tasks(client, world, staff, language):
    from django.contrib.auth.models import User

    deleted_id = world["second"].pk
    world["second"].delete()
    action = Action.objects.order_by("-id").first()
    pages = [
        "/activity/",
        "/activity/mine/",
        "/activity/following/",
        "/activity/?q=nothing-like-this",
        f"/activity/objects/notes.note/{world['first'].pk}/",
        f"/activity/objects/notes.note/{deleted_id}/",
        f"/activity/objects/notes.notebook/{world['lab'].pk}/",
        "/activity/staff/",
        f"/activity/staff/actions/{action.pk}/",
    ]
    client.force_login(staff)
    for url in pages:
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == 200, url
        found = DEMO_WORDS.findall(visible_text(response.content.decode()))
        assert not found, (url, found)
    # and the empty states of someone new
    client.force_login(User.objects.create_user("dan"))
    for url in ["/activity/", "/activity/mine/", "/activity/following/"]:
        html = client.get(url, headers={"Accept-Language": language}).content.decode()
        assert not DEMO_WORDS.findall(visible_text(html)), url


def test_the_library_catalog_and_templates_have_no_demo_word():
    from pathlib import Path

    import activityui

    root = Path(activityui.__file__).parent
    sources = [*root.glob("templates/**/*.html"), root / "locale/fr/LC_MESSAGES/django.po"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".po":  # the messages, not the comments of the file
            text = "\n".join(line for line in text.splitlines() if line.startswith("msg"))
        else:
            text = visible_text(re.sub(r"\{#.*?#\}|\{%.*?%\}", " ", text, flags=re.S))
        assert not DEMO_WORDS.findall(text), (path.name, DEMO_WORDS.findall(text))

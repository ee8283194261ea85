from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

import activityui
from demo_site.demo.models import Project


def signed_in_page(browser: Browser, base_url: str, user, **context_args) -> Page:
    """A page in a new browser context already signed in as ``user`` (no login form)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(**context_args)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    return context.new_page()


@pytest.fixture
def french_page(browser: Browser, live_server, demo):
    page = signed_in_page(browser, live_server.url, demo["alice"], locale="fr-FR")
    yield page
    page.context.close()


def test_feed_is_french_for_a_french_browser(live_server, demo, french_page: Page):
    project = Project.objects.filter(team__members=demo["alice"]).order_by("pk").first()
    activityui.record(demo["bob"], "commented", project.tasks.first(), project, comment="Salut")
    errors: list[str] = []
    french_page.on("pageerror", lambda exc: errors.append(str(exc)))

    french_page.goto(live_server.url + "/activity/")

    expect(french_page.locator("html")).to_have_attribute("lang", "fr")
    # "Filtre" when django.contrib.admin (whose catalog also has "Filter") comes first
    expect(french_page.get_by_role("button", name=re.compile(r"^Filtrer?$"))).to_be_visible()
    expect(french_page.get_by_role("heading", name="Aujourd’hui")).to_be_visible()
    first = french_page.locator("article.aui-entry").first
    expect(first).to_contain_text("a commenté")
    expect(first.locator("time")).to_contain_text("il y a")
    expect(french_page.get_by_text("Load more")).to_have_count(0)
    results = Axe().run(french_page)
    serious = [
        v["id"]
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert serious == []
    assert errors == []


def test_feed_stays_english_for_an_english_browser(live_server, demo, browser: Browser):
    page = signed_in_page(browser, live_server.url, demo["alice"], locale="en-GB")
    try:
        page.goto(live_server.url + "/activity/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("button", name="Filter", exact=True)).to_be_visible()
    finally:
        page.context.close()


def test_unread_badge_is_updated_in_the_pages_language(live_server, demo, french_page: Page):
    from actstream.models import Action

    from activityui.models import ReadMarker

    newest = Action.objects.order_by("-timestamp", "-id").first()
    ReadMarker.objects.create(
        user=demo["alice"], feed="team", timestamp=newest.timestamp, action_id=newest.pk
    )
    project = Project.objects.filter(team__members=demo["alice"]).order_by("pk").first()
    for _ in range(2):
        activityui.record(demo["bob"], "commented", project.tasks.first(), project)
    french_page.goto(live_server.url + "/projects/")
    badge = french_page.locator("#aui-unread-team")
    expect(badge).to_have_text("2 nouveau")
    # activityui.js rebuilds the badge from the read marker's event with the badge's own word
    french_page.evaluate(
        "document.dispatchEvent(new CustomEvent('aui:unread',"
        " {detail: {feed: 'team', count: '3'}}))"
    )
    expect(badge).to_have_text("3 nouveau")
    # the feed's page moves the read marker (a POST a second after load): the badge empties
    french_page.goto(live_server.url + "/activity/")
    expect(french_page.locator(".aui-markread")).to_have_count(0)
    expect(badge).to_have_text("")
    expect(french_page.locator(".htmx-request")).to_have_count(0)

"""The activity feed in real Chromium: filters and history, load more, live updates,
follow toggle, accessibility."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from demo_site.demo.models import Task
from tests.browser.conftest import serious_violations, sign_in


@pytest.fixture
def feed_settings(settings):
    # polls every 60 s: no poll happens during a test unless it asks for one
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "DEFAULT_FEED": "team", "POLL_INTERVAL": 60}
    return settings


def open_page(page: Page, url: str) -> None:
    """Open ``url`` and let its own requests finish (the feed moves the read marker by POST
    a second after load): the SQLite test database is one shared in-memory database that
    locks whole tables across the live server's threads, so a test acts only once the page
    is idle."""
    page.goto(url)
    expect(page.locator(".aui-markread")).to_have_count(0)
    expect(page.locator(".htmx-request")).to_have_count(0)


def quiet(page: Page) -> None:
    """Stop polling and wait for requests in flight, so that the test database is flushed
    after the live server has answered everything."""
    page.locator("[data-aui-poll]").evaluate_all(
        "els => els.forEach(e => e.removeAttribute('data-aui-poll'))"
    )
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_feed_filter_pushes_url_and_back_restores(
    live_server, demo, feed_settings, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    entries = page.locator("article.aui-entry")
    expect(entries.first).to_be_visible()
    page.get_by_label("Verb").select_option("created")
    expect(page).to_have_url(re.compile(r"/activity/\?verb=created$"))
    expect(page.locator(".aui-verb").first).to_have_text(re.compile(r"^created"))
    for text in page.locator(
        ".aui-entry:not(.aui-entry--group) > .aui-entry__body > .aui-entry__text .aui-verb"
    ).all_inner_texts():
        assert text.startswith("created")
    page.get_by_label("Person").select_option("bob")
    expect(page).to_have_url(re.compile(r"verb=created&actor=bob$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/activity/\?verb=created$"))
    expect(page.get_by_label("Verb")).to_have_value("created")
    expect(page.get_by_label("Person")).to_have_value("")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/activity/$"))
    expect(page.get_by_label("Verb")).to_have_value("")
    quiet(page)
    assert console_errors == []


def test_feed_search_filters_as_you_type(
    live_server, demo, feed_settings, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    page.get_by_label("Search").fill("zzzz-nothing")
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=zzzz-nothing"))
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator("article.aui-entry").first).to_be_visible()
    quiet(page)
    assert console_errors == []


def test_feed_load_more_appends_older_entries(
    live_server, demo, feed_settings, page: Page, console_errors
):
    feed_settings.ACTIVITYUI = {**feed_settings.ACTIVITYUI, "PAGE_SIZE": 5}
    sign_in(page, live_server.url, "alice")
    page.set_viewport_size({"width": 1000, "height": 4000})  # the list end stays in view
    # "created" only: a few pages, so that the list ends within the test
    open_page(page, live_server.url + "/activity/?verb=created")
    entries = page.locator("[role=feed] > article.aui-entry")
    expect(entries.first).to_be_visible()
    # revealed: the next pages load by themselves while the end of the list is visible...
    expect(entries.nth(6)).to_be_attached(timeout=10_000)
    # ...until the end of the feed
    expect(page.get_by_text("That’s everything.")).to_be_attached(timeout=30_000)
    quiet(page)
    ids = page.locator("[role=feed] > article").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)) > 5
    headings = page.locator("h2.aui-day").all_inner_texts()
    assert len(headings) == len(set(headings))
    assert console_errors == []


def test_feed_load_more_button_works(live_server, demo, feed_settings, page: Page, console_errors):
    feed_settings.ACTIVITYUI = {**feed_settings.ACTIVITYUI, "PAGE_SIZE": 5}
    sign_in(page, live_server.url, "alice")
    page.set_viewport_size({"width": 1000, "height": 500})
    open_page(page, live_server.url + "/activity/")
    articles = page.locator("[role=feed] > article")
    expect(articles.first).to_be_visible()
    before = articles.count()
    page.get_by_role("link", name="Load more").click()
    expect(articles).not_to_have_count(before)
    assert articles.count() > before
    quiet(page)
    assert console_errors == []


def test_feed_shows_bobs_change_through_the_banner(
    live_server, demo, feed_settings, browser: Browser, page: Page, console_errors
):
    feed_settings.ACTIVITYUI = {**feed_settings.ACTIVITYUI, "POLL_INTERVAL": 1}
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    expect(page.locator("article.aui-entry").first).to_be_visible()
    task = Task.objects.filter(project__team__name="Apollo").exclude(status="review").first()
    # alice's page holds its polls while bob writes (see open_page)
    quiet(page)

    bob_context = browser.new_context()
    bob = bob_context.new_page()
    sign_in(bob, live_server.url, "bob")
    open_page(bob, live_server.url + task.get_absolute_url())
    bob.get_by_label("Status").select_option("review")
    bob.get_by_role("button", name="Update").click()
    expect(bob.get_by_text("Saved: Review")).to_be_visible()
    bob_context.close()
    page.locator("#feed-poll").evaluate("e => e.setAttribute('data-aui-poll', '1')")

    banner = page.get_by_role("link", name=re.compile(r"1 new activity"))
    expect(banner).to_be_visible(timeout=5_000)
    expect(page.locator("#feed-banner")).to_have_attribute("aria-live", "polite")
    banner.click()
    first = page.locator("[role=feed] > article").first
    expect(first).to_contain_text("Bob Nguyen")
    expect(first).to_contain_text(task.title)
    expect(first).to_contain_text("Review")
    expect(banner).to_have_count(0)
    # the next polls start after the revealed entry
    expect(page.locator("#feed-poll")).to_have_attribute("hx-get", re.compile(r"after="))
    quiet(page)
    assert console_errors == []


def test_follow_toggle_on_the_task_page(
    live_server, demo, feed_settings, page: Page, console_errors
):
    task = Task.objects.filter(project__team__name="Apollo").first()
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + task.get_absolute_url())
    button = page.locator(".page-title").get_by_role("button", name=re.compile(r"^Follow"))
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    following = page.locator(".page-title").get_by_role("button", name=re.compile(r"^Following"))
    expect(following).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(following).to_have_attribute("aria-pressed", "true")
    following.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    quiet(page)
    assert console_errors == []


def test_feed_has_no_serious_accessibility_violations(
    live_server, demo, feed_settings, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    expect(page.locator("article.aui-entry").first).to_be_visible()
    assert serious_violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []
    open_page(page, live_server.url + "/activity/?since=not-a-date")
    assert serious_violations(page) == []
    quiet(page)
    assert console_errors == []


# the failure the test provokes, as htmx and Chromium report it
@pytest.mark.console_errors_expected(
    r"^htmx:(afterRequest|sendError), ", r"^Failed to load resource: net::ERR_FAILED$"
)
def test_feed_load_more_failure_says_so_and_can_be_retried(
    live_server, demo, feed_settings, page: Page
):
    feed_settings.ACTIVITYUI = {**feed_settings.ACTIVITYUI, "PAGE_SIZE": 5}
    sign_in(page, live_server.url, "alice")
    page.set_viewport_size({"width": 1000, "height": 500})
    open_page(page, live_server.url + "/activity/")
    articles = page.locator("[role=feed] > article")
    expect(articles.first).to_be_visible()
    page.route(re.compile(r".*/activity/\?.*before=.*"), lambda route: route.abort())
    page.get_by_role("link", name="Load more").click()
    expect(page.get_by_role("alert")).to_have_text("Older activity could not be loaded. Try again.")
    page.unroute(re.compile(r".*/activity/\?.*before=.*"))
    count = articles.count()
    page.get_by_role("link", name="Load more").click()
    expect(articles).not_to_have_count(count)
    expect(page.get_by_role("alert")).to_have_count(0)
    quiet(page)


def test_feed_list_is_busy_while_filters_load(live_server, demo, feed_settings, page: Page):
    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    expect(page.locator("article.aui-entry").first).to_be_visible()
    held = []
    page.route(re.compile(r".*/activity/\?verb=.*"), lambda route: held.append(route))
    page.get_by_label("Verb").select_option("commented")
    items = page.locator("#feed-items")
    expect(items).to_have_attribute("aria-busy", "true")
    held[0].continue_()
    expect(items).not_to_have_attribute("aria-busy", "true")
    expect(page).to_have_url(re.compile(r"verb=commented"))
    quiet(page)

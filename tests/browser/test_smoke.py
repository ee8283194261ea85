from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_feed_smoke_alice_sees_entries(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/activity/")
    expect(page.get_by_role("heading", name="Team activity")).to_be_visible()
    entries = page.locator("article.aui-entry")
    expect(entries.first).to_be_visible()
    assert entries.count() > 5
    assert console_errors == []

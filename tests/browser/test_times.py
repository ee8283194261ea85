"""Relative times in real Chromium: rows come from the row cache with the server's words of
the moment they were read, and activityui.js keeps them right while the page stays open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


@pytest.fixture
def feed_settings(settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "DEFAULT_FEED": "team", "POLL_INTERVAL": 0}
    return settings


def test_relative_times_follow_the_clock_while_the_page_is_open(
    live_server, demo, feed_settings, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.clock.install()
    page.goto(live_server.url + "/activity/")
    first = page.locator("time.aui-time").first
    expect(first).to_have_attribute("datetime", re.compile(r".+"))
    server_text = first.text_content()
    # the page stays open for a day: the text follows, as Intl.RelativeTimeFormat words it
    page.clock.fast_forward("26:00:00")
    expected = page.evaluate(
        """() => {
          const t = document.querySelector("time.aui-time");
          const days = Math.floor((Date.now() - Date.parse(t.getAttribute("datetime"))) / 86400000);
          return days >= 7 ? null : new Intl.RelativeTimeFormat("en", {numeric: "always"})
            .format(-days, "day");
        }"""
    )
    assert expected is not None and expected != server_text
    expect(first).to_have_text(expected)
    assert console_errors == []

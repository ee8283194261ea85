"""A quiet console in normal use: requests that the page itself abandons (a link followed
while a poll is in flight, a search replaced by the next keystroke) are not errors."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import sign_in


def test_following_a_link_while_a_poll_is_in_flight_logs_nothing(
    live_server, demo, settings, page: Page, console_errors
):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "POLL_INTERVAL": 1}
    sign_in(page, live_server.url, "alice")
    held: list[Route] = []
    # the poll reaches no server: it is still in flight when the link is followed
    page.route(re.compile(r"/activity/\?(.*&)?after="), lambda route: held.append(route))
    page.goto(live_server.url + "/activity/")
    with page.expect_request(re.compile(r"after="), timeout=10_000):
        pass
    page.get_by_role("link", name="Projects").click()
    page.wait_for_url(live_server.url + "/projects/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_timeout(300)  # what the old page's abandoned request would log, it has logged
    assert held and console_errors == []


def test_a_search_replaced_by_the_next_keystroke_logs_nothing(
    live_server, demo, settings, page: Page, console_errors
):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "POLL_INTERVAL": 60}
    sign_in(page, live_server.url, "alice")
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # in flight until the next search replaces it (hx-sync)

    page.route(re.compile(r"/activity/\?(.*&)?q="), hold_the_first)
    page.goto(live_server.url + "/activity/")
    search = page.get_by_label("Search")
    with page.expect_request(re.compile(r"q=zz"), timeout=10_000):
        search.fill("zz")
    search.fill("zzzz-nothing")
    expect(page.get_by_text("Nothing matches these filters.")).to_be_visible()
    page.wait_for_timeout(300)
    assert held and console_errors == []
    expect(page.locator(".aui-request-error")).to_have_count(0)  # not a failure either

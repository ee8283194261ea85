"""The feed's poll in real Chromium, with real timers: a failed poll backs off (the wait
doubles), a successful one resets it, and a hidden tab does not poll. The interval is read
from the page (data-aui-poll, from ACTIVITYUI["POLL_INTERVAL"]), set to 1 s here."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

import activityui
from tests.browser.conftest import sign_in
from tests.browser.test_a11y import _apollo_task
from tests.browser.test_feed import open_page, quiet

POLLS = re.compile(r"/activity/\?(.*&)?after=")
TICK = 0.5  # activityui.js looks for due polls every 500 ms
SLACK = 0.4  # a busy 2-core machine: the tick and the request may each be a little late


@pytest.fixture
def polling(settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "DEFAULT_FEED": "team", "POLL_INTERVAL": 1}
    return settings


def wait_for_polls(page: Page, polls: list[float], count: int, *, within: float) -> None:
    """Let the page run (real timers) until ``count`` polls have arrived, at most ``within`` s."""
    deadline = time.monotonic() + within
    while len(polls) < count:
        assert time.monotonic() < deadline, f"{len(polls)} poll(s) of {count} in {within} s"
        page.wait_for_timeout(50)


def poll_interval(page: Page) -> float:
    return float(page.locator("#feed-poll").get_attribute("data-aui-poll"))


def assert_gap(gap: float, wait: float) -> None:
    assert wait - 0.2 <= gap <= wait + TICK + SLACK, f"{gap:.2f} s between polls, {wait} s due"


@pytest.mark.console_errors_expected(
    r"status of 500 \(Internal Server Error\)", r"^Response Status Error Code 500"
)
def test_failed_polls_back_off_and_a_success_resets_the_interval(
    live_server, demo, polling, page: Page
):
    polls: list[float] = []

    def answer(route):
        polls.append(time.monotonic())
        if len(polls) <= 2:
            route.fulfill(status=500, body="")  # the first two polls fail
        else:
            route.continue_()  # the live server: 204, nothing new

    sign_in(page, live_server.url, "alice")
    page.route(POLLS, answer)
    open_page(page, live_server.url + "/activity/")
    interval = poll_interval(page)
    assert interval == 1
    wait_for_polls(page, polls, 4, within=(1 + 2 + 4 + 1) * interval + 4 * (TICK + SLACK))
    gaps = [later - earlier for earlier, later in zip(polls, polls[1:], strict=False)]
    assert_gap(gaps[0], 2 * interval)  # after one failure: twice the interval
    assert_gap(gaps[1], 4 * interval)  # after two: four times
    assert_gap(gaps[2], interval)  # after a success: the interval again
    quiet(page)


HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.visibilityState;  // the browser's own (Document.prototype) again: visible
  delete document.hidden;
  document.dispatchEvent(new Event("visibilitychange"));
  return document.visibilityState;
}"""


def test_hidden_tab_does_not_poll_and_polls_when_shown_again(
    live_server, demo, polling, page: Page
):
    polls: list[float] = []

    def answer(route):
        polls.append(time.monotonic())
        route.continue_()

    sign_in(page, live_server.url, "alice")
    page.route(POLLS, answer)
    open_page(page, live_server.url + "/activity/")
    interval = poll_interval(page)
    wait_for_polls(page, polls, 1, within=interval + TICK + SLACK + 1)  # it polls while visible

    page.evaluate(HIDE)
    assert page.evaluate("document.visibilityState") == "hidden"
    page.wait_for_timeout(200)  # a poll sent just before is seen by now
    hidden_at = len(polls)
    page.wait_for_timeout(3 * interval * 1000)  # three intervals hidden: no poll
    assert polls[hidden_at:] == []

    assert page.evaluate(SHOW) == "visible"
    # the interval has passed while hidden: the poll goes out at once, not an interval later
    wait_for_polls(page, polls, hidden_at + 1, within=TICK + SLACK)
    quiet(page)


def test_a_poll_in_flight_while_new_entries_are_revealed_loses_nothing(
    live_server, demo, polling, page: Page
):
    """The reveal's answer swaps the banner, the sentinel and the read marker out of band,
    looked up from the link that was clicked. A poll sent before the click and answered before
    the reveal used to replace the banner, link included: htmx then found none of those
    targets (htmx:oobErrorNoTarget), the banner stayed and the old sentinel kept announcing
    entries already shown. Both requests are held at the network here to force that order."""
    held: dict[str, list] = {"feed-poll": [], "feed-reveal": []}
    holding = [True]

    def hold(route):
        trigger = route.request.headers.get("hx-trigger", "")
        if holding[0] and trigger in held:
            held[trigger].append(route)
        else:
            route.continue_()

    def wait_held(kind: str) -> None:
        deadline = time.monotonic() + 10
        while not held[kind]:
            assert time.monotonic() < deadline, f"no {kind} request"
            page.wait_for_timeout(50)

    sign_in(page, live_server.url, "alice")
    open_page(page, live_server.url + "/activity/")
    task = _apollo_task()
    new = activityui.record(demo["bob"], "commented", task, task.project, comment="Race!")
    expect(page.locator("#feed-banner a")).to_have_text(re.compile(r"1 new activity"))

    page.route(POLLS, hold)
    wait_held("feed-poll")  # a poll is on its way ...
    page.locator("#feed-reveal").click()  # ... when the reader asks for the new entries
    wait_held("feed-reveal")
    poll = held["feed-poll"].pop()
    with page.expect_response(lambda r: r.request.headers.get("hx-trigger") == "feed-poll"):
        poll.continue_()  # the poll is answered first
    page.wait_for_timeout(200)  # htmx has handled it by now
    holding[0] = False
    held["feed-reveal"].pop().continue_()

    expect(page.locator(f"#aui-action-{new.pk}")).to_have_count(1)
    expect(page.locator("#feed-banner a")).to_have_count(0)
    # the new sentinel polls from the newest entry: what was revealed is not announced again
    sentinel = page.locator("#feed-poll").get_attribute("hx-get")
    page.wait_for_timeout(3 * poll_interval(page) * 1000)
    expect(page.locator("#feed-banner a")).to_have_count(0)
    assert page.locator("#feed-poll").get_attribute("hx-get") == sentinel
    quiet(page)

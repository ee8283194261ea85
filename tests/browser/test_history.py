"""The object history in a browser: as of a change, compare with now, restore one value,
a stale restore that asks first, and who may not (404 for carol, 403 for bob)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from activityui.capture import acting_as
from demo_site.demo.models import Project, Task
from tests.browser.conftest import serious_violations, sign_in

MODES = [("light", 1280, 900), ("dark", 1280, 900), ("light", 375, 812), ("dark", 375, 812)]


@pytest.fixture
def task(demo):
    """bob created it ten days ago, started it, moved it to review last week; alice renamed
    it yesterday."""
    project = Project.objects.get(name="Apollo Web")
    now = timezone.now()
    with acting_as(demo["bob"], at=now - dt.timedelta(days=10)):
        task = Task.objects.create(project=project, title="Fix login", status="todo")
    with acting_as(demo["bob"], at=now - dt.timedelta(days=8)):
        task.status = Task.Status.IN_PROGRESS
        task.save()
    with acting_as(demo["bob"], at=now - dt.timedelta(days=6)):
        task.status = Task.Status.REVIEW
        task.save()
    with acting_as(demo["alice"], at=now - dt.timedelta(days=1)):
        task.title = "Fix the login form"
        task.save()
    return Task.objects.get(pk=task.pk)


def timeline_path(task: Task) -> str:
    return f"/activity/objects/demo.task/{task.pk}/"


def review_entry(page: Page):
    return page.locator(".aui-tl", has_text=re.compile(r"In progress\s*→\s*Review"))


def settled(page: Page) -> None:
    """Wait until htmx has settled what it swapped in: its new links are live only then (a key
    pressed on one before follows its plain href)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
        ".htmx-added')"
    )


def accessible(page: Page) -> list[str]:
    found = []
    for scheme, width, height in MODES:
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
        found += [f"{scheme} {width}px: {v}" for v in serious_violations(page)]
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(f"{scheme} {width}px: {overflow}px wider than the screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")
    return found


def test_alice_views_as_of_last_week_compares_with_now_and_restores_the_status(
    live_server, demo, task, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + task.get_absolute_url())
    timeline = page.locator(".aui-timeline")
    expect(review_entry(page)).to_be_visible()

    # as of last week's change: in the timeline's panel, the heading focused
    review_entry(page).get_by_role("link", name="View as of this change").click()
    heading = page.get_by_role("heading", name="As of this change")
    expect(heading).to_be_focused()
    table = timeline.locator(".aui-history__table")
    status = table.locator("tr", has=page.locator("th", has_text="Status"))
    expect(status.locator("td").first).to_have_text("Review")
    title = table.locator("tr", has=page.locator("th", has_text="Title"))
    expect(title).to_have_class(re.compile("aui-history__row--changed"))
    expect(title.locator("td").first).to_have_text("Fix login")
    expect(title.locator("td").nth(1)).to_have_text("Fix the login form")
    assert accessible(page) == []

    # compare with now, from the keyboard
    page.get_by_label("From").focus()
    page.keyboard.press("Tab")  # to "To" (now)
    expect(page.get_by_label("To", exact=True)).to_have_value("now")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Compare")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compare two points")).to_be_focused()
    settled(page)
    diff = timeline.locator(".aui-history__table tr", has_text="Title")
    expect(diff.locator("del")).to_have_text("Fix login")
    expect(diff.locator("ins")).to_have_text("Fix the login form")
    assert accessible(page) == []

    # back to the history: the focus is on the entry the comparison started from
    page.get_by_role("link", name="Back to the history").click()
    expect(review_entry(page).get_by_role("link", name="Compare with now")).to_be_focused()
    expect(page).to_have_url(live_server.url + task.get_absolute_url())
    # restore the status bob's change of last week replaced
    review_entry(page).get_by_role("button", name="Restore Status to “In progress”").click()
    notice = timeline.locator(".aui-history__notice")
    expect(notice).to_have_text("Status restored to “In progress”.")
    expect(notice).to_be_focused()
    expect(notice).to_have_attribute("role", "status")
    newest = timeline.locator(".aui-tl").first
    expect(newest).to_contain_text("Alice Martin")
    expect(newest).to_contain_text("restored")
    expect(newest.locator(".aui-tl__restored")).to_contain_text(
        re.compile(r"Restored Status to “In progress” \(from Bob Nguyen’s change of .+\)")
    )
    expect(newest).to_contain_text(re.compile(r"Status:\s*Review\s*→\s*In progress"))
    task.refresh_from_db()
    assert task.status == "in_progress"
    # the task's own facts on the page are read again (the demo listens to activityui:restored)
    expect(page.locator("#task-status-value")).to_have_text("In progress")
    expect(page.get_by_label("Status", exact=True)).to_have_value("in_progress")
    # the sentence links to the change it undid
    newest.locator(".aui-tl__restored a").click()
    expect(page.get_by_role("heading", name="As of this change")).to_be_visible()
    assert console_errors == []


def test_back_to_the_history_returns_the_focus_from_the_keyboard(
    live_server, demo, task, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + timeline_path(task))
    as_of = review_entry(page).get_by_role("link", name="View as of this change")
    as_of.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="As of this change")).to_be_focused()
    settled(page)
    page.get_by_role("link", name="Back to the history").focus()
    page.keyboard.press("Enter")
    expect(review_entry(page).get_by_role("link", name="View as of this change")).to_be_focused()
    expect(page).to_have_url(live_server.url + timeline_path(task))
    assert console_errors == []


def test_the_as_of_url_is_shareable(live_server, demo, task, page: Page, console_errors):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + timeline_path(task))
    review_entry(page).get_by_role("link", name="View as of this change").click()
    expect(page).to_have_url(re.compile(r"/as-of/\?as_of="))
    page.reload()
    expect(page.get_by_role("heading", name="As of this change")).to_be_visible()
    row = page.locator(".aui-history__table tr", has=page.locator("th", has_text="Status"))
    expect(row.locator("td").first).to_have_text("Review")
    page.go_back()
    expect(review_entry(page)).to_be_visible()
    assert console_errors == []


def test_bobs_later_edit_makes_alices_stale_restore_ask_first(
    live_server, demo, task, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + timeline_path(task))
    button = review_entry(page).get_by_role("button", name="Restore Status to “In progress”")
    expect(button).to_be_visible()
    with acting_as(demo["bob"]):  # meanwhile, bob finishes it
        fresh = Task.objects.get(pk=task.pk)
        fresh.status = Task.Status.DONE
        fresh.save()
    button.click()
    expect(page.get_by_role("heading", name="Restore Status?")).to_be_focused()
    conflict = page.locator(".aui-history__conflict")
    expect(conflict).to_contain_text("Status has changed since Bob Nguyen’s change.")
    expect(conflict.locator("ins")).to_have_text("Done")
    task.refresh_from_db()
    assert task.status == "done"  # nothing overwritten before she says so
    assert accessible(page) == []
    page.get_by_role("button", name="Overwrite with “In progress”").click()
    expect(page.locator(".aui-history__notice")).to_have_text("Status restored to “In progress”.")
    expect(page.locator(".aui-tl").first).to_contain_text(
        re.compile(r"Status:\s*Done\s*→\s*In progress")
    )
    task.refresh_from_db()
    assert task.status == "in_progress"
    assert console_errors == []


def _csrf_post(page: Page, base: str, path: str, data: dict[str, str]) -> int:
    page.goto(base + "/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(base + path, form=data, headers={"X-CSRFToken": token})
    return response.status


@pytest.mark.console_errors_expected(r"status of 404 \(Not Found\)")  # the pages under test
def test_carol_gets_404s(live_server, demo, task, page: Page):
    from actstream.models import Action

    from activityui.cursors import encode_cursor

    change = Action.objects.filter(
        action_object_object_id=str(task.pk), data__changes__has_key="status"
    ).last()
    token = encode_cursor(change.timestamp, change.pk)
    sign_in(page, live_server.url, "carol")
    base = live_server.url + timeline_path(task)
    for path in (f"as-of/?as_of={token}", f"compare/?from={token}&to=now"):
        response = page.goto(base + path)
        assert response is not None and response.status == 404
        assert "Fix" not in page.content()
    status = _csrf_post(
        page,
        live_server.url,
        timeline_path(task) + "restore/",
        {"action": str(change.pk), "field": "status"},
    )
    assert status == 404
    task.refresh_from_db()
    assert task.status == "review"


def test_bob_without_the_permission_gets_no_restore_button_and_a_403(
    live_server, demo, task, page: Page
):
    from actstream.models import Action

    sign_in(page, live_server.url, "bob")
    page.goto(live_server.url + timeline_path(task))
    expect(review_entry(page).get_by_role("link", name="View as of this change")).to_be_visible()
    expect(page.locator(".aui-tl__restore")).to_have_count(0)
    change = Action.objects.filter(
        action_object_object_id=str(task.pk), data__changes__has_key="status"
    ).last()
    status = _csrf_post(
        page,
        live_server.url,
        timeline_path(task) + "restore/",
        {"action": str(change.pk), "field": "status"},
    )
    assert status == 403
    task.refresh_from_db()
    assert task.status == "review"


def test_without_javascript_links_and_forms_still_work(live_server, demo, task, browser: Browser):
    client = Client()
    client.force_login(demo["alice"])
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(live_server.url + timeline_path(task))
    review_entry(page).get_by_role("link", name="View as of this change").click()
    expect(page).to_have_url(re.compile(r"/as-of/\?as_of="))
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/compare/\?from=.+&to=now"))
    expect(page.get_by_role("heading", name="Compare two points")).to_be_visible()
    page.get_by_role("link", name="Back to the history").click()
    review_entry(page).get_by_role("button", name="Restore Status to “In progress”").click()
    expect(page).to_have_url(live_server.url + timeline_path(task))
    expect(page.locator(".aui-tl").first).to_contain_text("restored")
    task.refresh_from_db()
    assert task.status == "in_progress"
    context.close()

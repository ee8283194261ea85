"""The object timeline in a browser: lazy load, live refresh after a change, filters, a11y."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from activityui.capture import acting_as
from demo_site.demo.models import Project, Task
from tests.browser.conftest import serious_violations, sign_in


@pytest.fixture
def review_task(demo):
    """An Apollo Web task bob moved to review two days ago."""
    project = Project.objects.get(name="Apollo Web")
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=3)):
        task = Task.objects.create(project=project, title="Fix login", status="in_progress")
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=2)):
        task.status = Task.Status.REVIEW
        task.save()
    return task


def timeline_url(base: str, task: Task) -> str:
    return f"{base}/activity/objects/demo.task/{task.pk}/"


def test_status_change_shows_in_the_timeline_without_reload(
    live_server, demo, review_task, page: Page, console_errors
):
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + review_task.get_absolute_url())
    timeline = page.locator("#timeline")
    # the placeholder is replaced by the loaded widget
    expect(timeline.locator("#timeline-items .aui-tl").first).to_be_visible()
    expect(timeline.locator(".aui-tl").first).to_contain_text(re.compile(r"Review"))
    page.evaluate("() => { window.auiSamePage = true }")

    page.get_by_label("Status", exact=True).select_option("Done")
    page.get_by_role("button", name="Update").click()

    newest = timeline.locator(".aui-tl").first
    expect(newest).to_contain_text(re.compile(r"Status:\s*Review\s*→\s*Done"))
    expect(newest.locator(".aui-actor")).to_have_text(re.compile(r"^\s*Alice Martin\s*$"))
    expect(newest.locator("time")).to_have_text("seconds ago")
    expect(newest.locator("time")).to_have_attribute("title", re.compile(r"\d{4}"))
    # the task's own Status field follows too (out-of-band swap from the form's response)
    expect(page.locator("#task-status-value")).to_have_text("Done")
    assert page.evaluate("() => window.auiSamePage") is True  # no reload happened
    assert console_errors == []


@pytest.mark.console_errors_expected(r"status of 404 \(Not Found\)")  # the page under test
def test_timeline_of_a_task_carol_may_not_see_is_404(live_server, demo, review_task, page: Page):
    sign_in(page, live_server.url, "carol")
    response = page.goto(timeline_url(live_server.url, review_task))
    assert response is not None and response.status == 404
    assert "Fix login" not in page.content()


def test_timeline_field_filter_on_its_own_page_pushes_the_url(
    live_server, demo, review_task, page: Page, console_errors
):
    with acting_as(demo["alice"]):
        review_task.title = "Fix the login form"
        review_task.save()
    sign_in(page, live_server.url, "alice")
    url = timeline_url(live_server.url, review_task)
    page.goto(url)
    items = page.locator("#timeline-items .aui-tl")
    expect(items).to_have_count(3)

    page.get_by_label("Field").select_option("status")
    expect(page).to_have_url(re.compile(r"field=status"))
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(re.compile(r"Status:\s*In progress\s*→\s*Review"))

    page.go_back()
    expect(page).to_have_url(url)
    expect(items).to_have_count(3)
    assert console_errors == []


def test_timeline_show_older_loads_the_next_page(
    live_server, demo, review_task, page: Page, settings, console_errors
):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "PAGE_SIZE": 2}
    with acting_as(demo["alice"]):
        review_task.priority = Task.Priority.URGENT
        review_task.save()
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + review_task.get_absolute_url())
    items = page.locator("#timeline .aui-tl")
    expect(items).to_have_count(2)
    page.get_by_role("link", name="Show older").click()
    expect(items).to_have_count(3)  # created, to review, priority
    expect(items.last).to_contain_text("created")
    expect(page.get_by_role("link", name="Show older")).to_have_count(0)
    assert page.url == live_server.url + review_task.get_absolute_url()
    assert console_errors == []


def test_task_page_with_timeline_has_no_serious_accessibility_violations(
    live_server, demo, review_task, page: Page
):
    with acting_as(demo["alice"]):
        review_task.description = (
            "Users cannot sign in when their password contains a space at the end of it."
        )
        review_task.save()
    sign_in(page, live_server.url, "alice")
    page.goto(live_server.url + review_task.get_absolute_url())
    expect(page.locator("#timeline-items .aui-tl").first).to_be_visible()
    assert serious_violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []


def test_timeline_without_javascript_is_a_link_to_its_page(live_server, demo, review_task, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "alice")
        page.goto(live_server.url + review_task.get_absolute_url())
        link = page.get_by_role("link", name="Open the full history")
        expect(link).to_be_visible()
        link.click()
        expect(page).to_have_url(timeline_url(live_server.url, review_task))
        expect(page.locator("#timeline-items .aui-tl")).to_have_count(2)
        page.get_by_label("Field").select_option("status")
        page.get_by_role("button", name="Show").click()  # the <noscript> submit button
        expect(page).to_have_url(re.compile(r"field=status"))
        expect(page.locator("#timeline-items .aui-tl")).to_have_count(1)
    finally:
        context.close()

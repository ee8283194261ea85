"""The staff console in real Chromium: filters with pushed URLs, export of the filter, detail
panel, copy link, access, accessibility."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import serious_violations, sign_in

URL = "/activity/staff/"


def shown_count(page: Page) -> int:
    text = page.locator("#staff-count strong").inner_text()
    assert "+" not in text
    return int(text.replace(",", ""))


def test_staff_filter_actor_and_verb_then_export(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL)
    rows = page.locator("#staff-results tbody tr")
    expect(rows.first).to_be_visible()
    page.get_by_label("Actor").fill("bob")
    expect(page).to_have_url(re.compile(r"/activity/staff/\?actor=bob$"))
    page.get_by_label("Verb").select_option("updated")
    expect(page).to_have_url(re.compile(r"/activity/staff/\?actor=bob&verb=updated$"))
    expect(page.locator(".aui-staff__permalink input")).to_have_value(
        re.compile(r"/activity/staff/\?actor=bob&verb=updated$")
    )
    expect(rows.first.locator("td").nth(2)).to_have_text("updated")
    count = shown_count(page)
    assert count > 0
    assert rows.count() == min(count, 25)
    for row in rows.all():
        cells = row.locator("td")
        assert cells.nth(1).inner_text() == "Bob Nguyen"
        assert cells.nth(2).inner_text() == "updated"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(io.StringIO(handle.read())))
    assert len(exported) == count
    assert {r["actor"] for r in exported} == {"Bob Nguyen"}
    assert {r["verb"] for r in exported} == {"updated"}
    page.go_back()
    expect(page).to_have_url(re.compile(r"/activity/staff/\?actor=bob$"))
    expect(page.get_by_label("Verb")).to_have_value("")
    assert console_errors == []


def test_staff_row_opens_detail_panel(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL + "?verb=commented")
    first = page.locator(".aui-staff__rowlink").first
    first.click()
    panel = page.locator("#staff-detail")
    title = panel.get_by_role("heading", name=re.compile(r"^Action #\d+$"))
    expect(title).to_be_visible()
    expect(title).to_be_focused()
    expect(panel.locator(".aui-json")).to_contain_text('"comment"')
    expect(page).to_have_url(re.compile(r"/activity/staff/\?verb=commented$"))
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    expect(title).to_have_count(0)
    expect(first).to_be_focused()
    first.click()
    expect(title).to_be_visible()
    panel.get_by_role("link", name=re.compile("^Close")).click()
    expect(title).to_have_count(0)
    assert console_errors == []


def test_staff_older_page_and_back(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL)
    first_id = page.locator("#staff-results tbody tr").first.get_attribute("id")
    page.get_by_role("link", name=re.compile("^Older")).click()
    expect(page).to_have_url(re.compile(r"\?before="))
    expect(page.locator("#staff-results tbody tr").first).not_to_have_attribute("id", first_id)
    page.go_back()
    expect(page.locator("#staff-results tbody tr").first).to_have_attribute("id", first_id)
    assert console_errors == []


def test_staff_copy_link(live_server, demo, page: Page, console_errors):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL + "?verb=created")
    button = page.get_by_role("button", name="Copy link")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("[data-aui-copy-status]")).not_to_be_empty()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == live_server.url + URL + "?verb=created"
    assert console_errors == []


@pytest.mark.console_errors_expected(r"status of 403 \(Forbidden\)")  # the page under test
def test_staff_carol_gets_403(live_server, demo, page: Page):
    sign_in(page, live_server.url, "carol")
    expect(page.get_by_role("link", name="Feed")).to_be_visible()
    expect(page.get_by_role("link", name="Staff console")).to_have_count(0)
    response = page.goto(live_server.url + URL)
    assert response is not None
    assert response.status == 403


def test_staff_page_accessibility(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL)
    expect(page.locator("#staff-results tbody tr").first).to_be_visible()
    assert serious_violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []
    assert console_errors == []


def test_staff_filters_collapse_on_phones(live_server, demo, page: Page, console_errors):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL)
    expect(page.locator("#staff-filters-box")).not_to_have_attribute("open", "")
    expect(page.get_by_label("Actor")).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_label("Actor")).to_be_visible()
    assert serious_violations(page) == []
    assert console_errors == []


def test_staff_chart_loads_is_accessible_and_narrows(live_server, demo, page: Page, console_errors):
    sign_in(page, live_server.url, "staff")
    page.goto(live_server.url + URL + "?verb=updated")
    chart = page.locator("#staff-chart")
    expect(chart.locator("svg rect").first).to_be_attached()
    assert serious_violations(page) == []
    page.get_by_text("Show as a table").click()
    rows = chart.locator('[role="row"][data-count]')
    busiest = max(range(rows.count()), key=lambda i: int(rows.nth(i).get_attribute("data-count")))
    expected = int(rows.nth(busiest).get_attribute("data-count"))
    rows.nth(busiest).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"since=.*until="))
    assert "verb=updated" in page.url
    expect(page.locator("#staff-count strong")).to_have_text(str(expected))
    assert serious_violations(page) == []
    assert console_errors == []

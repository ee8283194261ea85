"""The staff console of a UUID-keyed host in a real browser: signed in through the host's own
login page with an email, full ids that wrap inside their cells, no serious axe violation."""

from __future__ import annotations

import os

from playwright.sync_api import Page, expect

from activityui.ids import id_of
from tests.browser.conftest import serious_violations


def test_staff_table_shows_full_uuids_wrapped_in_their_cells(
    live_server,
    world,
    page: Page,
    console_errors,
):
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(live_server.url + "/sign-in/?next=/activity/staff/")
    page.get_by_label("Email address").fill("sam@notebooks.example")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/activity/staff/")
    note = world["atlas"]["uuid"]
    cell_id = page.locator("code.aui-staff__id", has_text=id_of(note)).first
    expect(cell_id).to_be_visible()
    box = cell_id.bounding_box()
    cell = cell_id.locator("xpath=ancestor::td[1]").bounding_box()
    assert box and cell
    assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1  # wrapped, not overflowing
    if os.environ.get("AUI_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["AUI_SCREENSHOTS"], "uuidsite-staff.png"))
    assert serious_violations(page) == []
    assert console_errors == []

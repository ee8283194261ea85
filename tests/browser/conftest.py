from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "console_errors_expected(*patterns): console errors matching these regular expressions "
        "are part of the test (e.g. a server error it provokes); any other one fails it",
    )


@pytest.fixture(autouse=True)
def _no_console_errors(request):
    """Every browser test fails on a console error or an uncaught page error (checked when the
    test ends), except those its ``console_errors_expected`` marker names."""
    if "page" not in request.fixturenames:
        yield []
        return
    page: Page = request.getfixturevalue("page")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.node.aui_console_errors = errors
    yield errors
    marker = request.node.get_closest_marker("console_errors_expected")
    patterns = [re.compile(p) for p in (marker.args if marker else ())]
    unexpected = [e for e in errors if not any(p.search(e) for p in patterns)]
    assert unexpected == [], f"console errors: {unexpected}"


@pytest.fixture
def console_errors(request, _no_console_errors):
    """The console errors and uncaught page errors so far (tests may assert on them early)."""
    return _no_console_errors


def sign_in(page: Page, base_url: str, username: str, password: str = "demo") -> None:
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, readable in a failure."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]

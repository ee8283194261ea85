"""The notes host in a real browser: readable in every colour case, two timelines on one page
that filter independently, the feed tabs."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

SETTINGS = {
    "BASE_TEMPLATE": "notes/base.html",
    "CONTENT_BLOCK": "main",
    "DEFAULT_FEED": "notebooks",
}

# For every visible element of activityui with text of its own: its text colour against the
# background actually behind it (the first opaque one up the tree, translucent layers blended
# on top), as a WCAG contrast ratio. Returns the worst few.
CONTRASTS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];  // the canvas, if nothing is opaque
    for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
    return result;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const results = [];
  document.querySelectorAll(".aui, .aui *").forEach(el => {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) return;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") return;
    if (el.closest(".aui-visually-hidden, [hidden], option")) return;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    results.push({
      ratio: Math.round(ratio(fg, bg) * 100) / 100,
      text: el.textContent.trim().slice(0, 40),
      tag: el.tagName, color: style.color, bg: "rgb(" + bg.slice(0, 3).join(",") + ")",
    });
  });
  results.sort((a, b) => a.ratio - b.ratio);
  return {count: results.length, worst: results.slice(0, 5)};
}
"""


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("os_scheme", ["light", "dark"])
@pytest.mark.parametrize("host_background", ["rgb(255, 255, 255)", "rgb(0, 0, 0)"])
def test_feed_text_is_readable_on_any_host_page_and_os_scheme(
    live_server, world, page: Page, os_scheme, host_background
):
    page.emulate_media(color_scheme=os_scheme)
    sign_in(page, live_server.url, "ann")
    page.goto(live_server.url + "/activity/")
    expect(page.get_by_role("heading", name="All notebooks")).to_be_visible()
    # the host paints its page (CSSOM, which the page's Content-Security-Policy allows)
    page.evaluate(
        "(bg) => { document.documentElement.style.background = bg;"
        " document.body.style.background = bg;"
        " document.body.style.color = bg === 'rgb(0, 0, 0)' ? '#fff' : '#000'; }",
        host_background,
    )
    report = page.evaluate(CONTRASTS)
    assert report["count"] > 20  # headings, tabs, labels, entries, times…
    worst = report["worst"][0]
    assert worst["ratio"] >= 4.5, report["worst"]
    # activityui follows the OS unless told otherwise
    section_bg = page.locator(".aui-feed").evaluate("el => getComputedStyle(el).backgroundColor")
    assert section_bg == ("rgb(255, 255, 255)" if os_scheme == "light" else "rgb(15, 20, 25)")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_setting_wins_over_the_os(live_server, world, page: Page, theme):
    page.emulate_media(color_scheme="dark" if theme == "light" else "light")
    with override_settings(ACTIVITYUI={**SETTINGS, "THEME": theme}):
        sign_in(page, live_server.url, "ann")
        page.goto(live_server.url + "/activity/")
        expect(page.locator(".aui-feed")).to_have_attribute("data-aui-theme", theme)
        section_bg = page.locator(".aui-feed").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert section_bg == ("rgb(255, 255, 255)" if theme == "light" else "rgb(15, 20, 25)")
        report = page.evaluate(CONTRASTS)
        assert report["worst"][0]["ratio"] >= 4.5, report["worst"]


def test_two_timelines_on_one_page_filter_independently(live_server, world, page: Page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "ann")
    page.goto(live_server.url + f"/notebooks/{world['lab'].pk}/")
    first, second = page.locator("#timeline"), page.locator("#aui-tl-2")
    expect(first.locator(".aui-tl")).to_have_count(2)  # "First results": created, updated
    expect(second.locator(".aui-tl")).to_have_count(1)  # "Second thoughts": created
    url = page.url

    first.locator("select#timeline-verb").select_option("updated")
    expect(first.locator(".aui-tl")).to_have_count(1)
    expect(first.locator(".aui-tl").first).to_contain_text("updated")
    expect(second.locator(".aui-tl")).to_have_count(1)
    expect(second.locator("select#aui-tl-2-verb")).to_have_value("")

    second.locator("select#aui-tl-2-verb").select_option("created")
    expect(second.locator(".aui-tl")).to_have_count(1)
    expect(second.locator("select#aui-tl-2-verb")).to_have_value("created")
    expect(first.locator("select#timeline-verb")).to_have_value("updated")
    expect(first.locator(".aui-tl")).to_have_count(1)
    assert page.url == url  # embedded timelines leave the page's URL alone
    assert page.locator("[id]").evaluate_all(
        "els => els.length === new Set(els.map(e => e.id)).size"
    ), "duplicate ids on the page"
    assert errors == []


def test_anonymous_visitor_stays_on_the_public_page(live_server, world, page: Page):
    page.goto(live_server.url + f"/notes/{world['first'].pk}/public/")
    expect(page.get_by_role("heading", name="First results")).to_be_visible()
    page.wait_for_timeout(500)  # time for any lazy request to land (there must be none)
    assert page.url.endswith("/public/")
    expect(page.locator(".aui-timeline")).to_have_count(0)


def test_feed_tabs_lead_to_each_feed(live_server, world, page: Page):
    sign_in(page, live_server.url, "ann")
    page.goto(live_server.url + "/activity/")
    tabs = page.get_by_role("navigation", name="Feeds")
    tabs.get_by_role("link", name="My notes").click()
    expect(page.get_by_role("heading", name="My notes", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/activity/mine/$"))
    expect(tabs.get_by_role("link", name="My notes")).to_have_attribute("aria-current", "page")
    tabs.get_by_role("link", name="Following").click()
    expect(page.get_by_role("heading", name="Following", level=1)).to_be_visible()

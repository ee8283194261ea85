"""Content-Security-Policy: nonces, no unsafe-inline/eval, nothing inline that needs them, and
htmx configured to stay on its own origin."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.hardening import (
    ENDPOINTS,
    USERS,
    Endpoint,
    World,
    seeded_world,
    statuses,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


class Elements(HTMLParser):
    """Every start tag of a document with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def _viewer(ep: Endpoint) -> str:
    """Someone who gets the endpoint's content (200), preferring alice."""
    for user in ("alice", "staff", "carol", "anonymous"):
        if 200 in statuses(ep.expect[user]):
            return user
    raise AssertionError(f"nobody sees {ep.name}")


PAGES = [e for e in ENDPOINTS if e.page]
HTML = [
    e
    for e in ENDPOINTS
    if e.method == "GET"
    and "export" not in e.name
    and any(200 in statuses(e.expect[u]) for u in USERS)
]
POSTS = [e for e in ENDPOINTS if e.method == "POST" and e.htmx]


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("ep", PAGES, ids=lambda e: e.id)
def test_page_has_a_strict_policy(world: World, ep: Endpoint):
    response = ep.call(world.client(_viewer(ep)), world)
    assert response.status_code == 200
    policy = _policy(response)
    header = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header
    assert "*" not in header
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert [v for v in policy["script-src"] if v.startswith("'nonce-")]
    assert [v for v in policy["style-src"] if v.startswith("'nonce-")]


@pytest.mark.parametrize("ep", PAGES, ids=lambda e: e.id)
def test_every_script_and_style_carries_the_nonce(world: World, ep: Endpoint):
    response = ep.call(world.client(_viewer(ep)), world)
    (nonce,) = re.findall(r"'nonce-([^']+)'", _policy(response)["script-src"][-1])
    tags = [(t, a) for t, a in elements(response.content.decode()) if t in ("script", "style")]
    assert tags, "a page without scripts: htmx is missing"
    assert [(t, a) for t, a in tags if a.get("nonce") != nonce] == []


def test_nonce_changes_with_every_response(world: World):
    client = world.client("alice")
    first = client.get("/activity/").headers["Content-Security-Policy"]
    second = client.get("/activity/").headers["Content-Security-Policy"]
    assert first != second


@pytest.mark.parametrize("ep", HTML + POSTS, ids=lambda e: e.id)
def test_nothing_inline_needs_unsafe_inline_or_eval(world: World, ep: Endpoint):
    """No style="" attributes, on* handlers, hx-on, js: values or javascript: URLs, in pages
    and in the fragments htmx swaps into them."""
    response = ep.call(world.client(_viewer(ep)), world)
    html = response.content.decode()
    offending = []
    for tag, attrs in elements(html):
        for name, value in attrs.items():
            if (
                name == "style"
                or name.startswith("on")
                or name.startswith(("hx-on", "data-hx-on"))
                or (name.startswith(("hx-", "data-hx-")) and value.strip().startswith("js:"))
                or value.strip().lower().startswith("javascript:")
            ):
                offending.append((tag, name, value[:60]))
    assert offending == []


@pytest.mark.parametrize("ep", PAGES, ids=lambda e: e.id)
def test_htmx_is_configured_for_its_own_origin_only(world: World, ep: Endpoint):
    response = ep.call(world.client(_viewer(ep)), world)
    metas = [a for t, a in elements(response.content.decode()) if t == "meta"]
    (config,) = [json.loads(a["content"]) for a in metas if a.get("name") == "htmx-config"]
    assert config["selfRequestsOnly"] is True
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config.get("includeIndicatorStyles") is False  # its inline <style> has no nonce


@pytest.mark.parametrize("ep", PAGES, ids=lambda e: e.id)
def test_htmx_comes_from_this_site(world: World, ep: Endpoint):
    response = ep.call(world.client(_viewer(ep)), world)
    sources = [a.get("src", "") for t, a in elements(response.content.decode()) if t == "script"]
    assert any("htmx" in s for s in sources)
    assert [s for s in sources if s and not s.startswith("/static/")] == []


def test_responses_refuse_framing_and_sniffing(world: World):
    response = world.client("alice").get("/activity/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

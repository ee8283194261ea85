"""Hostile input: random and malformed values for every query parameter, cursor, path part
and form field of every endpoint. Never a 500, bounded responses, errors that say what is
wrong."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from django.test import override_settings
from hypothesis import example, given
from hypothesis import strategies as st

from tests.hardening import (
    ENDPOINTS,
    USERS,
    Endpoint,
    World,
    b64,
    property_settings,
    seeded_world,
    statuses,
)
from tests.test_csp import elements

pytestmark = pytest.mark.django_db

MAX_BODY = 1_000_000  # bytes: a page of 25 entries is far below; echoing input must not grow it
HOSTILE = property_settings(50)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


STAMPS = [
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "2025-01-01T00:00:00",  # naive
    "2025-02-30T00:00:00+00:00",
    "2025-06-01T12:00:00+00:00",
    "nonsense",
    "",
]
cursor_like = st.one_of(
    st.builds(
        lambda stamp, number: b64(f"{stamp}|{number}"),
        st.sampled_from(STAMPS),
        st.one_of(st.integers(-(2**70), 2**70), st.sampled_from(["", "x", "1|2", "٣"])),
    ),
    st.builds(b64, st.text(max_size=80)),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=80
    ),
)
WEIRD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "2025-02-30",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2025-06-01T25:61",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE actstream_action; --',
    "demo.task",
    "demo.",
    ".",
    "auth.user",
    "actstream.action",
    "activityui.readmarker",
    "\u202eevil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "x" * 5000,
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "team",
    "following",
    "staff",
]
text_value = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
value = st.one_of(st.sampled_from(WEIRD), text_value, cursor_like)
EXTRA_KEYS = ["page", "size", "format", "feed", "cursor", "seen", "next", "zzz", "q[]"]


def _viewer(ep: Endpoint) -> str:
    """Someone the endpoint does its work for (not a redirect to sign-in, 403 or 404)."""
    if ep.expect["anonymous"] != 302:
        return "anonymous"
    for user in ("alice", "staff", "carol"):
        if not set(statuses(ep.expect[user])) & {403, 404}:
            return user
    raise AssertionError(f"nobody may use {ep.name}")


def _field_names(world: World, ep: Endpoint, user: str) -> list[str]:
    """The endpoint's declared parameters, plus every field of every form its page shows."""
    names = set(ep.params)
    if ep.method == "GET":
        response = ep.call(world.client(user), world)
        if response.get("Content-Type", "").startswith("text/html"):
            for tag, attrs in elements(response.content.decode()):
                if tag in ("input", "select", "textarea") and attrs.get("name"):
                    names.add(attrs["name"])
    names.discard("csrfmiddlewaretoken")
    return sorted(names | {"before", "after"} if ep.method == "GET" else names)


def _check(response, ep: Endpoint) -> None:
    assert response.status_code < 500, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert len(body) < MAX_BODY
    if response.status_code == 400:
        # a clear error: a short message or a page that names the problem
        assert body.strip(), "an empty 400"
    location = response.get("Location", "")
    if location:
        parts = urlsplit(location)
        assert not parts.netloc and not location.startswith(("//", "/\\")), location


TARGETS = [e for e in ENDPOINTS if e.fuzz and (e.params or e.method == "POST")]


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
@pytest.mark.parametrize("ep", TARGETS, ids=lambda e: e.id)
def test_hostile_parameters_never_break_an_endpoint(world: World, ep: Endpoint):
    user = _viewer(ep)
    names = _field_names(world, ep, user)
    client = world.client(user)
    params = st.dictionaries(
        st.sampled_from(names + EXTRA_KEYS), st.lists(value, min_size=1, max_size=3), max_size=6
    )

    @HOSTILE
    @given(params=params, htmx=st.booleans())
    @example(params={"before": [b64("0001-01-01T00:00:00+14:00|1")]}, htmx=False)
    @example(params={"after": [b64("9999-12-31T23:59:59-14:00|1")]}, htmx=True)
    @example(params={"since": ["0001-01-01"], "until": ["9999-12-31"]}, htmx=False)
    @example(params={"q": ["\x00"], "actor": ["\x00"]}, htmx=False)
    @example(params={"verb": ["\x00"], "object_type": ["\x00"], "feed": ["\x00"]}, htmx=False)
    @example(params={"next": ["//evil.example/"], "cursor": ["\x00"]}, htmx=False)
    def run(params: dict[str, list[str]], htmx: bool) -> None:
        headers = dict(ep.headers)
        if htmx or ep.htmx:
            headers["HX-Request"] = "true"
        url = ep.path(world)
        if ep.method == "POST":
            data = ep.data(world) if ep.data else {}
            data.update(params)
            response = client.post(url, data, headers=headers)
        else:
            response = client.get(url, params, headers=headers)
        _check(response, ep)

    run()


path_part = st.one_of(
    st.sampled_from(WEIRD[:-4]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/?#"), max_size=60),
)


@pytest.mark.parametrize(
    ("prefix", "user"),
    [
        ("/activity/objects/", "alice"),
        ("/activity/objects/", "staff"),
        ("/activity/follow/", "alice"),
    ],
)
def test_hostile_object_paths_are_404(world: World, prefix: str, user: str):
    client = world.client(user)
    method = client.post if "follow" in prefix else client.get

    @HOSTILE
    @given(key=path_part, object_id=path_part)
    @example(key="demo.task", object_id="99999999999999999999999999")
    @example(key="demo.task", object_id="-1")
    @example(key="demo.task", object_id="1.5")
    @example(key="auth.user", object_id="\x00")
    @example(key="sessions.session", object_id="a\x00b")  # a text primary key
    @example(key="a\x00.b", object_id="1")
    @example(key="actstream.action", object_id="1")
    @example(key="activityui.readmarker", object_id="1")
    @example(key="contenttypes.contenttype", object_id="1")
    def run(key: str, object_id: str) -> None:
        response = method(f"{prefix}{quote(key, safe='')}/{quote(object_id, safe='')}/")
        _check(response, Endpoint("path", lambda w: "", {}))
        assert response.status_code in (200, 302, 400, 404)

    run()


@pytest.mark.parametrize("user", [u for u in USERS if u != "anonymous"])
def test_staff_action_ids_out_of_range_are_404(world: World, user: str):
    client = world.client(user)
    for pk in ("0", "9223372036854775807", "9223372036854775808", "9" * 40):
        response = client.get(f"/activity/staff/actions/{pk}/")
        assert response.status_code == (404 if user == "staff" else 403)


def test_invalid_filter_says_which(world: World):
    response = world.client("alice").get("/activity/", {"since": "2025-02-30"})
    assert response.status_code in (200, 400)
    assert "valid date" in response.content.decode()


def test_invalid_cursor_is_a_400_that_says_so(world: World):
    response = world.client("alice").get("/activity/", {"before": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.content.decode()

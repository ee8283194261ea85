"""Visibility on every path: the access matrix, no leak of team Apollo to carol, CSRF,
read-only GETs, and actstream's own views left unmounted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from actstream.models import Action, Follow
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from activityui.models import ReadMarker
from tests.hardening import (
    ENDPOINTS,
    USERS,
    Endpoint,
    World,
    apollo_leaks,
    response_text,
    seeded_world,
    statuses,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


ROOT = Path(__file__).resolve().parent.parent
GETS = [e for e in ENDPOINTS if e.method == "GET"]
POSTS = [e for e in ENDPOINTS if e.method == "POST"]
# carol's requests that try to reach Apollo through filters and cursors
CAROL_PROBES = [
    "q=Apollo",
    "q=Payments",
    "actor=alice",
    "actor=bob",
    "object_type=demo.task",
    "object_type=demo.team",
    "verb=joined",
    "before={apollo}",
    "after={old}",
    "after={apollo}",
]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.id)
def test_access_matrix(world: World, ep: Endpoint, user: str):
    response = ep.call(world.client(user), world)
    assert response.status_code in statuses(ep.expect[user]), (
        f"{ep.method} {ep.url(world)} as {user}: {response.status_code}"
    )
    # every response, errors and redirects included, carries the strict policy
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize(
    "ep",
    [
        e
        for e in ENDPOINTS
        if e.expect["anonymous"] == 302 and e.name not in {"logout", "login-post", "admin"}
    ],
    ids=lambda e: e.id,
)
def test_anonymous_is_sent_to_login(world: World, ep: Endpoint):
    response = ep.call(world.client("anonymous"), world)
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(
    "ep", [e for e in ENDPOINTS if e.expect["anonymous"] == 204], ids=lambda e: e.id
)
def test_signed_out_htmx_request_sends_the_window_to_sign_in(world: World, ep: Endpoint):
    """Not the sign-in page swapped into a banner: htmx loads it in the whole window and
    comes back to the page the user was on."""
    response = ep.call(
        world.client("anonymous"), world, headers={"HX-Current-URL": "http://testserver/x/?a=1"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/x/%3Fa%3D1"
    assert response.content == b""


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.id)
def test_carol_sees_nothing_of_apollo(world: World, ep: Endpoint):
    client = world.client("carol")
    found = {}
    probes = CAROL_PROBES if ep.fuzz and ep.params and ep.method == "GET" else []
    for probe in ["", *probes]:
        query = probe.format(old=world.old_cursor, apollo=world.apollo_cursor)
        response = ep.call(client, world, query=query)
        leaks = apollo_leaks(response_text(response), world, asked=ep.url(world, query))
        if leaks:
            found[query] = leaks
    assert found == {}


def test_leak_scan_finds_apollo_in_alices_feed(world: World):
    """The scan itself works: alice's feed is full of Apollo."""
    response = world.client("alice").get("/activity/")
    leaks = apollo_leaks(response_text(response), world)
    assert "Apollo" in leaks
    assert any("aui-action" in leak for leak in leaks)


def _counts() -> tuple[int, int, int]:
    return Action.objects.count(), Follow.objects.count(), ReadMarker.objects.count()


@pytest.mark.parametrize("ep", GETS, ids=lambda e: e.id)
def test_get_changes_nothing(world: World, ep: Endpoint):
    before = _counts()
    audited = Action.objects.filter(verb="exported").count()
    for user in USERS:
        ep.call(world.client(user), world)
        ep.call(world.client(user), world, headers={"HX-Request": "true"})
    # the one write a GET may make: an export leaves its audit record (staff only, twice here)
    exports = Action.objects.filter(verb="exported").count() - audited
    assert exports == (2 if "export" in ep.name else 0)
    actions, follows, markers = _counts()
    assert (actions - exports, follows, markers) == before


@pytest.mark.parametrize("ep", [e for e in POSTS if e.name != "login-post"], ids=lambda e: e.id)
def test_post_without_csrf_token_is_rejected(world: World, ep: Endpoint):
    allowed = next(u for u in ("alice", "carol", "staff") if ep.expect[u] not in (403, 404))
    before = _counts()
    response = ep.call(world.client(allowed, enforce_csrf_checks=True), world)
    assert response.status_code == 403
    assert _counts() == before


@pytest.mark.parametrize("ep", [e for e in POSTS if e.name != "login-post"], ids=lambda e: e.id)
def test_post_endpoints_refuse_get(world: World, ep: Endpoint):
    response = world.client("alice").get(ep.url(world))
    assert response.status_code in (404, 405)


def test_login_ignores_an_outside_next(world: World):
    response = world.client("anonymous").post(
        "/login/",
        {"username": "alice", "password": "demo", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


# --------------------------------------------------------------------------- coverage


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            found += _patterns(pattern, prefix + namespace)
        elif isinstance(pattern, URLPattern):
            found.append((prefix + (pattern.name or ""), str(pattern.pattern)))
    return found


def test_matrix_covers_every_url(world: World):
    covered = set()
    for ep in ENDPOINTS:
        try:
            match = resolve(ep.path(world))
        except Resolver404:
            continue
        covered.add(match.view_name)
    missing = [(name, route) for name, route in _patterns(get_resolver()) if name not in covered]
    assert missing == []


# --------------------------------------------------------------------------- actstream


def _urlconf_modules(resolver: URLResolver) -> set[str]:
    modules = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            name = getattr(pattern.urlconf_module, "__name__", str(pattern.urlconf_name))
            modules.add(name)
            modules |= _urlconf_modules(pattern)
        else:
            modules.add(getattr(pattern.callback, "__module__", ""))
    return modules


def test_actstream_views_are_not_mounted():
    modules = _urlconf_modules(get_resolver())
    assert not [m for m in modules if m.startswith("actstream")]


def test_actstream_urls_are_not_included_in_the_source():
    sources = [*ROOT.glob("activityui/**/*.py"), *ROOT.glob("demo_site/**/*.py")]
    assert [str(p) for p in sources if "actstream.urls" in p.read_text()] == []


@pytest.mark.parametrize(
    "path",
    [
        # actstream's routes under the app's mount point: follow by GET without CSRF,
        # open follower lists, user and object streams
        "/activity/follow/{ct}/{pk}/",
        "/activity/follow_all/{ct}/{pk}/",
        "/activity/unfollow/{ct}/{pk}/",
        "/activity/unfollow_all/{ct}/{pk}/",
        "/activity/followers/{ct}/{pk}/",
        "/activity/following/{user}/",
        "/activity/actors/{ct}/{pk}/",
        "/activity/detail/{action}/",
        "/activity/feed/",
        "/activity/{ct}/{pk}/",
        "/activity/alice/",
    ],
)
def test_actstream_routes_are_absent(world: World, path: str):
    from django.contrib.contenttypes.models import ContentType

    url = path.format(
        ct=ContentType.objects.get_for_model(type(world.apollo_project)).pk,
        pk=world.apollo_project.pk,
        user=world.users["alice"].pk,
        action=min(world.apollo_action_ids),
    )
    before = _counts()
    response = world.client("carol").get(url + "?next=https://evil.example/")
    assert response.status_code in (404, 405)
    assert _counts() == before


# --------------------------------------------------------------------------- edge paths


def test_a_stale_follow_reveals_nothing(world: World):
    """carol follows an Apollo project (say she left the team): her following feed, its
    polls and her unread counts show nothing of Apollo."""
    from django.contrib.contenttypes.models import ContentType

    Follow.objects.create(
        user=world.users["carol"],
        content_type=ContentType.objects.get_for_model(type(world.apollo_project)),
        object_id=str(world.apollo_project.pk),
        flag="",
        actor_only=False,
    )
    client = world.client("carol")
    for url, headers in [
        ("/activity/following/", {}),
        (f"/activity/following/?after={world.old_cursor}", {"HX-Request": "true"}),
        (
            f"/activity/following/?after={world.old_cursor}",
            {"HX-Request": "true", "HX-Target": "feed-banner"},
        ),
        ("/", {}),
    ]:
        response = client.get(url, headers=headers)
        assert apollo_leaks(response_text(response), world, asked=url) == [], url


def test_private_actions_stay_with_their_actor(world: World):
    import activityui

    task = world.apollo_task
    secret = "private note 7f3a"
    private = activityui.record(
        world.users["alice"], "commented", task, task.project, public=False, comment=secret
    )
    bob = world.client("anonymous")
    bob.force_login(world.users["bob"])
    alice = world.client("alice")
    urls = [
        "/activity/",
        f"/activity/?after={world.old_cursor}",
        f"/activity/objects/demo.task/{task.pk}/",
        f"/activity/objects/demo.project/{task.project.pk}/",
        "/",
    ]
    for url in urls:
        text = response_text(bob.get(url, headers={"HX-Request": "true"}))
        assert secret not in text and f"aui-action-{private.pk}" not in text, url
    assert secret in alice.get("/activity/").content.decode()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_are_private_downloads(world: World, fmt: str):
    response = world.client("staff").get(f"/activity/staff/export.{fmt}", {"q": '"; x=<y>'})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(
        r'attachment; filename="activity-[0-9-]+\.(csv|jsonl)"', response["Content-Disposition"]
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/activity/objects/demo.task/{pk}/"),
        ("post", "/activity/follow/demo.task/{pk}/"),
        ("get", "/tasks/{pk}/"),
    ],
)
def test_hidden_reads_exactly_like_missing(world: World, method: str, path: str):
    """carol cannot tell an Apollo task from a task that does not exist."""
    client = world.client("carol")
    hidden = getattr(client, method)(path.format(pk=world.apollo_task.pk))
    missing = getattr(client, method)(path.format(pk=10**9))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content

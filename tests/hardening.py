"""Shared machinery of the hardening tests: the seeded world, the endpoint table, leak scans.

Adding an endpoint to every security test (access matrix, leak scan, CSP, CSRF, hostile
input) is one line in :data:`ENDPOINTS`. ``test_security`` fails when a URL pattern of the
demo site or of activityui is missing from the table.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote_plus

from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, settings

from activityui.cursors import InvalidCursor, decode_cursor, encode_cursor

USERS = ("anonymous", "alice", "carol", "staff")
# query parameters every activity list understands (design.md: filters and cursors)
LIST_PARAMS = ("verb", "actor", "object_type", "since", "until", "q", "before", "after")


@dataclass
class World:
    """The seeded demo, and what carol must never learn about team Apollo."""

    users: dict[str, Any]
    apollo_team: Any
    zephyr_team: Any
    apollo_project: Any
    zephyr_project: Any
    apollo_task: Any
    zephyr_task: Any
    apollo_comment_task: Any
    apollo_labels: list[str] = field(default_factory=list)
    apollo_action_ids: set[int] = field(default_factory=set)
    apollo_patterns: list[re.Pattern[str]] = field(default_factory=list)
    old_cursor: str = ""
    apollo_cursor: str = ""
    # the newest status change of an Apollo task (its task's latest: a restore needs no asking)
    apollo_change_id: int = 0
    apollo_change_cursor: str = ""
    apollo_change_task_pk: int = 0

    def client(self, username: str, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        if username != "anonymous":
            client.force_login(self.users[username])
        return client


def build_world() -> World:
    from demo_site.demo import seed
    from demo_site.demo.models import Project, Task, Team

    seed.seed(tasks=20)
    users = {u.username: u for u in get_user_model().objects.all()}
    apollo = Team.objects.get(name="Apollo")
    zephyr = Team.objects.get(name="Zephyr")
    apollo_projects = list(Project.objects.filter(team=apollo))
    apollo_tasks = list(Task.objects.filter(project__team=apollo))
    zephyr_titles = set(Task.objects.filter(project__team=zephyr).values_list("title", flat=True))
    labels = ["Apollo", *(p.name for p in apollo_projects)]
    labels += sorted({t.title for t in apollo_tasks} - zephyr_titles)
    labels += [p.description for p in apollo_projects if p.description]
    refs: set[tuple[int, str]] = set()
    patterns = []
    for model, objects, url in (
        (Team, [apollo], None),
        (Project, apollo_projects, "projects"),
        (Task, apollo_tasks, "tasks"),
    ):
        content_type = ContentType.objects.get_for_model(model)
        key = f"{content_type.app_label}\\.{content_type.model}"
        for obj in objects:
            refs.add((content_type.pk, str(obj.pk)))
            patterns.append(re.compile(rf"{key}/{obj.pk}\b"))
            if url:
                patterns.append(re.compile(rf"/{url}/{obj.pk}/"))
    apollo_actions = [
        a
        for a in Action.objects.order_by("timestamp", "id")
        if (a.target_content_type_id, a.target_object_id) in refs
        or (a.action_object_content_type_id, a.action_object_object_id) in refs
    ]
    ids = {a.pk for a in apollo_actions}
    alternatives = "|".join(map(str, sorted(ids)))
    patterns.append(re.compile(rf"aui-action-({alternatives})\b"))
    oldest = Action.objects.order_by("timestamp", "id").first()
    task_type = ContentType.objects.get_for_model(Task).pk
    change = next(
        a
        for a in reversed(apollo_actions)
        if a.action_object_content_type_id == task_type and "status" in a.data.get("changes", {})
    )
    commented = Action.objects.filter(verb="commented").values_list(
        "action_object_object_id", flat=True
    )
    return World(
        users=users,
        apollo_team=apollo,
        zephyr_team=zephyr,
        apollo_project=apollo_projects[0],
        zephyr_project=Project.objects.filter(team=zephyr).first(),
        apollo_task=apollo_tasks[0],
        zephyr_task=Task.objects.filter(project__team=zephyr).first(),
        apollo_comment_task=Task.objects.filter(pk__in=list(commented), project__team=apollo)
        .order_by("pk")
        .first(),
        apollo_labels=labels,
        apollo_action_ids=ids,
        apollo_patterns=patterns,
        old_cursor=encode_cursor(oldest.timestamp, oldest.pk),
        apollo_cursor=encode_cursor(apollo_actions[-1].timestamp, apollo_actions[-1].pk),
        apollo_change_id=change.pk,
        apollo_change_cursor=encode_cursor(change.timestamp, change.pk),
        apollo_change_task_pk=int(change.action_object_object_id),
    )


def seeded_world(django_db_blocker: Any) -> Iterator[World]:
    """The seeded demo for a module-scoped ``world`` fixture: built once per module inside a
    transaction rolled back at the end (each test still runs in its own rolled-back savepoint
    through the ``db`` fixture)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# --------------------------------------------------------------------------- endpoints

Status = int | tuple[int, ...]


@dataclass(frozen=True)
class Endpoint:
    """One URL of the site, how to call it, and what each user gets."""

    name: str
    path: Callable[[World], str]
    expect: dict[str, Status]  # by user in USERS
    method: str = "GET"
    htmx: bool = False
    params: tuple[str, ...] = ()  # query parameters (GET) or form fields (POST)
    data: Callable[[World], dict[str, str]] | None = None
    page: bool = False  # a full HTML page (CSP, a11y)
    # format fields: {old} (oldest action's cursor), {apollo} (an Apollo one), {change} (an
    # Apollo task's status change)
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    fuzz: bool = True  # False for a variant whose view another entry already fuzzes

    @property
    def id(self) -> str:
        return self.name

    def url(self, world: World, query: str = "") -> str:
        """The URL, with ``query`` (already formatted) added to the endpoint's own."""
        path = self.path(world)
        own = self.query.format(
            old=world.old_cursor, apollo=world.apollo_cursor, change=world.apollo_change_cursor
        )
        query = "&".join(q for q in (own, query) if q)
        return f"{path}?{query}" if query else path

    def call(self, client: Client, world: World, query: str = "", **extra: Any) -> HttpResponse:
        headers = {"HX-Request": "true"} if self.htmx else {}
        headers.update(self.headers)
        headers.update(extra.pop("headers", {}))
        if self.method == "POST":
            data = self.data(world) if self.data else {}
            data.update(extra.pop("data", {}))
            return client.post(self.url(world, query), data, headers=headers, **extra)
        return client.get(self.url(world, query), headers=headers, **extra)


def _all(status: Status) -> dict[str, Status]:
    return dict.fromkeys(USERS, status)


def _signed_in(status: Status, anonymous: Status = 302) -> dict[str, Status]:
    return {"anonymous": anonymous, "alice": status, "carol": status, "staff": status}


def _apollo(ok: Status) -> dict[str, Status]:
    """Only members of team Apollo (alice) may see it: 404 for the others."""
    return {"anonymous": 302, "alice": ok, "carol": 404, "staff": 404}


def _zephyr(ok: Status) -> dict[str, Status]:
    return {"anonymous": 302, "alice": 404, "carol": ok, "staff": 404}


def _apollo_history(ok: Status) -> dict[str, Status]:
    """An Apollo object's timeline: its members and staff (view_all_activity) only."""
    return {"anonymous": 302, "alice": ok, "carol": 404, "staff": ok}


def _staff_only(ok: Status) -> dict[str, Status]:
    return {"anonymous": 302, "alice": 403, "carol": 403, "staff": ok}


def _timeline(key: str, attr: str) -> Callable[[World], str]:
    return lambda w: f"/activity/objects/{key}/{getattr(w, attr).pk}/"


def _follow(key: str, attr: str) -> Callable[[World], str]:
    return lambda w: f"/activity/follow/{key}/{getattr(w, attr).pk}/"


def _history(view: str) -> Callable[[World], str]:
    return lambda w: f"/activity/objects/demo.task/{w.apollo_change_task_pk}/{view}/"


FEED = "/activity/"
FOLLOWING = "/activity/following/"

# fmt: off
ENDPOINTS: list[Endpoint] = [
    # --- demo site
    Endpoint("login", lambda w: "/login/", {**_all(302), "anonymous": 200}, page=True),
    Endpoint("login-post", lambda w: "/login/", _all((200, 302)), method="POST",
             params=("username", "password", "next"),
             data=lambda w: {"username": "nobody", "password": "x"}),
    Endpoint("logout", lambda w: "/logout/", _all(302), method="POST", fuzz=False),
    Endpoint("dashboard", lambda w: "/", _signed_in(200), page=True),
    Endpoint("project-list", lambda w: "/projects/", _signed_in(200), page=True),
    Endpoint("project-apollo", lambda w: f"/projects/{w.apollo_project.pk}/", _apollo(200),
             page=True),
    Endpoint("project-zephyr", lambda w: f"/projects/{w.zephyr_project.pk}/", _zephyr(200)),
    Endpoint("task-apollo", lambda w: f"/tasks/{w.apollo_comment_task.pk}/", _apollo(200),
             page=True),
    Endpoint("task-zephyr", lambda w: f"/tasks/{w.zephyr_task.pk}/", _zephyr(200)),
    Endpoint("task-status", lambda w: f"/tasks/{w.apollo_task.pk}/status/", _apollo(302),
             method="POST", params=("status",), data=lambda w: {"status": "review"}),
    Endpoint("task-status-htmx", lambda w: f"/tasks/{w.apollo_task.pk}/status/",
             _apollo(200), method="POST", htmx=True, params=("status",),
             data=lambda w: {"status": "done"}, fuzz=False),
    Endpoint("task-comment", lambda w: f"/tasks/{w.apollo_task.pk}/comments/", _apollo(302),
             method="POST", params=("body",), data=lambda w: {"body": "Hello"}),
    Endpoint("task-comment-htmx", lambda w: f"/tasks/{w.apollo_task.pk}/comments/",
             _apollo(200), method="POST", htmx=True, params=("body",),
             data=lambda w: {"body": "Hello"}, fuzz=False),
    Endpoint("admin", lambda w: "/admin/", {**_all(302), "staff": 200}),
    # --- activityui: feeds
    Endpoint("feed", lambda w: FEED, _signed_in(200), params=LIST_PARAMS, page=True),
    Endpoint("feed-fragment", lambda w: FEED, _signed_in(200), htmx=True, params=LIST_PARAMS,
             fuzz=False),
    Endpoint("feed-more", lambda w: FEED, _signed_in(200), htmx=True, params=LIST_PARAMS,
             query="before={apollo}", fuzz=False),
    Endpoint("following", lambda w: FOLLOWING, _signed_in(200), params=LIST_PARAMS,
             page=True),
    # every registered feed at /activity/<name>/ (the default one too)
    Endpoint("feed-named", lambda w: "/activity/team/", _signed_in(200), params=LIST_PARAMS,
             page=True),
    Endpoint("following-fragment", lambda w: FOLLOWING, _signed_in(200), htmx=True,
             params=LIST_PARAMS, fuzz=False),
    Endpoint("feed-poll", lambda w: FEED, {**_signed_in(200), "staff": 204}, htmx=True,
             params=LIST_PARAMS, query="after={old}", headers=(("HX-Target", "feed-banner"),)),
    Endpoint("feed-new", lambda w: FEED, _signed_in((200, 204)), htmx=True,
             params=LIST_PARAMS, query="after={old}"),
    Endpoint("following-poll", lambda w: FOLLOWING, _signed_in((200, 204)), htmx=True,
             params=LIST_PARAMS, query="after={old}", headers=(("HX-Target", "feed-banner"),),
             fuzz=False),
    Endpoint("mark-read", lambda w: "/activity/read/", _all(302), method="POST",
             params=("feed", "cursor"), data=lambda w: {"feed": "team", "cursor": w.old_cursor}),
    Endpoint("mark-read-htmx", lambda w: "/activity/read/", _signed_in(200), method="POST",
             htmx=True, params=("feed", "cursor"),
             data=lambda w: {"feed": "following", "cursor": w.old_cursor}, fuzz=False),
    Endpoint("follow-apollo", _follow("demo.project", "apollo_project"), _apollo(302),
             method="POST", params=("next",)),
    Endpoint("follow-apollo-htmx", _follow("demo.task", "apollo_task"), _apollo(200),
             method="POST", htmx=True, params=("next",), fuzz=False),
    Endpoint("follow-zephyr", _follow("demo.project", "zephyr_project"), _zephyr(302),
             method="POST", params=("next",), fuzz=False),
    # --- activityui: object timelines
    Endpoint("timeline-task", _timeline("demo.task", "apollo_comment_task"),
             _apollo_history(200), params=LIST_PARAMS, page=True),
    Endpoint("timeline-task-fragment", _timeline("demo.task", "apollo_comment_task"),
             _apollo_history(200), htmx=True, params=LIST_PARAMS,
             headers=(("HX-Target", "timeline-items"),)),
    Endpoint("timeline-task-embedded", _timeline("demo.task", "apollo_comment_task"),
             _apollo_history(200), htmx=True, params=LIST_PARAMS,
             headers=(("HX-Current-URL", "http://testserver/tasks/1/"),), fuzz=False),
    Endpoint("timeline-task-more", _timeline("demo.task", "apollo_task"),
             _apollo_history(200), htmx=True, params=LIST_PARAMS, query="before={apollo}",
             fuzz=False),
    Endpoint("timeline-project", _timeline("demo.project", "apollo_project"),
             _apollo_history(200), params=LIST_PARAMS, fuzz=False),
    Endpoint("timeline-team", _timeline("demo.team", "apollo_team"), _apollo_history(200),
             params=LIST_PARAMS, fuzz=False),
    Endpoint("timeline-user", lambda w: f"/activity/objects/auth.user/{w.users['bob'].pk}/",
             _apollo_history(200), params=LIST_PARAMS, fuzz=False),
    Endpoint("timeline-zephyr", _timeline("demo.project", "zephyr_project"),
             {"anonymous": 302, "alice": 404, "carol": 200, "staff": 200}, params=LIST_PARAMS,
             fuzz=False),
    Endpoint("timeline-missing", lambda w: "/activity/objects/demo.task/999999/",
             {**_signed_in(404)}),
    # staff read any history, not any row: a model without a visibility rule and no history
    Endpoint("timeline-unregistered-type", lambda w: "/activity/objects/auth.permission/1/",
             _signed_in(404)),
    Endpoint("timeline-no-such-type", lambda w: "/activity/objects/demo.nothing/1/",
             _signed_in(404)),
    # --- activityui: object history (as of, compare, restore)
    Endpoint("history-as-of", _history("as-of"), _apollo_history(200), params=("as_of",),
             query="as_of={change}", page=True),
    Endpoint("history-as-of-htmx", _history("as-of"), _apollo_history(200), htmx=True,
             params=("as_of",), query="as_of={change}", headers=(("HX-Target", "timeline"),),
             fuzz=False),
    Endpoint("history-compare", _history("compare"), _apollo_history(200),
             params=("from", "to"), query="from={change}&to=now", page=True),
    # staff may read the history but not change the task: 403
    Endpoint("history-restore", _history("restore"),
             {"anonymous": 302, "alice": 303, "carol": 404, "staff": 403}, method="POST",
             data=lambda w: {"action": str(w.apollo_change_id), "field": "status"},
             params=("action", "field", "expected", "next")),
    Endpoint("history-restore-htmx", _history("restore"),
             {"anonymous": 302, "alice": 200, "carol": 404, "staff": 403}, method="POST",
             htmx=True, data=lambda w: {"action": str(w.apollo_change_id), "field": "status"},
             headers=(("HX-Target", "timeline"),), fuzz=False),
    Endpoint("history-missing", lambda w: "/activity/objects/demo.task/999999/as-of/",
             _signed_in(404), query="as_of={change}"),
    # --- activityui: staff console
    Endpoint("staff", lambda w: "/activity/staff/", _staff_only(200), params=LIST_PARAMS,
             page=True),
    Endpoint("staff-fragment", lambda w: "/activity/staff/", _staff_only(200), htmx=True,
             params=LIST_PARAMS, fuzz=False),
    Endpoint("staff-more", lambda w: "/activity/staff/", _staff_only(200), htmx=True,
             params=LIST_PARAMS, query="before={apollo}", fuzz=False),
    Endpoint("staff-export-csv", lambda w: "/activity/staff/export.csv", _staff_only(200),
             params=LIST_PARAMS),
    Endpoint("staff-export-json", lambda w: "/activity/staff/export.json", _staff_only(200),
             params=LIST_PARAMS),
    Endpoint("staff-chart", lambda w: "/activity/staff/chart/", _staff_only(200),
             params=LIST_PARAMS, page=True),
    Endpoint("staff-chart-fragment", lambda w: "/activity/staff/chart/", _staff_only(200),
             htmx=True, params=LIST_PARAMS, fuzz=False),
    Endpoint("staff-action", lambda w: f"/activity/staff/actions/{min(w.apollo_action_ids)}/",
             _staff_only(200), page=True),
    Endpoint("staff-action-panel",
             lambda w: f"/activity/staff/actions/{min(w.apollo_action_ids)}/",
             _staff_only(200), htmx=True, fuzz=False),
]
# fmt: on
# a signed-out htmx request of activityui gets a whole-window redirect to sign in (HX-Redirect)
ENDPOINTS = [
    replace(e, expect={**e.expect, "anonymous": 204})
    if e.htmx and not e.name.startswith("task-")
    else e
    for e in ENDPOINTS
]


def endpoint(name: str) -> Endpoint:
    return next(e for e in ENDPOINTS if e.name == name)


def statuses(expected: Status) -> tuple[int, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


# --------------------------------------------------------------------------- leak scan

_TOKEN = re.compile(r"[A-Za-z0-9_-]{24,}")


def response_text(response: HttpResponse) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n" + body.decode("utf-8", "replace")


def apollo_leaks(text: str, world: World, *, asked: str = "") -> list[str]:
    """What of team Apollo ``text`` gives away: labels, object ids, action ids (also inside
    cursors). What the request itself carried (``asked``, e.g. a search for "Apollo" echoed
    in the filter form) is not a leak."""
    asked = unquote_plus(asked)
    found = [label for label in world.apollo_labels if label in text and label not in asked]
    found += [
        p.pattern[:60] for p in world.apollo_patterns if p.search(text) and not p.search(asked)
    ]
    for token in set(_TOKEN.findall(text)) - set(_TOKEN.findall(asked)):
        try:
            cursor = decode_cursor(token)
        except InvalidCursor:
            continue
        if cursor.id in world.apollo_action_ids:
            found.append(f"cursor of action {cursor.id}")
    return found


def property_settings(max_examples: int) -> Any:
    """Hypothesis settings of the hostile-input properties: repeatable examples, no example
    database, no deadline (a request against the seeded world may take a while)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def b64(text: str) -> str:
    """URL-safe base64 without padding: the shape of a cursor, around any text."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

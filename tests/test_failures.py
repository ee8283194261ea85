"""Failures: the database failing during a poll or a page, and concurrent writers.

The database is made to fail with ``connection.execute_wrapper`` (Django's public hook around
every query), not with a mock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from actstream.models import Action
from django.db import OperationalError, connection, transaction
from django.test import Client

import activityui
from activityui.cursors import encode_cursor
from tests.hardening import World, seeded_world

ROOT = Path(__file__).resolve().parent.parent
HX = {"HX-Request": "true"}


@contextmanager
def failing_database(match: str = "") -> Iterator[list[str]]:
    """Every query whose SQL contains ``match`` raises OperationalError, as a dropped
    connection or a failed-over server would."""
    failed: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if match in sql:
            failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield failed


def _client(world: World, user: str = "alice") -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(world.users[user])
    return client


def _newest_cursor() -> str:
    action = Action.objects.order_by("-timestamp", "-id").first()
    return encode_cursor(action.timestamp, action.pk)


def _assert_friendly_error(response) -> None:
    assert response.status_code in (500, 503)
    html = response.content.decode()
    assert "Something went wrong" in html
    for detail in ("Traceback", "OperationalError", "SELECT", "actstream_action"):
        assert detail not in html


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):
    """Class-scoped: torn down after TestDatabaseFailures, before the transactional tests."""
    yield from seeded_world(django_db_blocker)


@pytest.mark.django_db
class TestDatabaseFailures:
    def test_a_page_whose_database_fails_shows_a_friendly_error(self, world: World):
        client = _client(world)
        with failing_database("actstream_action") as failed:
            response = client.get("/activity/")
        assert failed
        _assert_friendly_error(response)
        assert client.get("/activity/").status_code == 200

    def test_a_page_whose_database_is_gone_shows_a_friendly_error(self, world: World):
        client = _client(world)
        with failing_database() as failed:
            response = client.get("/activity/staff/")
        assert failed
        _assert_friendly_error(response)

    def test_a_failed_poll_is_quiet_and_the_next_poll_recovers(self, world: World):
        client = _client(world)
        url = f"/activity/?after={_newest_cursor()}"
        headers = {**HX, "HX-Target": "feed-banner"}
        assert client.get(url, headers=headers).status_code == 204
        task = world.apollo_task
        activityui.record(world.users["bob"], "commented", task, task.project, comment="new")
        with failing_database("actstream_action"):
            failed = client.get(url, headers=headers)
        # an error status: htmx swaps nothing (the page stays as it was), activityui.js backs
        # off and polls again; no error text lands in the banner's live region
        assert failed.status_code >= 500
        assert "HX-Retarget" not in failed and "HX-Reswap" not in failed
        recovered = client.get(url, headers=headers)
        assert recovered.status_code == 200
        assert "1 new" in recovered.content.decode()

    def test_a_failed_load_more_leaves_the_page_and_can_be_retried(self, world: World):
        client = _client(world)
        first = client.get("/activity/").content.decode()
        assert "before=" in first
        url = f"/activity/?before={_newest_cursor()}"
        with failing_database("actstream_action"):
            assert client.get(url, headers=HX).status_code >= 500
        assert client.get(url, headers=HX).status_code == 200

    def test_a_failed_write_records_no_action(self, world: World):
        """A change and its action commit or roll back together (ATOMIC_REQUESTS)."""
        client = _client(world)
        task = world.apollo_task
        before = Action.objects.count(), task.comments.count()
        with failing_database("actstream_action"):
            response = client.post(f"/tasks/{task.pk}/comments/", {"body": "lost"})
        assert response.status_code == 500
        assert (Action.objects.count(), task.comments.count()) == before

    def test_a_failed_follow_changes_nothing(self, world: World):
        from actstream.models import Follow

        client = _client(world)
        before = Follow.objects.count()
        with failing_database("actstream_follow"):
            response = client.post(f"/activity/follow/demo.task/{world.apollo_task.pk}/")
        assert response.status_code >= 500
        assert Follow.objects.count() == before


# --------------------------------------------------------------------------- concurrency

WRITERS = ("alice", "bob")
EACH = 8


def _small_world():
    """Two users of one team, one project, one task (no seed: transactional tests flush)."""
    from django.contrib.auth import get_user_model

    from demo_site.demo.models import Project, Task, Team

    users = {}
    for name in WRITERS:
        user = get_user_model().objects.create(username=name)
        users[name] = user
    team = Team.objects.create(name="Apollo")
    team.members.add(*users.values())
    project = Project.objects.create(team=team, name="Apollo Web")
    task = Task.objects.create(project=project, title="Race")
    return users, task


def _post(client: Client, url: str, data: dict[str, str]) -> int:
    """One post, no retry: a writer waits for the others (SQLite's immediate transactions and
    busy timeout, PostgreSQL's row locks) instead of failing."""
    response = client.post(url, data)
    assert response.status_code == 302, response.status_code
    return response.status_code


def _write(username: str, client: Client, task, errors: list[BaseException]) -> None:
    try:
        for number in range(EACH):
            _post(client, f"/tasks/{task.pk}/comments/", {"body": f"{username}-{number}"})
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)
    finally:
        connection.close()


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _assert_each_write_recorded_once(users, task) -> None:
    comments = Counter(task.comments.values_list("body", flat=True))
    actions = Action.objects.filter(verb="commented")
    recorded = Counter((a.data["comment"], a.actor_object_id) for a in actions)
    expected = {f"{name}-{n}": users[name] for name in WRITERS for n in range(EACH)}
    assert comments == Counter(expected.keys())
    # one action per comment, by the user whose request made it (the actor comes from a
    # context variable: it must not leak between concurrent requests)
    assert recorded == Counter({(body, str(user.pk)): 1 for body, user in expected.items()})


@pytest.mark.django_db(transaction=True)
def test_concurrent_threads_lose_and_duplicate_no_action():
    users, task = _small_world()
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_write, args=(name, _signed_in(users[name]), task, errors))
        for name in WRITERS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    _assert_each_write_recorded_once(users, task)


PROCESS_SCRIPT = """
import os, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from demo_site.demo.models import Task
name = sys.argv[1]
client = Client(raise_request_exception=False)
client.force_login(get_user_model().objects.get(username=name))
task = Task.objects.get(title="Race")
for number in range(int(sys.argv[2])):
    response = client.post(f"/tasks/{task.pk}/comments/", {"body": f"{name}-{number}"})
    assert response.status_code == 302, response.status_code
"""


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":  # the test database is a file (demo_site.settings)
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_processes_lose_and_duplicate_no_action():
    users, task = _small_world()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",
    }
    processes = [
        subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, name, str(EACH)], cwd=ROOT, env=env)
        for name in WRITERS
    ]
    assert [p.wait(timeout=120) for p in processes] == [0] * len(processes)
    with transaction.atomic():
        _assert_each_write_recorded_once(users, task)

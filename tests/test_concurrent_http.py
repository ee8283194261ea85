"""Concurrent writers through HTTP: real clients, a real threaded server, one database.

Eight signed-in sessions post status changes and comments at the same moment to the live
server (each request its own thread and database connection, ATOMIC_REQUESTS as shipped).
On SQLite the demo's settings make writers wait for each other (immediate transactions, a busy
timeout, WAL) instead of failing with "database is locked"; on PostgreSQL row locks do. Every
request must succeed, and every change must be recorded exactly once, by its own actor."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter

from actstream.models import Action
from django.contrib.auth import get_user_model

from demo_site.demo.models import Comment, Project, Task, Team
from tests.live_http import Session

WRITERS = 8
EACH = 10  # requests per writer: 80 in all, half status changes, half comments
STATUSES = ("in_progress", "review", "done", "todo")


def _world() -> tuple[list, dict[str, Task], Task]:
    users = []
    for number in range(WRITERS):
        user = get_user_model()(username=f"writer{number}")
        user.set_password("demo")
        user.save()
        users.append(user)
    team = Team.objects.create(name="Apollo")
    team.members.add(*users)
    project = Project.objects.create(team=team, name="Apollo Web")
    own = {u.username: Task.objects.create(project=project, title=f"{u.username}'s") for u in users}
    shared = Task.objects.create(project=project, title="Shared")
    return users, own, shared


def _write(session: Session, name: str, own: Task, shared: Task, start, results) -> None:
    start.wait(timeout=60)
    for number in range(EACH):
        if number % 2 == 0:
            status = STATUSES[(number // 2) % len(STATUSES)]
            code, _body = session.request("POST", f"/tasks/{own.pk}/status/", {"status": status})
        else:
            body = f"{name}-{number}"
            code, _body = session.request("POST", f"/tasks/{shared.pk}/comments/", {"body": body})
        results.append((name, number, code))


def test_eight_concurrent_writers_through_http_lose_and_duplicate_nothing(live_server):
    users, own, shared = _world()
    Action.objects.all().delete()  # only what the requests record
    sessions = {}
    for user in users:
        sessions[user.username] = Session(live_server.url)
        sessions[user.username].sign_in(user.username)
    Action.objects.filter(verb="signed in").delete()
    start = threading.Barrier(WRITERS)
    results: list[tuple[str, int, int]] = []
    threads = [
        threading.Thread(
            target=_write, args=(sessions[name], name, own[name], shared, start, results)
        )
        for name in sessions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    failed = [r for r in results if r[2] != 302]
    assert len(results) == WRITERS * EACH
    assert failed == [], f"{len(failed)} of {len(results)} requests failed: {failed[:5]}"

    by_name = {u.username: u for u in users}
    comments = Counter(Comment.objects.filter(task=shared).values_list("body", flat=True))
    expected = {f"{n}-{k}" for n in by_name for k in range(EACH) if k % 2}
    assert comments == Counter(expected)  # none lost, none twice
    recorded = Counter(
        (a.data["comment"], a.actor_object_id) for a in Action.objects.filter(verb="commented")
    )
    assert recorded == Counter({(b, str(by_name[b.split("-")[0]].pk)): 1 for b in expected})
    for name, task in own.items():
        updates = Action.objects.filter(
            verb="updated",
            action_object_object_id=str(task.pk),
            actor_object_id=str(by_name[name].pk),
        )
        assert updates.count() == EACH // 2, name
        task.refresh_from_db()
        assert task.status == STATUSES[(EACH // 2 - 1) % len(STATUSES)]


def test_overlapping_status_updates_leave_history_and_row_in_agreement(live_server):
    """Two status changes of one task at once: each request waits (up to 3 s) after loading
    the task for the other to load it too. Unlocked, both read "todo" and the history says
    todo → review and todo → done while the row holds one of them; locked (select_for_update),
    the second reads what the first wrote."""
    from django.db.models.signals import post_init

    alice, bob = _world()[0][:2]
    task = Task.objects.create(project=Project.objects.get(), title="Contested")
    sessions = []
    for user in (alice, bob):
        session = Session(live_server.url)
        session.sign_in(user.username)
        sessions.append(session)
    both_loaded = threading.Barrier(2, timeout=3)
    main = threading.current_thread()

    def wait_for_the_other(sender, instance, **kwargs):
        if threading.current_thread() is not main and instance.pk == task.pk:
            # broken: the other request waits for this one's lock, so go on alone
            with contextlib.suppress(threading.BrokenBarrierError):
                both_loaded.wait()

    post_init.connect(wait_for_the_other, sender=Task, weak=False)
    codes: list[int] = []
    try:
        threads = [
            threading.Thread(
                target=lambda s=s, status=status: codes.append(
                    s.request("POST", f"/tasks/{task.pk}/status/", {"status": status})[0]
                )
            )
            for s, status in zip(sessions, ("review", "done"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        post_init.disconnect(wait_for_the_other, sender=Task)
    assert codes == [302, 302]
    history = [
        a.data["changes"]["status"]
        for a in Action.objects.filter(
            verb="updated", action_object_object_id=str(task.pk)
        ).order_by("id")
    ]
    steps = [(old["value"], new["value"]) for old, new in history]
    assert len(steps) == 2
    assert steps[0][0] == "todo" and steps[1][0] == steps[0][1]  # each starts where the last ended
    task.refresh_from_db()
    assert task.status == steps[1][1]

"""Deterministic demo data: users, teams, projects, tasks and a year of history.

The default seed goes through the real capture path (model saves under ``acting_as``); large
action counts are bulk-inserted in the same shape, for benchmarks.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Callable, Iterator

from actstream.models import Action, Follow
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

import activityui
from activityui import search
from activityui.capture import acting_as, label_of
from activityui.search import index_actions
from demo_site.demo.models import Comment, Project, Task, Team

User = get_user_model()

USERS = [
    ("alice", "Alice", "Martin", "Apollo"),
    ("bob", "Bob", "Nguyen", "Apollo"),
    ("carol", "Carol", "Diaz", "Zephyr"),
    ("staff", "Sam", "Staff", None),
]
PROJECTS = {
    "Apollo": ["Apollo Web", "Apollo Mobile", "Payments"],
    "Zephyr": ["Zephyr Infra", "Zephyr Docs"],
}
VERBS_OF_WORK = ["Fix", "Add", "Refactor", "Document", "Speed up", "Test", "Design", "Remove"]
SUBJECTS = [
    "login form",
    "payment retries",
    "invoice export",
    "search ranking",
    "dark mode",
    "onboarding email",
    "rate limiter",
    "audit log",
    "CSV import",
    "password reset",
    "billing page",
    "mobile navigation",
    "webhook delivery",
    "team invitations",
    "file uploads",
    "2FA setup",
    "API pagination",
    "status page",
    "error tracking",
    "release notes",
]
COMMENTS = [
    "Looks good to me.",
    "Can we split this into two tasks?",
    "I pushed a fix, please review.",
    "Blocked on the API change.",
    "Customer reported this again today.",
    "Added tests for the edge cases.",
    "Moving this to next sprint.",
    "Let's pair on this tomorrow.",
    "Deployed to staging.",
    "Nice catch!",
]
WORKFLOW = [Task.Status.TODO, Task.Status.IN_PROGRESS, Task.Status.REVIEW, Task.Status.DONE]
DEFAULT_TASKS = 100
PASSWORD = "demo"
# may restore a task's old values from its timeline (activityui's default rule: the model's
# change permission); bob, in the same team, may not
RESTORERS = {"alice"}


def is_seeded() -> bool:
    return Team.objects.filter(name="Apollo").exists()


def ensure_users() -> dict[str, User]:
    users = {}
    staff_perm = Permission.objects.get(
        content_type__app_label="activityui", codename="view_all_activity"
    )
    change_task = Permission.objects.get(content_type__app_label="demo", codename="change_task")
    with activityui.paused():
        for username, first, last, _team in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@teamboard.example",
                )
                user.set_password(PASSWORD)
                user.is_staff = username == "staff"
                user.save()
                if username == "staff":
                    user.user_permissions.add(staff_perm)
                if username in RESTORERS:
                    user.user_permissions.add(change_task)
            users[username] = user
    return users


def seed(*, seed_value: int = 7, tasks: int = DEFAULT_TASKS, now: dt.datetime | None = None) -> int:
    """Create the demo world through the capture path. Returns the number of actions made."""
    if is_seeded():
        return 0
    rng = random.Random(seed_value)
    now = now or timezone.now()
    start = now - dt.timedelta(days=365)
    before = Action.objects.count()
    with transaction.atomic():
        users = ensure_users()
        members = {team: [users[u] for u, _f, _l, t in USERS if t == team] for team in PROJECTS}
        events: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        order = 0

        def at(when: dt.datetime, action: Callable[[], None]) -> None:
            nonlocal order
            order += 1
            events.append((when, order, action))

        teams: dict[str, Team] = {}
        projects: list[Project] = []
        founder = users["alice"]
        with acting_as(founder, at=start):
            for team_name in PROJECTS:
                team = Team.objects.create(name=team_name)
                teams[team_name] = team
        for team_name, people in members.items():
            for person in people:
                when = start + dt.timedelta(hours=1)
                with acting_as(person, at=when):
                    teams[team_name].members.add(person)
                    activityui.record(person, "joined", teams[team_name])
            for project_name in PROJECTS[team_name]:
                with acting_as(people[0], at=start + dt.timedelta(hours=2)):
                    projects.append(
                        Project.objects.create(
                            team=teams[team_name],
                            name=project_name,
                            description=f"Everything about {project_name}.",
                        )
                    )

        def task_events(number: int, recent: bool = False) -> None:
            project = projects[number % len(projects)]
            people = members[project.team.name]
            title = f"{rng.choice(VERBS_OF_WORK)} {rng.choice(SUBJECTS)}"
            if recent:
                created = now - dt.timedelta(days=rng.uniform(0.1, 6))
            else:
                created = start + dt.timedelta(days=rng.uniform(1, 362))
            creator = rng.choice(people)
            holder: dict[str, Task] = {}

            def create() -> None:
                holder["task"] = Task.objects.create(
                    project=project,
                    title=title,
                    priority=rng.choice([1, 2, 2, 3, 4]),
                    description=f"{title} for {project.name}.",
                )

            at_user(created, creator, create)
            when = created
            steps = rng.randint(0, 3 if number % 10 else 1)
            for step in range(1, steps + 1):
                when += dt.timedelta(hours=rng.uniform(0.5, 12 if recent else 24 * 6))
                actor = rng.choice(people)
                status = WORKFLOW[step]

                def move(status: str = status, assignee: User = actor) -> None:
                    task = holder["task"]
                    task.status = status
                    if task.assignee_id is None:
                        task.assignee = assignee
                    task.save()

                at_user(when, actor, move)
                if rng.random() < 0.45:
                    when += dt.timedelta(minutes=rng.uniform(5, 600))
                    author = rng.choice(people)
                    text = rng.choice(COMMENTS)

                    def comment(
                        author: User = author, text: str = text, when: dt.datetime = when
                    ) -> None:
                        task = holder["task"]
                        made = Comment.objects.create(task=task, author=author, body=text)
                        # written when its action says it was (auto_now_add gives "now")
                        Comment.objects.filter(pk=made.pk).update(created=when)
                        activityui.record(author, "commented", task, task.project, comment=text)

                    at_user(when, author, comment)
            if rng.random() < 0.2:
                when += dt.timedelta(hours=rng.uniform(1, 72))
                actor = rng.choice(people)

                def reprioritise() -> None:
                    task = holder["task"]
                    task.priority = rng.choice([p for p in (1, 2, 3, 4) if p != task.priority])
                    task.save()

                at_user(when, actor, reprioritise)

        def at_user(when: dt.datetime, user: User, action: Callable[[], None]) -> None:
            if when > now - dt.timedelta(seconds=30):
                return  # history stops at the present: later steps of this task never happened

            def run() -> None:
                with acting_as(user, at=when):
                    action()

            at(when, run)

        for number in range(tasks):
            task_events(number)
        # a lively last week, so the feed reads well on Monday morning
        for number in range(tasks, tasks + 12):
            task_events(number, recent=True)
        for _when, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
            action()
        for username, _f, _l, _t in USERS:
            user = users[username]
            visible = Project.objects.filter(team__members=user)[:1]
            for project in visible:
                Follow.objects.get_or_create(
                    user=user,
                    content_type=ContentType.objects.get_for_model(Project),
                    object_id=str(project.pk),
                    flag="",
                    defaults={"actor_only": False},
                )
    return Action.objects.count() - before


def bulk_actions(total: int, *, seed_value: int = 7, batch_size: int = 5000) -> int:
    """Bulk-insert synthetic actions (same shape as captured ones) until ``total`` exist, with
    their words in the text index (the field-change index fills itself: database triggers).
    PostgreSQL: ``COPY`` (10 million in minutes); elsewhere ``bulk_create``."""
    existing = Action.objects.count()
    missing = total - existing
    if missing <= 0:
        return 0
    rows = _synthetic_actions(missing, rng=random.Random(seed_value + total))
    write = _copy_actions if connection.vendor == "postgresql" else _create_actions
    made = 0
    while made < missing:
        batch = list(itertools.islice(rows, batch_size))
        with transaction.atomic():
            write(batch)
        made += len(batch)
    return made


# (timestamp, actor, verb, task, data) of one synthetic action
Synthetic = tuple[dt.datetime, User, str, Task, dict]


def _synthetic_actions(count: int, *, rng: random.Random) -> Iterator[Synthetic]:
    users = list(User.objects.filter(username__in=[u[0] for u in USERS[:3]]))
    tasks = list(Task.objects.select_related("project__team").order_by("pk"))
    team_users = {
        team.pk: [u for u in users if team.members.filter(pk=u.pk).exists()]
        for team in Team.objects.all()
    }
    user_labels = {u.pk: label_of(u) for u in users}  # as capture labels users
    urls = {t.pk: (t.get_absolute_url(), t.project.get_absolute_url()) for t in tasks}
    now = timezone.now()
    span = 365 * 24 * 3600
    labels = {s.value: s.label for s in Task.Status}
    for _ in range(count):
        task = rng.choice(tasks)
        actor = rng.choice(team_users[task.project.team_id] or users)
        when = now - dt.timedelta(seconds=rng.uniform(60, span))
        old, new = rng.sample(list(labels), 2)
        is_comment = rng.random() < 0.25
        task_url, project_url = urls[task.pk]
        data: dict = {
            "snapshot": {
                "actor": {"label": user_labels[actor.pk], "url": None},
                "action_object": {"label": task.title, "url": task_url},
                "target": {"label": task.project.name, "url": project_url},
            }
        }
        if is_comment:
            data["comment"] = rng.choice(COMMENTS)
        else:
            data["changes"] = {
                "status": [
                    {"value": old, "label": labels[old]},
                    {"value": new, "label": labels[new]},
                ]
            }
        yield when, actor, "commented" if is_comment else "updated", task, data


def _create_actions(batch: list[Synthetic]) -> None:
    user_ct = ContentType.objects.get_for_model(User)
    task_ct = ContentType.objects.get_for_model(Task)
    project_ct = ContentType.objects.get_for_model(Project)
    created = Action.objects.bulk_create(
        [
            Action(
                actor_content_type=user_ct,
                actor_object_id=str(actor.pk),
                verb=verb,
                action_object_content_type=task_ct,
                action_object_object_id=str(task.pk),
                target_content_type=project_ct,
                target_object_id=str(task.project_id),
                timestamp=when,
                public=True,
                data=data,
            )
            for when, actor, verb, task, data in batch
        ],
        batch_size=1000,
    )
    index_actions(created)  # bulk_create sends no post_save: fill the text index too


def _copy_actions(batch: list[Synthetic]) -> None:
    """PostgreSQL: the actions and their words by ``COPY``, with ids taken from the actions'
    sequence first (the words need them)."""
    user_ct = ContentType.objects.get_for_model(User).pk
    task_ct = ContentType.objects.get_for_model(Task).pk
    project_ct = ContentType.objects.get_for_model(Project).pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('actstream_action', 'id')) "
            "FROM generate_series(1, %s)",
            [len(batch)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor  # psycopg's own cursor: COPY is not in the DB-API
        columns = (
            "id, actor_content_type_id, actor_object_id, verb, action_object_content_type_id, "
            "action_object_object_id, target_content_type_id, target_object_id, timestamp, "
            "public, data"
        )
        with raw.copy(f"COPY actstream_action ({columns}) FROM STDIN") as copy:
            for pk, (when, actor, verb, task, data) in zip(ids, batch, strict=True):
                copy.write_row(
                    (
                        pk,
                        user_ct,
                        str(actor.pk),
                        verb,
                        task_ct,
                        str(task.pk),
                        project_ct,
                        str(task.project_id),
                        when,
                        True,
                        json.dumps(data),
                    )
                )
        # words are runs of letters and digits, keys too after their mark: a tsvector literal
        # needs no escaping
        with raw.copy(f"COPY {search.TABLE} (action_id, document) FROM STDIN") as copy:
            for pk, (_when, actor, verb, task, data) in zip(ids, batch, strict=True):
                words = search.document_words(verb, data)
                keys = search.action_keys(
                    (user_ct, str(actor.pk)),
                    (task_ct, str(task.pk)),
                    (project_ct, str(task.project_id)),
                )
                lexemes = search.postgres_document(words, keys)
                copy.write_row((pk, " ".join(f"'{lexeme}'" for lexeme in lexemes)))

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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

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


def bulk_actions(
    total: int,
    *,
    seed_value: int = 7,
    batch_size: int = 5000,
    rebuild_over: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Bulk-insert synthetic actions (same shape as captured ones) until ``total`` exist, with
    their words in the text index (the field-change index fills itself: database triggers).

    PostgreSQL: ``COPY`` of preformatted lines (:func:`_load_postgres`); when more than
    ``rebuild_over`` (default :data:`REBUILD_INDEXES_OVER`) actions are missing, the tables'
    secondary indexes and foreign keys are dropped first and built again at the end (building
    an index once is far cheaper than keeping 19 of them up to date row by row). Elsewhere
    ``bulk_create``. ``progress(done, missing)`` is called after every batch."""
    existing = Action.objects.count()
    missing = total - existing
    if missing <= 0:
        return 0
    synthesis = _Synthesis(random.Random(seed_value + total))
    if connection.vendor == "postgresql":
        threshold = REBUILD_INDEXES_OVER if rebuild_over is None else rebuild_over
        return _load_postgres(synthesis, missing, rebuild=missing > threshold, progress=progress)
    rows = synthesis.actions(missing)
    made = 0
    while made < missing:
        batch = list(itertools.islice(rows, batch_size))
        with transaction.atomic():
            _create_actions(batch)
        made += len(batch)
        if progress:
            progress(made, missing)
    return made


REBUILD_INDEXES_OVER = 300_000  # more missing actions than this: drop indexes, load, rebuild
COPY_BATCH = 100_000  # actions per COPY (and per transaction) on PostgreSQL
SPAN_SECONDS = 365 * 24 * 3600  # synthetic actions spread over the last year

# (timestamp, actor, verb, task, data) of one synthetic action
Synthetic = tuple[dt.datetime, User, str, Task, dict]
# (actor, verb, task, data): everything of a synthetic action but its time
Shape = tuple[User, str, Task, dict]


class _Synthesis:
    """Draws synthetic actions: a task at random, one of its team's people, then a comment
    (one in four) or a status change between two statuses at random. An action's shape
    (everything but its time) comes from a small set -- tasks x people x comments or status
    pairs -- so each shape is built once and reused (its JSON and words too, on PostgreSQL)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        users = list(User.objects.filter(username__in=[u[0] for u in USERS[:3]]))
        self.tasks = list(Task.objects.select_related("project__team").order_by("pk"))
        members = {
            team.pk: [u for u in users if team.members.filter(pk=u.pk).exists()]
            for team in Team.objects.all()
        }
        self.people = {t.pk: members[t.project.team_id] or users for t in self.tasks}
        self.user_labels = {u.pk: label_of(u) for u in users}  # as capture labels users
        self.urls = {t.pk: (t.get_absolute_url(), t.project.get_absolute_url()) for t in self.tasks}
        self.labels = {s.value: s.label for s in Task.Status}
        self.pairs = list(itertools.permutations(self.labels, 2))
        self.now = timezone.now()
        self._shapes: dict[tuple[int, int, int], Shape] = {}

    def draw(self) -> tuple[int, int, int]:
        """The key of one shape: (task index, person index, comment index or -1 - pair index)."""
        rng = self.rng
        task = rng.randrange(len(self.tasks))
        person = rng.randrange(len(self.people[self.tasks[task].pk]))
        if rng.random() < 0.25:
            return task, person, rng.randrange(len(COMMENTS))
        return task, person, -1 - rng.randrange(len(self.pairs))

    def when(self) -> dt.datetime:
        return self.now - dt.timedelta(seconds=self.rng.uniform(60, SPAN_SECONDS))

    def shape(self, key: tuple[int, int, int]) -> Shape:
        if key not in self._shapes:
            self._shapes[key] = self._build(*key)
        return self._shapes[key]

    def _build(self, task_index: int, person: int, kind: int) -> Shape:
        task = self.tasks[task_index]
        actor = self.people[task.pk][person]
        task_url, project_url = self.urls[task.pk]
        data: dict = {
            "snapshot": {
                "actor": {"label": self.user_labels[actor.pk], "url": None},
                "action_object": {"label": task.title, "url": task_url},
                "target": {"label": task.project.name, "url": project_url},
            }
        }
        if kind >= 0:
            data["comment"] = COMMENTS[kind]
            return actor, "commented", task, data
        old, new = self.pairs[-1 - kind]
        data["changes"] = {
            "status": [
                {"value": old, "label": self.labels[old]},
                {"value": new, "label": self.labels[new]},
            ]
        }
        return actor, "updated", task, data

    def actions(self, count: int) -> Iterator[Synthetic]:
        for _ in range(count):
            key = self.draw()
            yield self.when(), *self.shape(key)


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


# --- PostgreSQL: COPY, and secondary indexes built once at the end of a large load ---

ACTION_COLUMNS = (
    "id, timestamp, actor_content_type_id, actor_object_id, verb, action_object_content_type_id, "
    "action_object_object_id, target_content_type_id, target_object_id, public, data"
)


def _copy_text(value: str) -> str:
    """``value`` as a field of COPY's text format (backslash, tab and line breaks escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _CopyLines:
    """The COPY lines of synthetic actions and of their search documents, each shape's part
    formatted once: per action only its id and time are written."""

    def __init__(self, synthesis: _Synthesis) -> None:
        self.synthesis = synthesis
        self.cts = [ContentType.objects.get_for_model(model).pk for model in (User, Task, Project)]
        self._parts: dict[tuple[int, int, int], tuple[str, str]] = {}

    def _part(self, key: tuple[int, int, int]) -> tuple[str, str]:
        actor, verb, task, data = self.synthesis.shape(key)
        user_ct, task_ct, project_ct = self.cts
        action = "\t".join(
            [
                str(user_ct),
                str(actor.pk),
                _copy_text(verb),
                str(task_ct),
                str(task.pk),
                str(project_ct),
                str(task.project_id),
                "t",
                _copy_text(json.dumps(data)),
            ]
        )
        # words are runs of letters and digits, keys too after their mark: a tsvector literal
        # needs no escaping
        keys = search.action_keys(
            (user_ct, str(actor.pk)), (task_ct, str(task.pk)), (project_ct, str(task.project_id))
        )
        lexemes = search.postgres_document(search.document_words(verb, data), keys)
        return action, _copy_text(" ".join(f"'{lexeme}'" for lexeme in lexemes))

    def batch(self, first_id: int, count: int) -> tuple[str, str]:
        """The COPY text of ``count`` actions numbered from ``first_id``, and of their words."""
        synthesis, parts = self.synthesis, self._parts
        actions, documents = [], []
        for pk in range(first_id, first_id + count):
            key = synthesis.draw()
            part = parts.get(key)
            if part is None:
                part = parts[key] = self._part(key)
            actions.append(f"{pk}\t{synthesis.when().isoformat()}\t{part[0]}\n")
            documents.append(f"{pk}\t{part[1]}\n")
        return "".join(actions), "".join(documents)


def _load_postgres(
    synthesis: _Synthesis,
    count: int,
    *,
    rebuild: bool,
    progress: Callable[[int, int], None] | None,
) -> int:
    """COPY ``count`` synthetic actions in batches of :data:`COPY_BATCH`, one transaction each.
    A second thread formats the next batch while the database takes the current one (the
    thread holds the only random generator: the actions are the same for the same seed)."""
    lines = _CopyLines(synthesis)
    tables = ["actstream_action", search.TABLE, *_trigger_tables()]
    with connection.cursor() as cursor:
        first_id = _reserve_ids(cursor, count)
    sizes = [min(COPY_BATCH, count - done) for done in range(0, count, COPY_BATCH)]
    starts = [first_id + done for done in range(0, count, COPY_BATCH)]
    made = 0
    with (
        _secondary_indexes_dropped(tables, enabled=rebuild),
        ThreadPoolExecutor(max_workers=1) as formatter,
    ):
        # one batch formatted ahead at most: memory stays at two batches of text
        pending = formatter.submit(lines.batch, starts[0], sizes[0])
        for index, size in enumerate(sizes):
            actions, documents = pending.result()
            if index + 1 < len(sizes):
                pending = formatter.submit(lines.batch, starts[index + 1], sizes[index + 1])
            with transaction.atomic(), connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's own cursor: COPY is not in the DB-API
                with raw.copy(f"COPY actstream_action ({ACTION_COLUMNS}) FROM STDIN") as copy:
                    copy.write(actions)
                with raw.copy(f"COPY {search.TABLE} (action_id, document) FROM STDIN") as copy:
                    copy.write(documents)
            made += size
            if progress:
                progress(made, count)
    return made


def _reserve_ids(cursor: Any, count: int) -> int:
    """Take ``count`` ids from the action table's sequence at once; returns the first."""
    cursor.execute("SELECT pg_get_serial_sequence('actstream_action', 'id')")
    (sequence,) = cursor.fetchone()
    cursor.execute("SELECT nextval(%s)", [sequence])
    (first,) = cursor.fetchone()
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return int(first)


def _trigger_tables() -> list[str]:
    """The tables that activityui's triggers on the action table write to and whose indexes
    may go during a load (not the chart's action counts: their trigger finds a kind's row by
    their index, and they are small)."""
    from activityui.models import FieldChange

    return [FieldChange._meta.db_table]


@contextmanager
def _secondary_indexes_dropped(tables: list[str], *, enabled: bool) -> Iterator[None]:
    """Drop the secondary indexes and foreign keys of ``tables`` for the block, and build them
    again after it, also when it fails (one CREATE INDEX per index, the foreign keys checked
    once). Primary keys stay: the loader and the triggers rely on them."""
    if not enabled:
        yield
        return
    with connection.cursor() as cursor:
        # deferred checks still pending in this transaction would forbid the ALTER TABLEs
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) "
            "AND c.contype IN ('f', 'u') ORDER BY c.conname",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype <> 'f') "
            "ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, table, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for name, table, definition in constraints:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")

"""Benchmark: plain django-activity-stream vs activityui on the Teamboard demo, side by side.

    .venv/bin/python benchmarks/run.py --actions 100000 --db sqlite
    .venv/bin/python benchmarks/run.py --actions 1000000 --db postgres --repeat 30

Seeds (or tops up) a scratch database named after the size -- sqlite:////tmp/aui-bench-<N>.sqlite3
or postgres://postgres@127.0.0.1:5432/aui_bench_<N>, or --database-url -- with `seed_demo
--actions N`, adds a quiet project and a user who follows only it, then measures each scenario
both ways in one run and prints a Markdown table: SQL queries, median ms (min-max), ratio.

"plain actstream" is what an app gets from django-activity-stream alone: its stream managers
(`Action.objects.user`, `Action.objects.any`) or a hand-written OR filter, Django's Paginator
(COUNT + OFFSET) and a `{% display_action %}`-like template that reads the generic relations.
"activityui" is the real view through django.test.Client with a signed-in user: selector,
presenter, template, middleware, session -- everything but the network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POLL = {"HX-Request": "true", "HX-Target": "feed-banner"}
PLAIN_TEMPLATE = (
    "{% for action in actions %}<li>"
    "{% if action.actor.get_absolute_url %}"
    '<a href="{{ action.actor.get_absolute_url }}">{{ action.actor }}</a>'
    "{% else %}{{ action.actor }}{% endif %} {{ action.verb }} "
    "{% if action.action_object %}{% if action.action_object.get_absolute_url %}"
    '<a href="{{ action.action_object.get_absolute_url }}">{{ action.action_object }}</a>'
    "{% else %}{{ action.action_object }}{% endif %}{% endif %}"
    "{% if action.action_object and action.target %} to {% endif %}"
    "{% if action.target %}{% if action.target.get_absolute_url %}"
    '<a href="{{ action.target.get_absolute_url }}">{{ action.target }}</a>'
    "{% else %}{{ action.target }}{% endif %}{% endif %} "
    "{{ action.timestamp|timesince }} ago</li>{% endfor %}"
    '{% if page.has_next %}<a href="?page={{ page.next_page_number }}">next</a>{% endif %}'
)


def database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return args.database_url
    millions = args.actions >= 1_000_000
    label = f"{args.actions // 1_000_000}m" if millions else f"{args.actions // 1000}k"
    if args.db == "sqlite":
        return f"sqlite:////tmp/aui-bench-{label}.sqlite3"
    return f"postgres://postgres@127.0.0.1:5432/aui_bench_{label}"


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def measure(fn: Callable[[], object], repeat: int) -> tuple[int, list[float], list[float]]:
    """(queries of one run, wall and cpu times in ms of ``repeat`` runs after two warm-ups)."""
    result = measure_together([fn], repeat)[0]
    assert result is not None
    return result


def measure_together(
    fns: list[Callable[[], object] | None], repeat: int
) -> list[tuple[int, list[float], list[float]] | None]:
    """:func:`measure` for several ways of doing one thing, their runs interleaved (a, b, c,
    a, b, c, ...): the speed of a shared virtual machine drifts within a minute, and
    interleaving spreads the drift over all of them instead of favouring whichever ran
    while the machine was fast."""
    from django.db import connection

    present = [fn for fn in fns if fn is not None]
    for fn in present:
        fn()
        fn()
    counts: dict[int, int] = {}
    for fn in present:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            fn()
        counts[id(fn)] = count
    times: dict[int, list[float]] = {id(fn): [] for fn in present}
    cpu: dict[int, list[float]] = {id(fn): [] for fn in present}
    for _ in range(repeat):
        for fn in present:
            gc.collect()  # no run pays for the garbage of the one before (the plain way's)
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            times[id(fn)].append((time.perf_counter() - started) * 1000)
            cpu[id(fn)].append((time.process_time() - started_cpu) * 1000)
    return [(counts[id(fn)], times[id(fn)], cpu[id(fn)]) if fn is not None else None for fn in fns]


def reference_loop_ms(runs: int = 7) -> tuple[float, float]:
    """(min, median) ms of a fixed pure-Python loop: how fast this machine's CPU is right now.
    On a shared virtual machine it swings (seen here: 400-700 ms for the same loop within a
    minute), so a table is only comparable with another taken at a similar reference."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number * number
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def fmt(result: tuple[int, list[float], list[float]] | None) -> tuple[str, str]:
    """Queries, and "median (min–max) · cpu median" in ms (the cpu time of this process:
    with SQLite it includes the database's work, with PostgreSQL it does not)."""
    if result is None:
        return "–", "–"
    queries, times, cpu = result
    median = statistics.median(times)
    return (
        str(queries),
        f"{median:.1f} ({min(times):.1f}–{max(times):.1f}) · {statistics.median(cpu):.1f}",
    )


def ratio(plain: tuple | None, aui: tuple | None) -> str:
    if plain is None or aui is None:
        return "–"
    return f"{statistics.median(plain[1]) / statistics.median(aui[1]):.1f}×"


def main() -> None:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-seed", action="store_true", help="measure the database as it is")
    parser.add_argument("--only", default="", help="comma-separated scenario keys")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args()

    url = database_url(args)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    if url.startswith("postgres"):
        ensure_postgres_database(url)

    import django

    django.setup()

    from actstream import action as actstream_action
    from actstream import registry
    from actstream.models import Action, Follow
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.core.paginator import Paginator
    from django.db import connection, transaction
    from django.db.models import Q
    from django.template import engines
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse
    from django.utils import timezone

    import activityui
    from activityui import history
    from activityui.capture import acting_as, label_of
    from activityui.conf import app_settings
    from activityui.cursors import Cursor, decode_cursor, encode_cursor
    from activityui.days import group_by_day
    from activityui.keyset import page_of
    from activityui.presenters import present
    from activityui.rowcache import forget_rows
    from activityui.selectors import (
        action_list_for_feed,
        action_list_for_staff,
        count_up_to,
        feed_stream,
        object_stream,
        stream_newer,
        stream_page,
    )
    from demo_site.demo.models import Project, Task, Team

    if not args.no_seed:
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        call_command("seed_demo", actions=args.actions, stdout=open(os.devnull, "w"))  # noqa: SIM115
        seeded_in = time.monotonic() - started
    else:
        seeded_in = 0.0
    User = get_user_model()  # noqa: N806

    # --- the bench world: a quiet project and a user who follows only it -----------------
    apollo = Team.objects.get(name="Apollo")
    quiet_project = Project.objects.filter(name="Apollo Archive").first()
    bob = User.objects.get(username="bob")
    if quiet_project is None:
        with activityui.paused():
            quiet_project = Project.objects.create(team=apollo, name="Apollo Archive")
        for days in (300, 200, 100):
            with acting_as(bob, at=timezone.now() - dt.timedelta(days=days)):
                activityui.record(bob, "archived", quiet_project, apollo)
    quinn = User.objects.filter(username="quinn").first()
    if quinn is None:
        with activityui.paused():
            quinn = User.objects.create_user("quinn", password="demo", first_name="Quinn")
            apollo.members.add(quinn)
    project_ct = ContentType.objects.get_for_model(Project)
    Follow.objects.get_or_create(
        user=quinn, content_type=project_ct, object_id=str(quiet_project.pk), flag=""
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
    elif not args.no_seed:
        # VACUUM as autovacuum would have done on a live site by now: a bulk-loaded table has
        # no visibility map yet, so every COUNT reads the heap (the staff console's capped
        # count: 15 ms before, 2.5 ms after, at 1M actions)
        with connection.cursor() as cursor:
            for table in (Action._meta.db_table, Follow._meta.db_table):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")

    def heavy_task(project, actor, *, target: int):
        """A task of ``project`` with ``target`` recorded status changes (a consistent chain
        ending at its current status), bulk-inserted once; returns it and its action count."""
        task_ct = ContentType.objects.get_for_model(Task)
        heavy = Task.objects.filter(project=project, title="History-heavy task").first()
        if heavy is None:
            with acting_as(actor, at=timezone.now() - dt.timedelta(days=365)):
                heavy = Task.objects.create(project=project, title="History-heavy task")
        mine = Action.objects.filter(
            action_object_content_type=task_ct, action_object_object_id=str(heavy.pk)
        )
        have = mine.count()
        if have < target:
            statuses = [s.value for s in Task.Status]
            labels = {s.value: s.label for s in Task.Status}
            first = mine.order_by("timestamp", "id").first()
            start = first.timestamp + dt.timedelta(seconds=1)
            span = (timezone.now() - dt.timedelta(minutes=5) - start).total_seconds()
            current = heavy.status
            missing = target - have
            snapshot = {
                "actor": {"label": label_of(actor), "url": None},
                "action_object": {"label": heavy.title, "url": heavy.get_absolute_url()},
                "target": {"label": project.name, "url": project.get_absolute_url()},
            }
            rows = []
            previous = current
            for number in range(missing):
                new = statuses[(statuses.index(previous) + 1) % len(statuses)]
                rows.append(
                    Action(
                        actor_content_type=ContentType.objects.get_for_model(actor),
                        actor_object_id=str(actor.pk),
                        verb="updated",
                        action_object_content_type=task_ct,
                        action_object_object_id=str(heavy.pk),
                        target_content_type=project_ct,
                        target_object_id=str(project.pk),
                        timestamp=start + dt.timedelta(seconds=span * (number + 1) / (missing + 1)),
                        public=True,
                        data={
                            "snapshot": snapshot,
                            "changes": {
                                "status": [
                                    {"value": previous, "label": labels[previous]},
                                    {"value": new, "label": labels[new]},
                                ]
                            },
                        },
                    )
                )
                previous = new
            with transaction.atomic():
                Action.objects.bulk_create(rows, batch_size=2000)
                Task.objects.filter(pk=heavy.pk).update(status=previous)
            have = mine.count()
        return Task.objects.get(pk=heavy.pk), have

    alice = User.objects.get(username="alice")
    staff = User.objects.get(username="staff")
    busy = Project.objects.get(name="Apollo Web")
    total = Action.objects.count()
    size = app_settings.PAGE_SIZE

    # plain actstream needs its registry (which adds generic relations to the models)
    for model in (User, Team, Project, Task):
        registry.register(model)
    plain_template = engines["django"].from_string(PLAIN_TEMPLATE)

    def plain_page(queryset, number=1):
        page = Paginator(queryset.order_by("-timestamp", "-id"), size).page(number)
        return plain_template.render({"actions": list(page.object_list), "page": page})

    def team_q(user):
        projects = Project.objects.filter(team__members=user).values_list("pk", flat=True)
        teams = Team.objects.filter(members=user).values_list("pk", flat=True)
        team_ct = ContentType.objects.get_for_model(Team)
        return Q(
            target_content_type=project_ct, target_object_id__in=[str(p) for p in projects]
        ) | Q(target_content_type=team_ct, target_object_id__in=[str(t) for t in teams])

    def client_for(user):
        client = Client()
        client.force_login(user)
        return client

    clients = {u.username: client_for(u) for u in (alice, quinn, staff)}

    def get(user, url, status=200, **headers):
        def run():
            response = clients[user.username].get(url, headers=headers)
            assert response.status_code == status, (url, response.status_code)
            return response

        return run

    feed_url = reverse("activityui:feed")
    following_url = reverse("activityui:following")
    timeline_url = reverse("activityui:object", args=["demo.project", str(busy.pk)])
    staff_url = reverse("activityui:staff")

    # page 200: the cursor after 199 pages (found with OFFSET once, outside the timing)
    feed_rows = action_list_for_feed(user=alice, feed="team").values_list("timestamp", "pk")
    before_200 = encode_cursor(*feed_rows[199 * size - 1])
    newest = encode_cursor(*feed_rows[0])
    newest_ts = feed_rows[0][0]

    since = (timezone.localtime() - dt.timedelta(days=130)).date()
    until = since + dt.timedelta(days=30)
    staff_query = f"?verb=commented&since={since}T00:00&until={until}T23:59"

    reference_before = reference_loop_ms()
    rows: list[tuple[str, tuple | None, tuple | None, tuple | None, tuple | None]] = []
    only = {key for key in args.only.split(",") if key}

    def cold(view):
        """The view with every rendered row a miss (the row cache's keys renewed first)."""

        def run():
            forget_rows()
            return view()

        return run

    def scenario(key: str, label: str, plain, aui, selector=None, rendered=False) -> None:
        """``rendered``: the view draws cached rows, so it is measured warm and cold."""
        if only and key not in only:
            return
        print(f"  {label} …", file=sys.stderr, flush=True)
        plain_result, aui_result, cold_result, selector_result = measure_together(
            [plain, aui, cold(aui) if rendered else None, selector], args.repeat
        )
        rows.append((label, plain_result, aui_result, cold_result, selector_result))

    def selector_page(make_stream, before=None, page_size=None):
        def run():
            page = stream_page(make_stream(), before=before, size=page_size or size)
            return group_by_day(present(page.actions))

        return run

    def team_stream():
        return feed_stream(user=alice, feed="team")

    def plain_team():
        return Action.objects.filter(team_q(alice))

    scenario(
        "team",
        "Team feed, page 1",
        lambda: plain_page(plain_team()),
        get(alice, feed_url),
        selector_page(team_stream),
        rendered=True,
    )
    for page_size in (10, 50):
        sized = {**app_settings._user_settings(), "PAGE_SIZE": page_size}
        with override_settings(ACTIVITYUI=sized):
            scenario(
                "team",
                f"Team feed, page 1 (page size {page_size})",
                None,
                get(alice, feed_url),
                selector_page(team_stream, page_size=page_size),
                rendered=True,
            )
    scenario(
        "active",
        "Following feed, active follows (alice)",
        lambda: plain_page(Action.objects.user(alice)),
        get(alice, following_url),
        selector_page(lambda: feed_stream(user=alice, feed="following")),
        rendered=True,
    )
    scenario(
        "quiet",
        "Following feed, quiet follows (quinn)",
        lambda: plain_page(Action.objects.user(quinn)),
        get(quinn, following_url),
        selector_page(lambda: feed_stream(user=quinn, feed="following")),
        rendered=True,
    )
    scenario(
        "page200",
        "Team feed, page 200 (OFFSET vs cursor)",
        lambda: plain_page(plain_team(), 200),
        get(alice, f"{feed_url}?before={before_200}"),
        selector_page(team_stream, before=decode_cursor(before_200)),
        rendered=True,
    )
    busy_count = Action.objects.filter(
        target_content_type=project_ct, target_object_id=str(busy.pk)
    ).count()
    scenario(
        "timeline",
        f"Object timeline of a busy project ({busy_count:,} actions)",
        lambda: plain_page(Action.objects.any(busy)),
        get(alice, timeline_url),
        selector_page(
            lambda: object_stream(user=alice, content_type=project_ct, object_id=str(busy.pk))
        ),
        rendered=True,
    )
    start_at = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end_at = timezone.make_aware(dt.datetime.combine(until, dt.time.max))

    def staff_selector():
        queryset = action_list_for_staff(user=staff).filter(
            verb="commented", timestamp__gte=start_at, timestamp__lte=end_at
        )
        page = page_of(queryset, size=size)
        count = count_up_to(queryset, limit=app_settings.COUNT_LIMIT)
        return present(page.actions), count

    scenario(
        "staff",
        "Staff console, verb + 30-day filter",
        lambda: plain_page(
            Action.objects.filter(
                verb="commented", timestamp__date__gte=since, timestamp__date__lte=until
            )
        ),
        get(staff, staff_url + staff_query),
        staff_selector,
        rendered=True,
    )

    def selector_poll():
        return present(stream_newer(team_stream(), after=decode_cursor(newest), limit=100))

    # a repeated poll finds its earlier full check remembered; the first poll after an action
    # anywhere on the site finds nothing remembered (measured with the cache off)
    for label, poll_cache in (
        ("Poll, no news (repeated poll: its full check is remembered)", "default"),
        ("Poll, no news (first poll after an action elsewhere: full check)", None),
    ):
        with override_settings(
            ACTIVITYUI={**app_settings._user_settings(), "POLL_CACHE": poll_cache}
        ):
            scenario(
                "poll0",
                label,
                lambda: plain_team().filter(timestamp__gt=newest_ts).count(),
                get(alice, f"{feed_url}?after={newest}", status=204, **POLL),
                selector_poll,
            )
    if not only or "poll3" in only:
        task = Task.objects.filter(project=busy).first()
        made = []
        with acting_as(bob):
            for number in range(3):
                made.append(
                    activityui.record(bob, "commented", task, busy, comment=f"new {number}")
                )
        scenario(
            "poll3",
            "Poll, 3 new items",
            lambda: list(plain_team().filter(timestamp__gt=newest_ts).order_by("-timestamp")),
            get(alice, f"{feed_url}?after={newest}", **POLL),
            selector_poll,
        )
        Action.objects.filter(pk__in=[a.pk for a in made]).delete()

    if not only or "asof" in only:
        heavy, heavy_total = heavy_task(busy, bob, target=min(200_000, max(total // 5, 1000)))
        task_ct = ContentType.objects.get_for_model(Task)
        changes = (
            Action.objects.filter(
                action_object_content_type=task_ct, action_object_object_id=str(heavy.pk)
            )
            .order_by("-timestamp", "-id")
            .values_list("timestamp", "pk")
        )
        as_of_url = reverse("activityui:object_as_of", args=["demo.task", str(heavy.pk)])
        for label, index in (
            ("10th newest", 9),
            ("100th newest", 99),
            ("middle", heavy_total // 2),
        ):
            stamp, pk = changes[index]
            token = encode_cursor(stamp, pk)

            def rebuild(stamp=stamp, pk=pk):
                return history.state_as_of(
                    model=Task,
                    content_type=task_ct,
                    object_id=str(heavy.pk),
                    obj=Task.objects.get(pk=heavy.pk),
                    at=Cursor(stamp, pk),
                )

            scenario(
                "asof",
                f"As of a change ({label}) of a task with {heavy_total:,} actions",
                None,
                get(alice, f"{as_of_url}?as_of={token}"),
                rebuild,
            )

    # --- search, dates, chart, export (issue 16) -----------------------------------------
    rare_word = "quokka"  # one action says it: a rare word (<= 10 hits)
    if not Action.objects.filter(verb="commented", data__comment="Quokka audit").exists():
        with acting_as(bob):
            task = Task.objects.filter(project=busy).first()
            activityui.record(bob, "commented", task, busy, comment="Quokka audit")
    common_word = "apollo"  # in the target label of most actions
    absent_word = "zzqxj"
    week_ago = (timezone.localtime() - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    one_day = (timezone.localtime() - dt.timedelta(days=40)).date()

    def staff_search_selector(query):
        from django.test import RequestFactory

        from activityui.filters import StaffActionFilterSet

        def run():
            request = RequestFactory().get(staff_url, query)
            request.user = staff
            filterset = StaffActionFilterSet(
                query, queryset=action_list_for_staff(user=staff), request=request
            )
            assert filterset.is_valid()
            queryset = filterset.qs
            return page_of(queryset, size=size).actions, count_up_to(
                queryset, limit=app_settings.COUNT_LIMIT
            )

        return run

    def feed_search_selector(query):
        from django.test import RequestFactory

        from activityui.filters import ActionFilterSet
        from activityui.selectors import no_actions

        def run():
            request = RequestFactory().get(feed_url, query)
            request.user = alice
            filterset = ActionFilterSet(query, queryset=no_actions(), request=request)
            assert filterset.is_valid()
            return stream_page(team_stream(), narrow=filterset.filter_queryset, size=size).actions

        return run

    from urllib.parse import urlencode

    scenario("search", "Staff console, no filter", None, get(staff, staff_url))
    for label, query in (
        ("absent word", {"q": absent_word}),
        (f"rare word ({rare_word!r})", {"q": rare_word}),
        (f"common word ({common_word!r})", {"q": common_word}),
        ("absent word, last 7 days", {"q": absent_word, "since": week_ago}),
    ):
        scenario(
            "search",
            f"Staff console, q = {label}",
            None,
            get(staff, f"{staff_url}?{urlencode(query)}"),
            staff_search_selector(query),
        )
    scenario("search", "Team feed (alice), no filter", None, get(alice, feed_url))
    for label, query in (
        ("absent word", {"q": absent_word}),
        (f"rare word ({rare_word!r})", {"q": rare_word}),
        (f"common word ({common_word!r})", {"q": common_word}),
    ):
        scenario(
            "search",
            f"Team feed (alice), q = {label}",
            None,
            get(alice, f"{feed_url}?{urlencode(query)}"),
            feed_search_selector(query),
        )
    day_query = {"since": str(one_day), "until": str(one_day)}
    scenario(
        "dates",
        f"Team feed (alice), one day ({one_day})",
        None,
        get(alice, f"{feed_url}?{urlencode(day_query)}"),
        feed_search_selector(day_query),
    )
    staff_day = {"since": f"{one_day}T00:00", "until": f"{one_day}T23:59:59"}
    scenario(
        "dates",
        f"Staff console, one day ({one_day})",
        None,
        get(staff, f"{staff_url}?{urlencode(staff_day)}"),
        staff_search_selector(staff_day),
    )
    chart_url = reverse("activityui:staff_chart")
    scenario("chart", "Staff chart, last year by week", None, get(staff, chart_url))
    scenario(
        "chart",
        "Staff chart, last year, verb = commented",
        None,
        get(staff, f"{chart_url}?verb=commented"),
    )
    scenario(
        "chart",
        "Staff chart, 30 days by day",
        None,
        get(staff, chart_url + staff_query.replace("verb=commented&", "")),
    )
    scenario(
        "chart",
        "Staff chart, last year, object type = task, private",
        None,
        get(staff, f"{chart_url}?object_type=demo.task&visibility=private"),
    )
    # filters the action counts do not keep: the actions of the window are counted
    scenario(
        "chart",
        f"Staff chart, last year, q = {common_word!r} (not counted: the actions)",
        None,
        get(staff, f"{chart_url}?q={common_word}"),
    )
    scenario(
        "chart",
        "Staff chart, last year, actor = bob (not counted: the actions)",
        None,
        get(staff, f"{chart_url}?actor=bob"),
    )
    export_lines = []
    if not only or "export" in only:
        import resource

        for fmt_name, export_url in (
            ("CSV", reverse("activityui:staff_export_csv")),
            ("JSON Lines", reverse("activityui:staff_export_json")),
        ):
            print(f"  export {fmt_name} …", file=sys.stderr, flush=True)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            response = clients["staff"].get(export_url)
            exported = 0
            written = 0
            for chunk in response.streaming_content:
                exported += chunk.count(b"\n")
                written += len(chunk)
            seconds = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rows_out = exported - (1 if fmt_name == "CSV" else 0)
            export_lines.append(
                f"| Export {fmt_name}, every action | {rows_out:,} rows | {seconds:.1f} s "
                f"| {rows_out / seconds:,.0f} rows/s | {written / 1e6:,.0f} MB "
                f"| peak RSS +{(rss_after - rss_before) / 1024:,.0f} MB |"
            )

    def tracked_save(paused: bool, send: bool):
        def run():
            with transaction.atomic():
                task = Task.objects.select_related("project").filter(project=busy).first()
                task.priority = 4 if task.priority != 4 else 1
                if paused:
                    with activityui.paused():
                        task.save()
                    if send:
                        actstream_action.send(bob, verb="updated", action_object=task, target=busy)
                else:
                    with acting_as(bob):
                        task.save()
                transaction.set_rollback(True)

        return run

    if not only or "save" in only:
        bare = measure(tracked_save(paused=True, send=False), args.repeat)
        rows.append(
            (
                "Task save, untracked (baseline, in a rolled-back transaction)",
                bare,
                None,
                None,
                None,
            )
        )
        scenario(
            "save",
            "Task save + its action (action.send vs tracked save)",
            tracked_save(paused=True, send=True),
            tracked_save(paused=False, send=False),
        )

    vendor = connection.vendor
    version = (
        connection.Database.sqlite_version
        if vendor == "sqlite"
        else ".".join(str(n) for n in divmod(connection.pg_version, 10000))
    )
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    reference_after = reference_loop_ms()
    from django.conf import settings as django_settings

    cache_backend = django_settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if cache_backend == "RedisCache":
        cache_backend += " (REDIS_URL)"
    team_row = next((row for row in rows if row[0] == "Team feed, page 1"), None)
    reference = statistics.median([reference_before[1], reference_after[1]])
    team_ratio = (
        f"{statistics.median(team_row[2][1]) / reference:.2f}×" if team_row and team_row[2] else "–"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"### {total:,} actions, {vendor} {version}",
        "",
        f"{platform.python_implementation()} {platform.python_version()}, Django "
        f"{django.get_version()}, {os.cpu_count()} × {cpu}, load {load:.1f} at start; "
        f"{args.repeat} runs after 2 warm-ups; page size {size}; "
        f"seed/top-up {seeded_in:.0f} s; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        f"CPU reference (a 1M-iteration Python loop, min / median of 7): before the runs "
        f"{reference_before[0]:.0f} / {reference_before[1]:.0f} ms, after "
        f"{reference_after[0]:.0f} / {reference_after[1]:.0f} ms.",
        "",
        f"Cache: {cache_backend}. The view warm: its rows in the row cache (the runs after "
        f"the first); cold: every row rendered and written (the row cache's keys renewed "
        f"before each run). Team feed page 1, warm median / CPU reference median: "
        f"{team_ratio}.",
        "",
        "| scenario | plain actstream: queries | ms | activityui view warm: queries | ms "
        "| view cold: ms | plain / view warm | activityui selector + presenter: queries | ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, plain, aui, cold_result, selector in rows:
        plain_q, plain_t = fmt(plain)
        aui_q, aui_t = fmt(aui)
        _cold_q, cold_t = fmt(cold_result)
        sel_q, sel_t = fmt(selector)
        lines.append(
            f"| {label} | {plain_q} | {plain_t} | {aui_q} | {aui_t} | {cold_t} "
            f"| {ratio(plain, aui)} | {sel_q} | {sel_t} |"
        )
    if export_lines:
        lines += [
            "",
            "| export | rows | time | rate | size | memory |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            *export_lines,
        ]
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        print(f"\n(commit {commit})", file=sys.stderr)
    except OSError:
        pass


if __name__ == "__main__":
    main()

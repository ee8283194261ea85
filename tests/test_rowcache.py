"""Rendered rows cached (activityui.rowcache): every page the same with the row cache cold, warm
and off, for every demo user; per-viewer parts never cross viewers; template overrides change
the key; a failing cache is a miss."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from actstream.models import Action, Follow
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from activityui.cursors import encode_cursor
from activityui.follows import follow_toggle
from activityui.readmarkers import move_read_marker
from activityui.rowcache import AGO_SLOT, fill_slots, templates_version
from activityui.selectors import action_list_for_feed
from demo_site.demo.models import Project, Task

HX = {"HX-Request": "true"}
USERS = ("alice", "bob", "carol", "staff")
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=|nonce=|"X-CSRFToken": )"[^"]*"')


def aui_settings(**values):
    return override_settings(ACTIVITYUI={**settings.ACTIVITYUI, **values})


def _normal(html: str) -> str:
    # a CSRF token is masked afresh and a CSP nonce drawn on every response
    return _TOKEN.sub(r'\1"…"', html)


def _pages(users) -> list[tuple[str, str, dict[str, str]]]:
    """(user, url, headers): every page kind for every demo user, in both languages for one."""
    task = Task.objects.filter(project__team__name="Apollo").order_by("pk").first()
    other = Task.objects.filter(project__team__name="Zephyr").order_by("pk").first()
    project = Project.objects.filter(team__name="Apollo").order_by("pk").first()
    team_page = action_list_for_feed(user=users["alice"], feed="team")[:25]
    last = list(team_page)[-1]
    older = f"/activity/?before={encode_cursor(last.timestamp, last.pk)}"
    pages = []
    for name in USERS:
        for url, headers in (
            ("/activity/", {}),
            ("/activity/following/", {}),
            ("/activity/", HX),
            (older, HX),
            (f"/tasks/{task.pk}/", {}),
            (f"/activity/objects/demo.task/{task.pk}/", {}),
            (f"/activity/objects/demo.task/{other.pk}/", HX),
            (f"/activity/objects/demo.project/{project.pk}/", {}),
            ("/activity/staff/", {}),
            ("/activity/staff/?verb=commented", HX),
        ):
            pages.append((name, url, headers))
    pages.append(("alice", "/activity/", {"Accept-Language": "fr"}))
    pages.append(("alice", f"/activity/objects/demo.task/{task.pk}/", {"Accept-Language": "fr"}))
    return pages


def _render_all(users, pages) -> dict[tuple[str, str, str], tuple[int, str]]:
    clients = {}
    for name in USERS:
        clients[name] = Client()
        clients[name].force_login(users[name])
    result = {}
    for name, url, headers in pages:
        response = clients[name].get(url, headers=headers)
        key = (name, url, repr(sorted(headers.items())))
        result[key] = (response.status_code, _normal(response.content.decode()))
    return result


@pytest.fixture
def world(demo):
    """The demo with per-viewer facts that differ: alice follows two tasks and has read half
    of her team feed; bob follows one of the same tasks and has read everything but the top."""
    alice, bob = demo["alice"], demo["bob"]
    feed = list(action_list_for_feed(user=alice, feed="team")[:30])
    tasks = [a.action_object for a in feed[:10] if isinstance(a.action_object, Task)]
    tasks = list(dict.fromkeys(tasks))[:2]
    for task in tasks:
        follow_toggle(user=alice, obj=task)
    follow_toggle(user=bob, obj=tasks[0])
    for user, action in ((alice, feed[12]), (bob, feed[2])):
        move_read_marker(user=user, feed="team", timestamp=action.timestamp, action_id=action.pk)
    return demo


def test_every_page_same_html_cold_warm_and_off(world):
    pages = _pages(world)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=7), tick=False):
        with aui_settings(ROW_CACHE=None, POLL_CACHE=None):  # nothing remembered at all
            off = _render_all(world, pages)
        caches["default"].clear()
        cold = _render_all(world, pages)  # each user after the others: rows cached by others
        warm = _render_all(world, pages)
    # alice sees every page but another team's task and the staff console; staff sees those
    other = Task.objects.filter(project__team__name="Zephyr").order_by("pk").first()
    refused = [key[1] for key, (status, _) in off.items() if key[0] == "alice" and status != 200]
    assert refused == [
        f"/activity/objects/demo.task/{other.pk}/",
        "/activity/staff/",
        "/activity/staff/?verb=commented",
    ]
    assert off[("staff", "/activity/staff/", "[]")][0] == 200
    assert "aui-entry--new" in off[("alice", "/activity/", "[]")][1]
    assert 'aria-pressed="true"' in off[("alice", "/activity/", "[]")][1]
    for key, page in off.items():
        assert cold[key] == page, key
        assert warm[key] == page, key


def test_warm_page_reads_rows_from_the_cache(world):
    rows = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rows"}
    client = Client()
    client.force_login(world["alice"])
    with (
        override_settings(CACHES={**settings.CACHES, "rows": rows}),
        aui_settings(ROW_CACHE="rows"),
    ):
        client.get("/activity/")
        keys = [key for key in caches["rows"]._cache if ":activityui:row:" in key]
        assert len(keys) >= 10
        # the row cache is really read: a row changed behind its back shows as changed
        for key in keys:
            caches["rows"].set(key.split(":", 2)[2], "<p>from the cache</p>")
        assert "<p>from the cache</p>" in client.get("/activity/").content.decode()


def test_relative_time_is_right_in_a_row_cached_long_ago(world):
    client = Client()
    client.force_login(world["alice"])
    times = re.compile(r'<time class="aui-time"[^>]*>([^<]*)</time>')
    first = times.findall(client.get("/activity/").content.decode())
    assert first and not any("week" in text for text in first[:3])
    # (within the session's two weeks)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10), tick=False):
        later = times.findall(client.get("/activity/").content.decode())
    assert later[:3] == ["1\xa0week ago"] * 3


def test_row_cache_keys_by_language(world):
    client = Client()
    client.force_login(world["alice"])
    english = client.get("/activity/").content.decode()
    french = client.get("/activity/", headers={"Accept-Language": "fr"}).content.decode()
    assert "il y a" in french and "il y a" not in english


def test_template_override_changes_the_key(world, tmp_path: Path):
    client = Client()
    client.force_login(world["alice"])
    assert "aui-entry__text" in client.get("/activity/").content.decode()  # rows now cached
    before = templates_version()
    source = Path(__file__).parent.parent / "activityui/templates/activityui/_entry.html"
    (tmp_path / "activityui").mkdir()
    override = tmp_path / "activityui/_entry.html"
    shutil.copy(source, override)
    override.write_text(override.read_text().replace("aui-entry__text", "host-entry__text"))
    engines = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    with override_settings(TEMPLATES=engines):
        assert templates_version() != before
        html = client.get("/activity/").content.decode()
    assert "host-entry__text" in html


def test_slots_cannot_be_forged_by_text():
    # "<" is escaped in every label and comment, so a slot only comes from {% aui_time %}
    from django.utils.html import escape

    forged = escape(AGO_SLOT.format("2020-01-01T00:00:00+00:00"))
    assert fill_slots(forged) == forged


REDIS_BACKENDS = ["django.core.cache.backends.redis.RedisCache", "activityui.cache.RedisCache"]


@pytest.mark.parametrize("backend", REDIS_BACKENDS)
@pytest.mark.parametrize("alias", ["closed", "missing"])
def test_failing_row_and_poll_cache_is_a_miss(world, alias, backend):
    caches_setting = {
        **settings.CACHES,
        "closed": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:9/2",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    client = Client()
    client.force_login(world["alice"])
    task = Task.objects.filter(project__team__name="Apollo").order_by("pk").first()
    urls = ["/activity/", "/activity/following/", f"/activity/objects/demo.task/{task.pk}/"]
    with time_machine.travel(timezone.now(), tick=False):
        with aui_settings(ROW_CACHE=None, POLL_CACHE=None):
            expected = [_normal(client.get(url).content.decode()) for url in urls]
        # the rows, the menus and the unread badge: each a miss, the page as without a cache
        with (
            override_settings(CACHES=caches_setting),
            aui_settings(ROW_CACHE=alias, POLL_CACHE=alias),
        ):
            got = []
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200
                got.append(_normal(response.content.decode()))
    assert got == expected


@pytest.mark.parametrize("backend", REDIS_BACKENDS)
def test_failing_poll_cache_is_a_miss(world, backend):
    caches_setting = {
        **settings.CACHES,
        "closed": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:9/2",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    client = Client()
    client.force_login(world["alice"])
    newest = Action.objects.order_by("-timestamp", "-id").first()
    other_verb = Action.objects.exclude(verb=newest.verb).values_list("verb", flat=True)[0]
    # newer than the cursor: the newest action only, which the filter leaves out: the full
    # check runs, finds nothing and tries to remember it (the cache refuses: no error)
    after = encode_cursor(newest.timestamp, newest.pk - 1)
    url = f"/activity/?verb={other_verb}&after={after}"
    headers = {**HX, "HX-Target": "feed-banner"}
    with override_settings(CACHES=caches_setting), aui_settings(POLL_CACHE="closed"):
        for _ in range(2):
            assert client.get(url, headers=headers).status_code == 204


COUNTING = {"BACKEND": "tests.counting_cache.CountingCache", "LOCATION": "counted"}


@pytest.mark.parametrize("url", ["/activity/", "/activity/following/"])
def test_warm_feed_page_reads_its_rows_and_follow_buttons_in_one_round_trip(world, url):
    client = Client()
    client.force_login(world["alice"])
    for project in Project.objects.filter(team__name="Apollo"):
        client.post(f"/activity/follow/demo.project/{project.pk}/")
    with (
        override_settings(CACHES={**settings.CACHES, "rows": COUNTING}),
        aui_settings(ROW_CACHE="rows"),
    ):
        cold = client.get(url).content.decode()
        assert cold.count('class="aui-follow"') >= 5  # follow buttons, each a cached block
        caches["rows"].asked.clear()
        warm = client.get(url).content.decode()
        assert caches["rows"].asked == ["get_many"]  # rows and buttons: nothing to write
    assert _normal(warm) == _normal(cold)


def _row(html: str, action_id: int) -> str:
    """The article of one feed row."""
    start = html.rindex("<article", 0, html.index(f'id="aui-action-{action_id}"'))
    return html[start : html.index("</article>", start)]


def test_whole_feed_rows_keep_each_viewers_state(world):
    """Rows are cached whole, "new", the divider and the follow state in their key: viewers
    in other states never get each other's row, and a change of state is drawn at once."""
    import activityui

    followed = Follow.objects.filter(content_type__model="task").values("object_id")
    task = (
        Task.objects.filter(project__team__name="Apollo")
        .exclude(pk__in=[int(f["object_id"]) for f in followed])
        .order_by("-pk")
        .first()
    )
    action = activityui.record(world["staff"], "commented", task, task.project, comment="hi")
    alice, bob = Client(), Client()
    alice.force_login(world["alice"])
    bob.force_login(world["bob"])

    def rows() -> tuple[str, str]:
        mine = _row(alice.get("/activity/").content.decode(), action.pk)
        theirs = _row(bob.get("/activity/").content.decode(), action.pk)
        return _normal(mine), _normal(theirs)

    for _ in range(2):  # cold, then warm: new to both, followed by neither
        mine, theirs = rows()
        assert mine == theirs
        assert "aui-entry--new" in mine and 'aria-pressed="false"' in mine
    alice.post(f"/activity/follow/demo.task/{task.pk}/")
    mine, theirs = rows()
    assert 'aria-pressed="true"' in mine and 'aria-pressed="false"' in theirs
    move_read_marker(
        user=world["alice"], feed="team", timestamp=action.timestamp, action_id=action.pk
    )
    mine, theirs = rows()
    assert "aui-entry--new" not in mine and "aui-entry--new" in theirs
    assert 'aria-pressed="true"' in mine and 'aria-pressed="false"' in theirs


def _templates_with(tmp_path: Path, name: str, change) -> list[dict]:
    """The demo's TEMPLATES with ``name`` overridden by a copy of activityui's, changed."""
    source = Path(__file__).parent.parent / "activityui/templates" / name
    override = tmp_path / name
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(change(source.read_text()))
    return [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def test_an_overridden_row_template_is_drawn_around_its_blocks(world, tmp_path: Path):
    from activityui.rowcache import own_row_templates

    client = Client()
    client.force_login(world["alice"])
    assert own_row_templates()
    engines = _templates_with(
        tmp_path, "activityui/_feed_item.html", lambda text: text.replace("tabindex", "data-host")
    )
    with override_settings(TEMPLATES=engines):
        assert not own_row_templates()  # rows drawn per request around their cached parts
        cold = client.get("/activity/").content.decode()
        warm = client.get("/activity/").content.decode()
    assert "data-host" in warm and _normal(warm) == _normal(cold)


def test_a_host_feed_page_looping_over_row_templates_reads_rows_twice_at_most(
    world, tmp_path: Path
):
    """A host's feed.html that includes the row template itself (not {% aui_feed_rows %}):
    the rows' parts are read in one more round trip, not one per row."""
    client = Client()
    client.force_login(world["alice"])
    loop = '{% for item in day.items %}{% include "activityui/_feed_item.html" %}{% endfor %}'
    engines = _templates_with(
        tmp_path,
        "activityui/feed.html",
        lambda text: text.replace("{% aui_feed_rows day.items %}", loop),
    )
    with (
        override_settings(TEMPLATES=engines, CACHES={**settings.CACHES, "rows": COUNTING}),
        aui_settings(ROW_CACHE="rows"),
    ):
        expected = _normal(client.get("/activity/").content.decode())  # cold
        caches["rows"].asked.clear()
        warm = _normal(client.get("/activity/").content.decode())
        assert caches["rows"].asked == ["get_many", "get_many"]
    assert warm == expected
    assert warm == _normal(client.get("/activity/").content.decode())  # as drawn by activityui


def test_forget_rows_draws_every_row_again(world):
    from activityui.rowcache import forget_rows

    client = Client()
    client.force_login(world["alice"])
    with (
        override_settings(CACHES={**settings.CACHES, "rows": COUNTING}),
        aui_settings(ROW_CACHE="rows"),
    ):
        client.get("/activity/")
        forget_rows()  # new keys, drawn at random (never another process's)
        caches["rows"].asked.clear()
        client.get("/activity/")
        assert caches["rows"].asked == ["get_many", "set_many"]


@given(
    seconds=st.floats(min_value=0, max_value=3 * 86400, allow_nan=False),
    language=st.sampled_from(["en", "fr"]),
    zone=st.sampled_from([dt.UTC, ZoneInfo("Europe/Paris")]),
)
@example(seconds=60, language="en", zone=dt.UTC)
@example(seconds=3599.999, language="fr", zone=dt.UTC)
@example(seconds=86399.5, language="en", zone=dt.UTC)
def test_relative_times_under_a_day_read_as_djangos_timesince_words(seconds, language, zone):
    # aui_ago words a time under a day once per language, hours and minutes: the same words
    from django.utils.timesince import timesince
    from django.utils.translation import gettext, override

    from activityui.templatetags.activityui import aui_ago

    now = dt.datetime(2026, 3, 29, 1, 30, 15, 250000, tzinfo=dt.UTC)  # Paris changes clocks
    value = (now - dt.timedelta(seconds=seconds)).astimezone(zone)
    with time_machine.travel(now, tick=False), override(language):
        expected = (
            gettext("seconds ago")
            if seconds < 60
            else gettext("%(time)s ago") % {"time": timesince(value, depth=1)}
        )
        assert aui_ago(value) == expected
        assert aui_ago(value) == expected  # remembered


def _timeline_row(html: str, tid: str, action_id: int) -> str:
    start = html.index(f'<li class="aui-tl" id="{tid}-action-{action_id}"')
    ends = [html.find(end, start + 1) for end in ('<li class="aui-tl" ', "</ol>")]
    return html[start : min(end for end in ends if end > 0)]


def test_whole_timeline_rows_keep_each_viewers_links(world):
    """Timeline rows are cached whole: the viewer's Restore buttons, the timeline's id on the
    page and whether it is embedded are in their key, so nobody gets another's row."""
    from django.contrib.auth.models import Permission

    alice, bob = world["alice"], world["bob"]
    alice.user_permissions.add(Permission.objects.get(codename="change_task"))
    task = Task.objects.filter(project__team__name="Apollo").order_by("pk").first()
    changed = (
        Action.objects.filter(action_object_object_id=str(task.pk), data__changes__has_key="status")
        .order_by("-timestamp", "-id")
        .first()
    )
    assert changed is not None
    url = f"/activity/objects/demo.task/{task.pk}/"
    clients = {}
    for user in (alice, bob):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    rows = []
    for _ in range(2):  # cold, then warm
        mine = clients["alice"].get(url).content.decode()
        theirs = clients["bob"].get(url).content.decode()
        embedded = {**HX, "HX-Current-URL": f"http://testserver/tasks/{task.pk}/"}
        second = clients["bob"].get(url + "?tl=aui-tl-2", headers=embedded).content.decode()
        rows.append(
            (
                _normal(_timeline_row(mine, "timeline", changed.pk)),
                _normal(_timeline_row(theirs, "timeline", changed.pk)),
                _normal(_timeline_row(second, "aui-tl-2", changed.pk)),
            )
        )
    assert rows[0] == rows[1]
    mine, theirs, second = rows[0]
    assert "aui-tl__restore" in mine and "aui-tl__restore" not in theirs
    assert 'id="aui-tl-2-action-' in second and 'id="timeline-action-' not in second
    assert 'hx-push-url="true"' in theirs and 'hx-push-url="false"' in second


@pytest.mark.parametrize("which", ["timeline", "staff", "staff filtered"])
def test_warm_timeline_and_staff_pages_read_their_rows_in_one_round_trip(world, which):
    client = Client()
    client.force_login(world["staff"])
    task = Task.objects.filter(project__team__name="Apollo").order_by("pk").first()
    url = {
        "timeline": f"/activity/objects/demo.task/{task.pk}/",
        "staff": "/activity/staff/",
        "staff filtered": "/activity/staff/?verb=commented",
    }[which]
    with (
        override_settings(CACHES={**settings.CACHES, "rows": COUNTING}),
        aui_settings(ROW_CACHE="rows"),
    ):
        cold = client.get(url).content.decode()
        caches["rows"].asked.clear()
        warm = client.get(url).content.decode()
        assert caches["rows"].asked == ["get_many"]
    assert _normal(warm) == _normal(cold)
    if which == "staff filtered":  # each row's link carries the filters back
        assert warm.count("?verb=commented") >= 10

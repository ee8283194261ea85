"""The activity feed views: page and fragments, visibility, cursors, polling, read markers,
follow toggle, filters, aggregation and the query budget."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from actstream.models import Action, Follow
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import activityui
from activityui.cursors import decode_cursor, encode_cursor
from activityui.keyset import newer_than
from activityui.models import ReadMarker
from activityui.selectors import action_list_for_feed
from demo_site.demo.models import Project, Task

HX = {"HX-Request": "true"}


def aui_settings(**values):
    """The demo's ACTIVITYUI settings with ``values`` changed."""
    from django.conf import settings

    return override_settings(ACTIVITYUI={**settings.ACTIVITYUI, **values})


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def apollo_task() -> Task:
    return Task.objects.filter(project__team__name="Apollo").order_by("pk").first()


def zephyr_task() -> Task:
    return Task.objects.filter(project__team__name="Zephyr").order_by("pk").first()


def newest_action() -> Action:
    return Action.objects.order_by("-timestamp", "-id").first()


def cursor_of(action: Action) -> str:
    return encode_cursor(action.timestamp, action.pk)


def poll(client: Client, url: str, after: str, **params: str):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(
        f"{url}?{query}&after={after}" if query else f"{url}?after={after}",
        headers={**HX, "HX-Target": "feed-banner", "HX-Trigger": "feed-poll"},
    )


# --- page and fragments ---


def test_feed_page_reads_as_sentences_with_links_and_times(client, demo):
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project, comment="Ship it")
    response = signed_in(client, demo["alice"]).get("/activity/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="feed"' in html
    assert f'href="{task.get_absolute_url()}"' in html
    assert f'href="{task.project.get_absolute_url()}"' in html
    assert "commented on" in html and "Ship it" in html
    assert re.search(r'<time class="aui-time" datetime="[^"]+\+00:00" title="[^"]+">', html)
    assert 'class="aui-avatar aui-hue-' in html
    assert '<h2 class="aui-day"' in html and ">Today</h2>" in html


def test_feed_time_tooltip_uses_the_active_time_zone(client, demo):
    task = apollo_task()
    when = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    activityui.record(demo["bob"], "commented", task, task.project, timestamp=when)
    response = signed_in(client, demo["alice"]).get("/activity/?q=commented&since=2026-01-15")
    html = response.content.decode()
    # settings.TIME_ZONE is Europe/Paris: 12:00 UTC is 13:00 there, "1 p.m." in English
    assert 'datetime="2026-01-15T12:00:00+00:00" title="Jan. 15, 2026, 1 p.m. (CET)"' in html


def test_feed_htmx_request_gets_the_items_fragment_and_a_clean_pushed_url(client, demo):
    response = signed_in(client, demo["alice"]).get("/activity/?verb=updated&actor=&q=", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="feed-stream"' in html
    assert response["HX-Push-Url"] == "/activity/?verb=updated"
    assert "HX-Request" in response["Vary"]


def test_feed_responses_vary_on_the_htmx_target_too(client, demo):
    # the poll (HX-Target: feed-banner) and the "new items" reveal share the feed's URL and
    # cursor: a cache in front of the site must not serve one for the other
    alice = signed_in(client, demo["alice"])
    newest = alice.get("/activity/").context["newest_cursor"]
    poll = alice.get(f"/activity/?after={newest}", headers={**HX, "HX-Target": "feed-banner"})
    page = alice.get("/activity/", headers=HX)
    for response in (poll, page):
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"HX-Request", "HX-Target"} <= vary


def test_feed_every_response_names_the_headers_it_depends_on(client, demo):
    from activityui.views.common import FRAGMENT_VARY

    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    responses = [
        poll(alice, "/activity/", after),  # nothing new: 204
        alice.get(f"/activity/?after={after}", headers=HX),  # the reveal, nothing to show
        alice.get("/activity/?before=nope", headers=HX),  # 400
        alice.get(f"/activity/?before={after}"),  # load more without JavaScript
    ]
    assert [r.status_code for r in responses] == [204, 200, 400, 200]
    for response in responses:
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {*FRAGMENT_VARY, "HX-Target"} <= vary


def test_feed_history_restore_gets_the_full_page(client, demo):
    response = signed_in(client, demo["alice"]).get(
        "/activity/?verb=updated", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" in html
    assert '<option value="updated" selected>' in html


def test_feed_direct_filtered_url_renders_the_filtered_page(client, demo):
    response = signed_in(client, demo["alice"]).get("/activity/?verb=created")
    html = response.content.decode()
    assert '<option value="created" selected>' in html
    verbs = set(re.findall(r'<span class="aui-verb">([^<]+)</span>', html))
    assert verbs and all(v.startswith("created") for v in verbs)


def test_feed_requires_sign_in(client, demo):
    response = client.get("/activity/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("param", ["before", "after", "seen"])
def test_feed_bad_cursor_is_a_400(client, demo, param):
    response = signed_in(client, demo["alice"]).get(f"/activity/?{param}=not-a-cursor")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "since=yesterday",
        "until=2026-02-31",
        "verb=frobnicated",
        "object_type=auth.nope",
        "actor=carol",
    ],
)
def test_feed_invalid_filters_are_form_errors(client, demo, query):
    response = signed_in(client, demo["alice"]).get(f"/activity/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters are not valid" in html
    assert "aui-field--invalid" in html
    assert "aui-entry" not in html


def test_feed_invalid_filters_update_the_field_errors_out_of_band(client, demo):
    response = signed_in(client, demo["alice"]).get("/activity/?since=nope", headers=HX)
    html = response.content.decode()
    assert re.search(r'<span id="id_since_error" class="aui-error" hx-swap-oob="true">\S', html)


def test_feed_empty_state_with_filters_offers_to_clear_them(client, demo):
    response = signed_in(client, demo["alice"]).get("/activity/?q=nothing-like-this-anywhere")
    html = response.content.decode()
    assert "Nothing matches these filters." in html
    assert 'href="/activity/">Clear filters' in html


def test_following_feed_empty_state_explains_following(client, demo):
    Follow.objects.filter(user=demo["alice"]).delete()
    response = signed_in(client, demo["alice"]).get("/activity/following/")
    assert "Follow a project or a task" in response.content.decode()


# --- visibility ---


def test_feed_carol_never_sees_apollo(client, demo):
    alice_task = apollo_task()
    activityui.record(demo["bob"], "commented", alice_task, alice_task.project, comment="secret")
    carol = signed_in(client, demo["carol"])
    html = carol.get("/activity/").content.decode()
    assert "Apollo" not in html and "secret" not in html
    assert "Zephyr" in html
    old = cursor_of(Action.objects.order_by("timestamp", "id").first())
    assert (
        "Apollo"
        not in carol.get(f"/activity/?before={cursor_of(newest_action())}").content.decode()
    )
    # polls and reveals count and show only Zephyr's news
    zephyr = zephyr_task()
    activityui.record(demo["carol"], "commented", zephyr, zephyr.project)
    banner = re.sub(r"\s+", " ", poll(carol, "/activity/", old).content.decode())
    visible = newer_than(action_list_for_feed(user=demo["carol"], feed="team"), decode_cursor(old))
    assert f"</svg> {min(visible.count(), 100)} new activities" in banner
    reveal = carol.get(f"/activity/?after={old}", headers=HX).content.decode()
    assert "Apollo" not in reveal and "secret" not in reveal


def test_feed_person_choices_list_only_people_who_acted_in_what_the_user_may_see(client, demo):
    html = signed_in(client, demo["carol"]).get("/activity/").content.decode()
    select = re.search(r'<select name="actor".*?</select>', html, re.S).group(0)
    assert 'value="carol"' in select
    assert 'value="alice"' in select  # the seed has alice create team Zephyr
    assert 'value="bob"' not in select  # bob never did anything in Zephyr


def test_feed_menus_read_the_newest_actions_and_keep_a_person_a_link_names(client, demo):
    from activityui.menus import MENU_WINDOW

    dave = demo["alice"].__class__.objects.create_user(
        "dave", first_name="Dave", last_name="Old", password="x"
    )
    project = Project.objects.get(name="Apollo Web")
    project.team.members.add(dave)
    task = apollo_task()
    activityui.record(dave, "archived", task, task.project)  # one action, then many newer
    activityui.record_bulk(demo["bob"], "updated", [task] * MENU_WINDOW, target=task.project)
    alice = signed_in(client, demo["alice"])
    html = alice.get("/activity/").content.decode()
    actors = re.search(r'<select name="actor".*?</select>', html, re.S).group(0)
    verbs = re.search(r'<select name="verb".*?</select>', html, re.S).group(0)
    assert 'value="bob"' in actors
    assert 'value="dave"' not in actors and 'value="archived"' not in verbs
    # a link naming dave (or his verb) still filters: he acted where alice may see
    response = alice.get("/activity/?actor=dave&verb=archived")
    assert response.status_code == 200
    assert [a.verb for a in response.context["page"].actions] == ["archived"]
    assert 'value="dave" selected' in response.content.decode()
    # erin acted only in Zephyr: a link naming her is not a way to learn her name
    erin = dave.__class__.objects.create_user("erin", first_name="Erin", last_name="Hidden")
    zephyr = zephyr_task()
    zephyr.project.team.members.add(erin)
    activityui.record(erin, "commented", zephyr, zephyr.project)
    response = alice.get("/activity/?actor=erin")
    assert "actor" in response.context["filterset"].form.errors  # an invalid choice
    assert response.context["page"].actions == []
    assert "Erin" not in response.content.decode()


def test_a_person_a_link_names_is_looked_for_in_their_newest_actions_only(
    client, demo, monkeypatch
):
    """``?actor=carol`` in alice's feed must not walk all of carol's Zephyr history (seconds at
    a million actions): only carol's newest PERSON_WINDOW actions are tested for visibility."""
    from activityui import menus

    monkeypatch.setattr(menus, "PERSON_WINDOW", 3)
    dave = demo["alice"].__class__.objects.create_user("dave", first_name="Dave")
    apollo, zephyr = apollo_task(), zephyr_task()
    apollo.project.team.members.add(dave)
    zephyr.project.team.members.add(dave)
    at = timezone.now() - dt.timedelta(days=3)
    with activityui.acting_as(dave, at=at):
        activityui.record(dave, "archived", apollo, apollo.project)  # alice may see this one
    for hours in (1, 2):
        with activityui.acting_as(dave, at=at + dt.timedelta(hours=hours)):
            activityui.record(dave, "commented", zephyr, zephyr.project)  # she may not
    alice = signed_in(client, demo["alice"])
    assert menus.person_seen_by(demo["alice"], "dave") == dave  # 1 of his newest 3: visible
    response = alice.get("/activity/?actor=dave")
    assert [a.verb for a in response.context["page"].actions] == ["archived"]
    with activityui.acting_as(dave, at=at + dt.timedelta(hours=3)):
        activityui.record(dave, "commented", zephyr, zephyr.project)
    # now his newest 3 are all hidden from alice: outside the feed's menu window (here the
    # window still holds his visible action, so the page keeps him) he is unknown to her
    assert menus.person_seen_by(demo["alice"], "dave") is None
    assert menus.person_seen_by(demo["carol"], "dave") == dave  # carol sees Zephyr
    assert menus.person_seen_by(demo["alice"], "nobody") is None


def test_feed_menus_are_remembered_per_viewer_until_the_site_changes(client, demo):
    from django.core.cache import cache

    cache.clear()
    alice = signed_in(client, demo["alice"])

    def page() -> tuple[str, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            html = alice.get("/activity/").content.decode()
        actors = re.search(r'<select name="actor".*?</select>', html, re.S).group(0)
        return actors, [q["sql"] for q in queries.captured_queries]

    first, cold = page()
    again, warm = page()
    assert again == first
    window = [sql for sql in cold if "DISTINCT" in sql and '"verb"' in sql]
    assert len(window) == 1  # the window is read once...
    assert not [sql for sql in warm if "DISTINCT" in sql and '"verb"' in sql]  # ...then remembered
    # a new person's action changes the site: the menus are read again and name them
    frank = demo["alice"].__class__.objects.create_user("frank", first_name="Frank")
    task = apollo_task()
    task.project.team.members.add(frank)
    activityui.record(frank, "commented", task, task.project)
    after, _ = page()
    assert 'value="frank"' in after and 'value="frank"' not in first
    # another viewer never gets alice's menus: carol sees no Apollo people
    carol = Client()
    carol.force_login(demo["carol"])
    html = carol.get("/activity/").content.decode()
    menu = re.search(r'<select name="actor".*?</select>', html, re.S).group(0)
    assert 'value="frank"' not in menu


def test_feed_unread_badge_never_counts_hidden_actions(client, demo):
    carol = signed_in(client, demo["carol"])
    ReadMarker.objects.create(
        user=demo["carol"], feed="team", timestamp=timezone.now(), action_id=newest_action().pk
    )
    task = apollo_task()
    for _ in range(3):
        activityui.record(demo["bob"], "commented", task, task.project)
    html = carol.get("/projects/").content.decode()
    assert 'id="aui-unread-team" class="aui-badge"></span>' in html


# --- remembered under the site's signature (activityui.polls.remembered) ---

UNREAD = re.compile(r'id="aui-unread-team" class="aui-badge">(\d+\+?)?<')


def _badge(client: Client, url: str = "/projects/") -> tuple[str, list[str]]:
    """The team-feed badge a page shows, and the page's SQL."""
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    return UNREAD.search(html).group(1) or "", [q["sql"] for q in queries.captured_queries]


def _counts(sql: list[str]) -> list[str]:
    return [q for q in sql if q.upper().startswith("SELECT COUNT(")]


def test_unread_badge_is_remembered_until_an_action_arrives(client, demo):
    mark_read_up_to(demo["alice"], newest_action())
    task = apollo_task()
    activityui.record_bulk(demo["bob"], "commented", [task] * 2, target=task.project)
    alice = signed_in(client, demo["alice"])
    first, cold = _badge(alice)
    again, warm = _badge(alice)
    assert (first, again) == ("2", "2")
    assert len(_counts(cold)) == 1 and not _counts(warm)  # counted once, then remembered
    activityui.record(demo["bob"], "commented", task, task.project)  # the site changes
    after, sql = _badge(alice)
    assert after == "3" and len(_counts(sql)) == 1


def test_unread_badge_follows_the_read_marker(client, demo):
    mark_read_up_to(demo["alice"], newest_action())
    task = apollo_task()
    activityui.record_bulk(demo["bob"], "commented", [task] * 3, target=task.project)
    alice = signed_in(client, demo["alice"])
    assert _badge(alice)[0] == "3"
    middle = Action.objects.order_by("-timestamp", "-id")[1]
    alice.post("/activity/read/", {"feed": "team", "cursor": cursor_of(middle)}, headers=HX)
    assert _badge(alice)[0] == "1"  # no action written: the marker alone renews the count
    alice.post("/activity/read/", {"feed": "team", "cursor": cursor_of(newest_action())})
    assert _badge(alice)[0] == ""


def test_unread_badge_is_never_another_viewers(client, demo):
    from activityui.selectors import unread_count

    task = apollo_task()
    mark_read_up_to(demo["alice"], newest_action())
    activityui.record_bulk(demo["carol"], "commented", [task] * 2, target=task.project)
    mark_read_up_to(demo["bob"], newest_action())
    activityui.record(demo["alice"], "commented", task, task.project)
    # the same site signature for all: each viewer's own count, never the one remembered first
    got = {}
    for name in ("alice", "bob", "carol", "alice", "bob"):
        viewer = Client()
        viewer.force_login(demo[name])
        got[name] = _badge(viewer)[0]
        expected = unread_count(user=demo[name], feed="team", limit=20)
        assert got[name] == (str(expected) if expected else ""), name
    assert (got["alice"], got["bob"]) == ("2", "1")


def test_feed_page_badge_past_the_page_is_remembered(client, demo):
    _seed_many(demo, 40)
    mark_read_up_to(demo["alice"], Action.objects.order_by("-timestamp", "-id")[30])
    alice = signed_in(client, demo["alice"])
    with aui_settings(PAGE_SIZE=5):
        first, cold = _badge(alice, "/activity/")
        again, warm = _badge(alice, "/activity/")
        # the same count as on any other page, which reads it from the same memo
        elsewhere, other = _badge(alice)
    assert first == again == elsewhere == "15"  # alice's own actions are not news
    assert len(_counts(cold)) == 1 and not _counts(warm) and not _counts(other)


def test_feed_menus_remember_peoples_names_until_the_site_changes(client, demo):
    alice = signed_in(client, demo["alice"])

    def menu() -> str:
        html = alice.get("/activity/").content.decode()
        return re.search(r'<select name="actor".*?</select>', html, re.S).group(0)

    assert ">Bob Nguyen<" in menu()
    bob = demo["bob"]
    bob.first_name = "Robert"
    bob.save()
    task = apollo_task()
    activityui.record(demo["carol"], "commented", task, task.project)  # any new action
    assert ">Robert Nguyen<" in menu() and "Bob Nguyen" not in menu()


# --- load more ---


@aui_settings(PAGE_SIZE=5)
def test_feed_load_more_pages_by_before_cursor_without_offset(client, demo):
    alice = signed_in(client, demo["alice"])
    first = alice.get("/activity/").content.decode()
    more = (
        re.search(r'href="(/activity/\?[^"]*before=[^"]+)"', first).group(1).replace("&amp;", "&")
    )
    first_ids = [
        int(i) for i in re.findall(r'<article class="aui-entry[^"]*" id="aui-action-(\d+)"', first)
    ]
    with CaptureQueriesContext(connection) as queries:
        second = alice.get(more, headers=HX).content.decode()
    second_ids = [int(i) for i in re.findall(r'id="aui-action-(\d+)"', second)]
    assert second_ids and not set(second_ids) & set(first_ids)
    oldest_first = Action.objects.get(pk=first_ids[-1])
    for pk in second_ids:
        assert Action.objects.get(pk=pk).timestamp <= oldest_first.timestamp
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    assert "<html" not in second and 'id="feed-more"' in second


@aui_settings(PAGE_SIZE=3)
def test_feed_load_more_continues_the_same_day_without_a_new_heading(client, demo):
    projects = list(Project.objects.filter(team__name="Apollo"))
    now = timezone.now()
    for n in range(8):
        task = Task.objects.filter(project=projects[n % len(projects)]).first()
        activityui.record(
            demo["bob"], "commented", task, task.project, timestamp=now - dt.timedelta(seconds=n)
        )
    alice = signed_in(client, demo["alice"])
    first = alice.get("/activity/").content.decode()
    day = timezone.localdate().isoformat()
    assert first.count(f'id="aui-day-{day}-title"') == 1
    more = (
        re.search(r'href="(/activity/\?[^"]*before=[^"]+)"', first).group(1).replace("&amp;", "&")
    )
    second = alice.get(more, headers=HX).content.decode()
    assert f'hx-swap-oob="beforeend:#aui-day-{day}-items"' in second
    assert f'id="aui-day-{day}-title"' not in second
    # without JavaScript the link is a page of its own, with its heading
    full = alice.get(more).content.decode()
    assert f'id="aui-day-{day}-title"' in full


# --- polling ---


def test_feed_poll_without_news_is_a_204(client, demo):
    alice = signed_in(client, demo["alice"])
    response = poll(alice, "/activity/", cursor_of(newest_action()))
    assert response.status_code == 204
    assert response.content == b""


def polled_twice(client: Client, after: str) -> tuple[int, int, int]:
    """The statuses of two identical polls and the queries of the second."""
    first = poll(client, "/activity/", after).status_code  # also warms the session cache
    with CaptureQueriesContext(connection) as queries:
        second = poll(client, "/activity/", after).status_code
    return first, second, len(queries.captured_queries)


def test_feed_poll_without_news_anywhere_is_two_queries(client, demo):
    alice = signed_in(client, demo["alice"])
    # the user, then the site's signature (two index probes in one query): no scope
    assert polled_twice(alice, cursor_of(newest_action())) == (204, 204, 2)


def test_feed_poll_with_news_elsewhere_is_two_queries_once_checked(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    activityui.record(demo["carol"], "commented", zephyr_task(), zephyr_task().project)
    # the first poll's full check found nothing for alice: remembered until the next action
    assert polled_twice(alice, after) == (204, 204, 2)


def test_feed_poll_remembered_quiet_ends_with_the_next_action(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    activityui.record(demo["carol"], "commented", zephyr_task(), zephyr_task().project)
    assert poll(alice, "/activity/", after).status_code == 204
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project)
    response = poll(alice, "/activity/", after)
    assert response.status_code == 200
    assert "1 new activity" in response.content.decode()


def test_feed_poll_remembered_quiet_ends_with_a_backdated_action(client, demo):
    # written with an older timestamp than the site's newest action (an import, a clock
    # behind): the newest (timestamp, id) stays the same, the highest id does not
    alice = signed_in(client, demo["alice"])
    start = newest_action()
    after = cursor_of(start)
    later = start.timestamp + dt.timedelta(minutes=5)
    activityui.record(
        demo["carol"], "commented", zephyr_task(), zephyr_task().project, timestamp=later
    )
    assert poll(alice, "/activity/", after).status_code == 204
    task = apollo_task()
    between = start.timestamp + dt.timedelta(minutes=1)
    activityui.record(demo["bob"], "commented", task, task.project, timestamp=between)
    assert newest_action().timestamp == later
    assert poll(alice, "/activity/", after).status_code == 200


def test_feed_poll_remembers_per_user_and_filters(client, demo):
    after = cursor_of(newest_action())
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project)
    carol = signed_in(Client(), demo["carol"])
    assert poll(carol, "/activity/", after).status_code == 204  # not hers: remembered quiet
    alice = signed_in(client, demo["alice"])
    assert poll(alice, "/activity/", after, verb="updated").status_code == 204
    assert poll(alice, "/activity/", after).status_code == 200
    assert poll(alice, "/activity/", after, verb="commented").status_code == 200


def news_elsewhere_then_here(client: Client, demo, after: str) -> list[int]:
    """Poll twice after news in Zephyr, then once after news in Apollo: the statuses."""
    activityui.record(demo["carol"], "commented", zephyr_task(), zephyr_task().project)
    statuses = [poll(client, "/activity/", after).status_code for _ in range(2)]
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project)
    return [*statuses, poll(client, "/activity/", after).status_code]


def test_feed_poll_without_a_cache_gives_the_same_answers(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    with aui_settings(POLL_CACHE=None):
        assert news_elsewhere_then_here(alice, demo, after) == [204, 204, 200]


def test_feed_poll_with_a_broken_cache_still_answers(client, demo, tmp_path, settings):
    # a real cache backend that fails on every read and write: its directory is a file
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(blocker / "cache"),
        },
    }
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    with aui_settings(POLL_CACHE="broken"):
        assert news_elsewhere_then_here(alice, demo, after) == [204, 204, 200]


def test_feed_poll_with_news_returns_the_banner(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project)
    activityui.record(demo["bob"], "commented", task, task.project)
    response = poll(alice, "/activity/", after)
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 new activities" in html
    assert f"after={after}" in html and 'hx-target="#feed-stream"' in html


def test_feed_poll_respects_the_filters(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    task = apollo_task()
    activityui.record(demo["bob"], "commented", task, task.project)
    assert poll(alice, "/activity/", after, verb="updated").status_code == 204
    assert poll(alice, "/activity/", after, verb="commented").status_code == 200


def test_feed_poll_with_too_much_news_stops_polling_and_offers_a_reload(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    task = apollo_task()
    with aui_settings(MAX_PAGE_SIZE=2):
        for _ in range(3):
            activityui.record(demo["bob"], "commented", task, task.project)
        html = poll(alice, "/activity/", after).content.decode()
    assert "More than 2 new activities" in html
    assert '<div id="feed-poll" hx-swap-oob="delete"></div>' in html


def test_feed_page_has_a_polling_sentinel_with_the_newest_cursor(client, demo):
    html = signed_in(client, demo["alice"]).get("/activity/?verb=updated").content.decode()
    newest = (
        Action.objects.filter(
            verb="updated",
            target_object_id__in=[str(p.pk) for p in Project.objects.filter(team__name="Apollo")],
        )
        .order_by("-timestamp", "-id")
        .first()
    )
    sentinel = re.search(r'<div id="feed-poll"[^>]*>', html).group(0)
    assert 'data-aui-poll="10"' in sentinel and 'hx-trigger="aui:poll"' in sentinel
    assert f"verb=updated&amp;after={cursor_of(newest)}" in sentinel
    assert "every" not in sentinel


@aui_settings(POLL_INTERVAL=0)
def test_feed_poll_interval_zero_turns_live_updates_off(client, demo):
    html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    assert 'id="feed-poll"' not in html


def test_feed_reveal_returns_the_new_entries_and_a_new_sentinel(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    task = apollo_task()
    new = activityui.record(demo["bob"], "commented", task, task.project, comment="fresh")
    html = alice.get(f"/activity/?after={after}", headers=HX).content.decode()
    assert f'id="aui-action-{new.pk}"' in html and "fresh" in html
    sentinel = re.search(r'<div id="feed-poll"[^>]*>', html).group(0)
    assert 'hx-swap-oob="true"' in sentinel
    assert f"after={cursor_of(new)}" in sentinel
    assert '<div id="feed-banner" hx-swap-oob="innerHTML"></div>' in html


# --- since your last visit ---


def test_feed_get_never_writes_the_read_marker(client, demo):
    alice = signed_in(client, demo["alice"])
    alice.get("/activity/")
    alice.get("/activity/", headers=HX)
    assert not ReadMarker.objects.exists()


def test_feed_mark_read_post_moves_the_marker_forward_only(client, demo):
    alice = signed_in(client, demo["alice"])
    newest = newest_action()
    older = Action.objects.order_by("timestamp", "id").first()
    response = alice.post(
        "/activity/read/", {"feed": "team", "cursor": cursor_of(newest)}, headers=HX
    )
    assert response.status_code == 200
    assert '"aui:unread"' in response["HX-Trigger"]
    alice.post("/activity/read/", {"feed": "team", "cursor": cursor_of(older)}, headers=HX)
    marker = ReadMarker.objects.get(user=demo["alice"], feed="team")
    assert (marker.timestamp, marker.action_id) == (newest.timestamp, newest.pk)
    assert ReadMarker.objects.count() == 1


def test_feed_mark_read_event_carries_the_new_unread_count(client, demo):
    import json

    alice = signed_in(client, demo["alice"])
    seen = newest_action()
    task = apollo_task()
    activityui.record_bulk(demo["bob"], "commented", [task] * 2, target=task.project)
    activityui.record(demo["alice"], "commented", task, task.project)  # her own: not news
    response = alice.post(
        "/activity/read/", {"feed": "team", "cursor": cursor_of(seen)}, headers=HX
    )
    assert json.loads(response["HX-Trigger"]) == {"aui:unread": {"feed": "team", "count": "2"}}


def test_unread_badge_carries_the_word_new_in_the_users_language(client, demo):
    # activityui.js rebuilds the badge from the aui:unread event with this word
    alice = signed_in(client, demo["alice"])
    french = alice.get("/projects/", headers={"Accept-Language": "fr"}).content.decode()
    english = alice.get("/projects/", headers={"Accept-Language": "en"}).content.decode()
    assert 'data-aui-new-label="nouveau" id="aui-unread-team"' in french
    assert 'data-aui-new-label="new" id="aui-unread-team"' in english


def test_feed_mark_read_without_htmx_redirects_to_the_feed(client, demo):
    response = signed_in(client, demo["alice"]).post(
        "/activity/read/", {"feed": "following", "cursor": cursor_of(newest_action())}
    )
    assert response.status_code == 302 and response["Location"] == "/activity/following/"


def test_feed_mark_read_needs_csrf(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo["alice"])
    response = client.post(
        "/activity/read/", {"feed": "team", "cursor": cursor_of(newest_action())}
    )
    assert response.status_code == 403
    assert not ReadMarker.objects.exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [({"feed": "team", "cursor": "zzz"}, 400), ({"feed": "nope", "cursor": "x"}, 404)],
)
def test_feed_mark_read_bad_input(client, demo, data, status):
    assert signed_in(client, demo["alice"]).post("/activity/read/", data).status_code == status


def mark_read_up_to(user, action) -> None:
    """The user's team-feed read marker at ``action``."""
    ReadMarker.objects.create(
        user=user, feed="team", timestamp=action.timestamp, action_id=action.pk
    )


def test_feed_mark_read_is_post_only(client, demo):
    assert signed_in(client, demo["alice"]).get("/activity/read/").status_code == 405


def test_feed_divider_marks_what_is_new_since_the_last_visit(client, demo):
    mark_read_up_to(demo["alice"], newest_action())
    task = apollo_task()
    new = activityui.record(demo["bob"], "commented", task, task.project, comment="news")
    html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    assert html.count("New since your last visit") == 1
    assert html.index(f'id="aui-action-{new.pk}"') < html.index("New since your last visit")
    assert f'aui-entry aui-entry--new" id="aui-action-{new.pk}"' in html
    # and the navigation counts it
    assert re.search(r'id="aui-unread-team" class="aui-badge">1<', html)


def test_feed_own_actions_are_not_news(client, demo):
    mark_read_up_to(demo["alice"], newest_action())
    task = apollo_task()
    activityui.record(demo["alice"], "commented", task, task.project)
    html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    assert "New since your last visit" not in html
    assert 'id="aui-unread-team" class="aui-badge"></span>' in html


def test_feed_unread_badge_is_capped(client, demo):
    mark_read_up_to(demo["alice"], newest_action())
    task = apollo_task()
    activityui.record_bulk(demo["bob"], "updated", [task] * 25, target=task.project)
    html = signed_in(client, demo["alice"]).get("/projects/").content.decode()
    assert re.search(r'id="aui-unread-team" class="aui-badge">20\+<', html)


def test_feed_first_page_offers_mark_read_only_when_something_is_unseen(client, demo):
    alice = signed_in(client, demo["alice"])
    assert 'action="/activity/read/"' in alice.get("/activity/").content.decode()
    newest = newest_action()
    mark_read_up_to(demo["alice"], newest)
    assert 'action="/activity/read/"' not in alice.get("/activity/").content.decode()


# --- aggregation ---


def test_feed_collapses_consecutive_similar_actions(client, demo):
    tasks = list(Task.objects.filter(project__name="Apollo Web")[:4])
    now = timezone.now()
    for n, task in enumerate(tasks):
        activityui.record(
            demo["bob"],
            "updated",
            task,
            task.project,
            timestamp=now - dt.timedelta(seconds=n),
            changes={"priority": [1, 2]},
        )
    html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    text = re.sub(r"\s+", " ", html)
    assert 'updated 4 tasks</span> <span class="aui-in">in</span>' in text
    group = text[text.index("aui-entry--group") :]
    assert '<details class="aui-group">' in group
    for task in tasks:
        assert task.title in group


# --- follow toggle ---


def test_follow_toggle_follows_and_unfollows(client, demo):
    task = apollo_task()
    alice = signed_in(client, demo["alice"])
    url = f"/activity/follow/demo.task/{task.pk}/"
    response = alice.post(url, headers=HX)
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    follows = Follow.objects.filter(user=demo["alice"], content_type_id=_task_ct())
    assert [f.object_id for f in follows] == [str(task.pk)]
    response = alice.post(url, headers=HX)
    assert 'aria-pressed="false"' in response.content.decode()
    assert not follows.all().exists()


def test_follow_without_htmx_redirects_back(client, demo):
    task = apollo_task()
    response = signed_in(client, demo["alice"]).post(
        f"/activity/follow/demo.task/{task.pk}/", {"next": "/projects/"}
    )
    assert response.status_code == 302 and response["Location"] == "/projects/"
    response = client.post(
        f"/activity/follow/demo.task/{task.pk}/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == task.get_absolute_url()


@pytest.mark.parametrize(
    "path",
    [
        "demo.task/{apollo}",
        "demo.task/abc",
        "demo.task/99999999999999999999999",
        "nope.model/1",
        "auth.permission/1",
    ],
)
def test_follow_is_404_for_what_the_user_may_not_see(client, demo, path):
    url = "/activity/follow/" + path.format(apollo=apollo_task().pk) + "/"
    before = Follow.objects.count()
    assert signed_in(client, demo["carol"]).post(url).status_code == 404
    assert Follow.objects.count() == before


def test_follow_needs_post_and_csrf(demo):
    task = apollo_task()
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo["alice"])
    url = f"/activity/follow/demo.task/{task.pk}/"
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert not Follow.objects.filter(content_type_id=_task_ct()).exists()


def test_following_feed_shows_actions_on_followed_objects(client, demo):
    task = apollo_task()
    other = Task.objects.filter(project__team__name="Apollo").exclude(pk=task.pk).first()
    alice = signed_in(client, demo["alice"])
    alice.post(f"/activity/follow/demo.task/{task.pk}/")
    followed = activityui.record(
        demo["bob"], "commented", task, task.project, comment="on followed"
    )
    unfollowed = activityui.record(
        demo["bob"], "commented", other, other.project, comment="elsewhere"
    )
    html = alice.get("/activity/following/").content.decode()
    assert f'id="aui-action-{followed.pk}"' in html
    assert f'id="aui-action-{unfollowed.pk}"' not in html


def test_task_page_shows_the_follow_button(client, demo):
    task = apollo_task()
    html = signed_in(client, demo["alice"]).get(task.get_absolute_url()).content.decode()
    assert f'action="/activity/follow/demo.task/{task.pk}/"' in html
    assert 'aria-pressed="false"' in html


def test_feed_entries_offer_follow_buttons_with_their_state(client, demo):
    task = apollo_task()
    Follow.objects.create(
        user=demo["alice"], content_type_id=_task_ct(), object_id=str(task.pk), actor_only=False
    )
    activityui.record(demo["bob"], "commented", task, task.project)
    html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    form = html[html.index(f'action="/activity/follow/demo.task/{task.pk}/"') :]
    assert form.index('aria-pressed="true"') < form.index("</form>")


def _task_ct() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Task).pk


# --- query budget ---


def _seed_many(demo, count: int) -> None:
    tasks = list(Task.objects.filter(project__team__name="Apollo"))
    now = timezone.now()
    actors = [demo["alice"], demo["bob"]]
    for n in range(count):
        task = tasks[n % len(tasks)]
        activityui.record(
            actors[n % 2],
            ["commented", "updated"][n % 3 % 2],
            task,
            task.project,
            timestamp=now - dt.timedelta(minutes=n),
            changes={"priority": [1, 2]},
        )


def _page_queries(
    client: Client, size: int, url: str = "/activity/", headers: dict[str, str] | None = None
) -> tuple[int, int]:
    from django.contrib.contenttypes.models import ContentType

    from activityui.visibility import visibility_rules

    for model in visibility_rules():  # a process-wide cache, warm in a running site
        ContentType.objects.get_for_model(model)
    with aui_settings(PAGE_SIZE=size):
        client.get(url, headers=headers or {})  # the menus remembered (menus.seen_remembered)
    with aui_settings(PAGE_SIZE=size), CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    entries = len(re.findall(r'id="aui-action-\d+"', response.content.decode()))
    return len(queries.captured_queries), entries


def test_feed_query_count_does_not_grow_with_the_page_size(client, demo):
    _seed_many(demo, 120)
    mark_read_up_to(demo["alice"], Action.objects.order_by("timestamp", "id")[3])
    task = apollo_task()  # then 50 of alice's own on top: no page of 10 or 50 decides
    activityui.record_bulk(demo["alice"], "updated", [task] * 50, target=task.project)
    alice = signed_in(client, demo["alice"])
    small, small_entries = _page_queries(alice, 10)
    large, large_entries = _page_queries(alice, 50)
    assert small_entries >= 10 and large_entries >= 50
    # user, read marker with the site's signature (one query, polls.read_marker_and_signature),
    # scope ids, visible ids, the page, follows; then the host page's nav: permissions (1).
    # Under the signature the unread actions past the page (the page alone does not reach
    # the marker or 20 unread) and the menus (what the feed's newest MENU_WINDOW actions
    # hold, and those people's names) are remembered (activityui.polls.remembered)
    assert (small, large) == (7, 7)


def test_feed_query_count_when_the_page_decides_the_unread_badge(client, demo):
    _seed_many(demo, 120)
    mark_read_up_to(demo["alice"], Action.objects.order_by("-timestamp", "-id")[6])
    alice = signed_in(client, demo["alice"])
    small, _ = _page_queries(alice, 10)
    large, _ = _page_queries(alice, 50)
    # the page reaches the read marker: the badge costs no query (the menus' signature is
    # read with the marker)
    assert (small, large) == (7, 7)


BADGE = re.compile(r'id="aui-unread-team" class="aui-badge">(\d+\+?)?<')


@pytest.mark.parametrize("size", [3, 5, 40])
@pytest.mark.parametrize("marker_at", [None, 0, 2, 4, 9, 30])
def test_feed_unread_badge_read_off_the_page_equals_the_count(client, demo, size, marker_at):
    """The badge the feed reads off its own page agrees with unread_count() (no page) for
    markers above, inside and below the page, with own and hidden actions mixed in."""
    from activityui.presenters import count_label
    from activityui.selectors import unread_count

    now = timezone.now()
    apollo, zephyr = apollo_task(), zephyr_task()
    for n in range(30):
        actor = [demo["bob"], demo["alice"], demo["bob"], demo["carol"]][n % 4]
        task = zephyr if actor == demo["carol"] else apollo
        activityui.record(
            actor, "commented", task, task.project, timestamp=now - dt.timedelta(minutes=n)
        )
    if marker_at is not None:
        mark_read_up_to(demo["alice"], Action.objects.order_by("-timestamp", "-id")[marker_at])
    expected = count_label(unread_count(user=demo["alice"], feed="team", limit=20), 20)
    with aui_settings(PAGE_SIZE=size):
        html = signed_in(client, demo["alice"]).get("/activity/").content.decode()
    assert (BADGE.search(html).group(1) or "") == expected


def test_feed_fragment_query_count_is_six_at_any_page_size(client, demo):
    _seed_many(demo, 120)
    alice = signed_in(client, demo["alice"])
    htmx = {"HX-Request": "true"}
    small, small_entries = _page_queries(alice, 10, headers=htmx)
    large, large_entries = _page_queries(alice, 50, headers=htmx)
    assert small_entries >= 10 and large_entries >= 50
    assert (small, large) == (6, 6)


def test_following_feed_query_count_does_not_grow_with_the_page_size(client, demo):
    _seed_many(demo, 120)
    alice = signed_in(client, demo["alice"])
    for project in Project.objects.filter(team__name="Apollo"):
        alice.post(f"/activity/follow/demo.project/{project.pk}/")
    small, _ = _page_queries(alice, 10, "/activity/following/")
    large, large_entries = _page_queries(alice, 50, "/activity/following/")
    assert large_entries >= 50
    # user, follows (the scope), read marker with the site's signature, visible ids, the
    # page, followed keys; the nav's team-feed badge (its marker), permissions (1); under
    # the signature the badge's count and the menus are remembered (warm)
    assert (small, large) == (8, 8)


def test_feed_reveal_of_too_many_reloads_the_page(client, demo):
    alice = signed_in(client, demo["alice"])
    after = cursor_of(newest_action())
    task = apollo_task()
    activityui.record_bulk(demo["bob"], "commented", [task] * 3, target=task.project)
    with aui_settings(MAX_PAGE_SIZE=2):
        response = alice.get(f"/activity/?verb=commented&after={after}", headers=HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/activity/?verb=commented"


def test_feed_field_errors_are_tied_to_their_fields(client, demo):
    html = signed_in(client, demo["alice"]).get("/activity/?since=nope").content.decode()
    field = re.search(r'<input type="date" name="since"[^>]*>', html).group(0)
    described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1)
    assert 'aria-invalid="true"' in field
    error = re.search(rf'<span class="aui-error" id="{described_by}">([^<]*)</span>', html)
    assert error.group(1).strip() == "Enter a valid date."

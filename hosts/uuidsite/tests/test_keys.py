"""Every kind of primary key (UUID, AutoField, BigAutoField, a string that needs quoting) as
tracked object, target, actor (a UUID-keyed custom user) and followed object, on every surface:
feed, following, timeline, poll, unread badge, staff filters, exports, admin panel, prune.
Run on SQLite and PostgreSQL by ``make test`` (the Makefile's HOSTS)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from urllib.parse import urlencode

import pytest
from actstream.models import Action, Follow
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import activityui
from activityui import visibility
from activityui.cursors import encode_cursor
from activityui.ids import id_of, id_text, stored_ids
from activityui.keys import type_key
from activityui.links import object_url, timeline_url
from activityui.readmarkers import move_read_marker
from activityui.selectors import object_q
from activityui.visibility import Visibility, action_visibility_q

KINDS = ["uuid", "auto", "bigauto", "string"]
HX = {"HX-Request": "true"}


def key_of(obj) -> str:
    return type_key(ContentType.objects.get_for_model(obj))


def created_action(obj) -> Action:
    return Action.objects.get(
        verb="created",
        action_object_content_type=ContentType.objects.get_for_model(obj),
        action_object_object_id=id_of(obj),
    )


def newest() -> Action:
    return Action.objects.order_by("-timestamp", "-id").first()


def signed_in(client, member):
    client.force_login(member)
    return client


def entry_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'id="(?:aui|timeline)-action-(\d+)"', html)}


# --- one text form of an id, in Python and in SQL, on this database ---


@pytest.mark.parametrize("kind", KINDS)
def test_capture_stores_the_canonical_id_and_sql_produces_the_same(world, kind):
    obj = world["atlas"][kind]
    created = created_action(obj)
    assert created.action_object_object_id == str(obj.pk)
    model = type(obj)
    assert list(stored_ids(model.objects.filter(pk=obj.pk))) in (
        [id_of(obj)],
        [{"pk": id_of(obj)}],
        [{"_aui_id": id_of(obj)}],
    )


def test_uuid_ids_have_dashes_in_python_and_in_sql(world):
    note = world["atlas"]["uuid"]
    text = id_of(note)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    assert id_text(type(note), text.upper().replace("-", "")) == text
    rows = stored_ids(type(note).objects.filter(pk=note.pk)).values_list("_aui_id", flat=True)
    assert list(rows) == [text]


def test_stored_ids_of_the_user_model_match_the_actor_ids(world):
    from hosts.uuidsite.models import Member

    alice = world["people"]["alice"]
    ids = stored_ids(Member.objects.filter(pk=alice.pk))
    assert Action.objects.filter(actor_object_id__in=ids).exists()
    assert set(
        Action.objects.filter(actor_object_id__in=ids).values_list("actor_object_id", flat=True)
    ) == {id_of(alice)}


# --- visibility: targets and objects of every kind ---


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("literal_limit", [500, 0])  # inlined ids, and the subquery fallback
def test_visibility_by_target_of_every_kind(world, kind, literal_limit, monkeypatch):
    monkeypatch.setattr(visibility, "MAX_LITERAL_IDS", literal_limit)
    people = world["people"]
    action = activityui.record(
        people["bob"], "mentioned", world["atlas"]["notebook"], world["atlas"][kind]
    )
    for name, sees in (("alice", True), ("bob", True), ("carol", False)):
        user = people[name]
        for q in (action_visibility_q(user), Visibility(user).q()):
            assert Action.objects.filter(q, pk=action.pk).exists() is sees, (name, q)


@pytest.mark.parametrize("kind", KINDS)
def test_private_action_is_seen_by_its_uuid_actor_only(world, kind):
    people = world["people"]
    obj = world["atlas"][kind]
    action = activityui.record(people["alice"], "drafted", obj, public=False)
    assert Action.objects.filter(Visibility(people["alice"]).q(), pk=action.pk).exists()
    assert not Action.objects.filter(Visibility(people["bob"]).q(), pk=action.pk).exists()


# --- feed, poll, unread badge ---


@pytest.mark.parametrize("kind", KINDS)
def test_feed_shows_actions_in_objects_of_every_kind_to_members_only(world, kind, client):
    people = world["people"]
    action = activityui.record(
        people["bob"], "commented", world["atlas"]["notebook"], world["atlas"][kind]
    )
    assert action.pk in entry_ids(
        signed_in(client, people["alice"]).get("/activity/").content.decode()
    )
    assert action.pk not in entry_ids(
        signed_in(client, people["carol"]).get("/activity/").content.decode()
    )


def test_feed_of_the_creator_shows_what_they_made(world, client):
    # the symptom: the feed was empty for the very people who made the changes
    html = signed_in(client, world["people"]["alice"]).get("/activity/").content.decode()
    mine = Action.objects.filter(
        actor_object_id=id_of(world["people"]["alice"]), target_object_id__isnull=False
    )
    assert {a.pk for a in mine} <= entry_ids(html)
    assert "atlas note" in html  # labels are the objects' str(): the note's title


@pytest.mark.parametrize("kind", KINDS)
def test_poll_finds_news_in_objects_of_every_kind(world, kind, client):
    people = world["people"]
    after = encode_cursor(newest().timestamp, newest().pk)
    activityui.record(people["bob"], "commented", world["atlas"]["notebook"], world["atlas"][kind])
    headers = {**HX, "HX-Target": "feed-banner", "HX-Trigger": "feed-poll"}
    alice = signed_in(client, people["alice"]).get(f"/activity/?after={after}", headers=headers)
    assert alice.status_code == 200
    assert "1 new activity" in alice.content.decode()
    carol = signed_in(client, people["carol"]).get(f"/activity/?after={after}", headers=headers)
    assert carol.status_code == 204


@pytest.mark.parametrize("kind", KINDS)
def test_unread_badge_counts_news_of_every_kind_but_not_ones_own(world, kind, client):
    people = world["people"]
    last = newest()
    for member in people.values():
        move_read_marker(user=member, feed="workspace", timestamp=last.timestamp, action_id=last.pk)
    activityui.record(people["bob"], "commented", world["atlas"]["notebook"], world["atlas"][kind])
    activityui.record(
        people["alice"], "commented", world["atlas"]["notebook"], world["atlas"][kind]
    )
    badge = r'id="aui-unread-workspace" class="aui-badge">(\d*)<'
    alice = signed_in(client, people["alice"]).get("/").content.decode()
    assert re.search(badge, alice).group(1) == "1"
    carol = signed_in(client, people["carol"]).get("/").content.decode()
    assert re.search(badge, carol).group(1) == ""


def test_feed_person_filter_finds_a_member_by_email_login(world, client):
    people = world["people"]
    note = world["atlas"]["uuid"]
    by_bob = activityui.record(people["bob"], "commented", note, note.notebook)
    alice = signed_in(client, people["alice"])
    page = alice.get("/activity/").content.decode()
    assert ">Bob Laurent<" in page  # the menu shows names, not logins
    html = alice.get("/activity/?" + urlencode({"actor": people["bob"].email})).content.decode()
    assert by_bob.pk in entry_ids(html)
    assert entry_ids(html) == {
        a.pk for a in Action.objects.filter(actor_object_id=id_of(people["bob"]))
    } & entry_ids(alice.get("/activity/").content.decode()) | {by_bob.pk}


# --- timeline ---


@pytest.mark.parametrize("kind", KINDS)
def test_timeline_of_every_kind_for_members_and_404_for_others(world, kind, client):
    people = world["people"]
    obj = world["atlas"][kind]
    url = timeline_url(key_of(obj), id_of(obj))
    assert url is not None
    response = signed_in(client, people["alice"]).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "No history yet." not in body
    created = created_action(obj)
    assert created.pk in entry_ids(body)
    assert signed_in(client, people["carol"]).get(url).status_code == 404


def test_timeline_url_quotes_a_string_key(world):
    page = world["atlas"]["string"]
    url = timeline_url(key_of(page), id_of(page))
    # "?", "#", "%" and spaces would end or change the path; "&" and ":" may stay (RFC 3986)
    assert "%3F" in url and "%23" in url and "%25" in url and " " not in url


def test_timeline_of_a_uuid_in_another_spelling_is_the_same_history(world, client):
    note = world["atlas"]["uuid"]
    alice = signed_in(client, world["people"]["alice"])
    plain = alice.get(timeline_url(key_of(note), id_of(note))).content.decode()
    other = alice.get(f"/activity/objects/{key_of(note)}/{note.pk.hex.upper()}/").content.decode()
    assert entry_ids(plain) == entry_ids(other) != set()


def test_timeline_of_a_uuid_user_shows_what_they_did(world, client):
    alice = world["people"]["alice"]
    body = signed_in(client, alice).get(timeline_url(key_of(alice), id_of(alice))).content.decode()
    assert "No history yet." not in body
    assert "Alice Moreau" in body


# --- following: followed objects of every kind, and a followed person ---


@pytest.mark.parametrize("kind", KINDS)
def test_follow_an_object_of_every_kind_and_see_its_news(world, kind, client):
    people = world["people"]
    obj = world["atlas"][kind]
    alice = signed_in(client, people["alice"])
    response = alice.post(object_url("activityui:follow", key_of(obj), id_of(obj)), headers=HX)
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.content.decode()
    assert Follow.objects.get(user=people["alice"]).object_id == id_of(obj)
    news = activityui.record(people["bob"], "commented", obj)
    html = alice.get("/activity/following/").content.decode()
    assert news.pk in entry_ids(html)


def test_follow_a_uuid_person(world, client):
    people = world["people"]
    bob = people["bob"]
    alice = signed_in(client, people["alice"])
    assert (
        alice.post(object_url("activityui:follow", key_of(bob), id_of(bob)), headers=HX).status_code
        == 200
    )
    news = activityui.record(bob, "commented", world["atlas"]["uuid"], world["atlas"]["notebook"])
    assert news.pk in entry_ids(alice.get("/activity/following/").content.decode())


def test_follow_a_hidden_object_is_404(world, client):
    page = world["borealis"]["string"]
    alice = signed_in(client, world["people"]["alice"])
    response = alice.post(object_url("activityui:follow", key_of(page), id_of(page)), headers=HX)
    assert response.status_code == 404
    assert not Follow.objects.exists()


# --- staff console: filters, full ids, exports ---


@pytest.fixture
def staff(world, client):
    return signed_in(client, world["people"]["sam"])


def staff_rows(response) -> set[int]:
    return {int(i) for i in re.findall(r'<tr id="staff-row-(\d+)"', response.content.decode())}


def by_actor(member) -> set[int]:
    return set(Action.objects.filter(actor_object_id=id_of(member)).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "text", ["Alice Mor", "alice moreau", "alice@notebooks", "ALICE@NOTEBOOKS.EXAMPLE"]
)
def test_staff_actor_filter_matches_name_and_email_login(world, staff, text):
    # the name as snapshotted, display_name (what get_full_name() shows) and the email login
    rows = staff_rows(staff.get("/activity/staff/?" + urlencode({"actor": text})))
    assert rows == by_actor(world["people"]["alice"]) != set()


def test_staff_actor_filter_matches_the_name_as_snapshotted(world, staff):
    alice = world["people"]["alice"]
    before = by_actor(alice)
    alice.display_name = "Alice Dupont"
    alice.save()
    assert staff_rows(staff.get("/activity/staff/?actor=Moreau")) == before
    assert staff_rows(staff.get("/activity/staff/?actor=Dupont")) == by_actor(alice)


def test_staff_actor_filter_label_says_what_it_matches(staff):
    body = staff.get("/activity/staff/").content.decode()
    assert "Part of a name or email address" in body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ["object", "target"])
def test_staff_filter_by_type_and_id_of_every_kind(world, staff, kind, role):
    obj = world["atlas"][kind]
    activityui.record(world["people"]["bob"], "mentioned", world["atlas"]["notebook"], obj)
    query = {f"{role}_type": key_of(obj), f"{role}_id": id_of(obj)}
    rows = staff_rows(staff.get("/activity/staff/?" + urlencode(query)))
    field = "action_object" if role == "object" else "target"
    expected = set(
        Action.objects.filter(
            **{
                f"{field}_object_id": id_of(obj),
                f"{field}_content_type": ContentType.objects.get_for_model(obj),
            }
        ).values_list("pk", flat=True)
    )
    assert rows == expected != set()


def test_staff_filter_accepts_a_uuid_in_another_spelling(world, staff):
    note = world["atlas"]["uuid"]
    plain = {"object_type": key_of(note), "object_id": id_of(note)}
    upper = {"object_type": key_of(note), "object_id": note.pk.hex.upper()}
    assert (
        staff_rows(staff.get("/activity/staff/?" + urlencode(plain)))
        == staff_rows(staff.get("/activity/staff/?" + urlencode(upper)))
        != set()
    )


def test_staff_table_shows_full_uuids(world, staff):
    note = world["atlas"]["uuid"]
    body = staff.get(
        "/activity/staff/?" + urlencode({"object_type": key_of(note)})
    ).content.decode()
    assert f"#{id_of(note)}</code>" in body


@pytest.mark.parametrize("kind", KINDS)
def test_staff_export_has_the_filtered_rows_with_full_ids(world, staff, kind):
    obj = world["atlas"][kind]
    query = urlencode({"object_type": key_of(obj), "object_id": id_of(obj)})
    expected = staff_rows(staff.get(f"/activity/staff/?{query}"))
    response = staff.get(f"/activity/staff/export.csv?{query}")
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert {int(r["id"]) for r in rows} == expected != set()
    lines = b"".join(staff.get(f"/activity/staff/export.json?{query}").streaming_content).decode()
    records = [json.loads(line) for line in lines.splitlines()]
    assert {r["object"]["id"] for r in records} == {id_of(obj)}


def test_staff_export_by_actor_name(world, staff):
    note = world["atlas"]["uuid"]
    activityui.record(world["people"]["bob"], "commented", note, note.notebook)
    response = staff.get("/activity/staff/export.json?actor=Bob+Laurent")
    records = [
        json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()
    ]
    assert {r["id"] for r in records} == by_actor(world["people"]["bob"]) != set()


# --- admin panel ---


@pytest.mark.parametrize("kind", ["uuid", "auto", "string"])
def test_admin_change_page_shows_the_history_of_every_kind(world, staff, kind):
    from django.contrib.admin.utils import quote

    obj = world["atlas"][kind]
    url = reverse(
        f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[quote(obj.pk)]
    )
    response = staff.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    history = Action.objects.filter(object_q(ContentType.objects.get_for_model(obj), id_of(obj)))
    assert body.count('class="aui-entry"') == history.count() > 0
    assert (
        urlencode({"object_type": key_of(obj), "object_id": id_of(obj)}).replace("&", "&amp;")
        in body
    )


def test_admin_change_page_of_a_uuid_user(world, staff):
    alice = world["people"]["alice"]
    body = staff.get(reverse("admin:uuidsite_member_change", args=[alice.pk])).content.decode()
    assert (
        body.count('class="aui-entry"')
        == Action.objects.filter(
            object_q(ContentType.objects.get_for_model(alice), id_of(alice))
        ).count()
        > 0
    )


# --- prune, and the system actor ---


def test_prune_deletes_old_actions_of_every_kind_and_keeps_follows(world):
    people = world["people"]
    old = timezone.now() - dt.timedelta(days=500)
    for kind in KINDS:
        obj = world["atlas"][kind]
        Follow.objects.create(
            user=people["alice"],
            content_type=ContentType.objects.get_for_model(obj),
            object_id=id_of(obj),
        )
        with activityui.acting_as(people["bob"], at=old):
            activityui.record(None, "archived", obj)
    recent = Action.objects.filter(timestamp__gt=old + dt.timedelta(days=1)).count()
    call_command("prune_activity", "--older-than", "400d", verbosity=0)
    assert not Action.objects.filter(verb="archived").exists()
    assert Action.objects.count() == recent
    assert Follow.objects.count() == len(KINDS)


def test_outside_a_request_the_system_actor_is_the_hosts_bot(world):
    from hosts.uuidsite.models import Bot, Member

    note = world["atlas"]["uuid"]
    note.title = "renamed by the nightly job"
    note.save()
    action = newest()
    assert action.actor == Bot.objects.get()
    assert not Member.objects.filter(email="system").exists()
    assert Member.objects.count() == 4


def test_the_database_is_the_one_under_test():
    # the matrix means nothing if both runs used the same database
    assert connection.vendor in {"sqlite", "postgresql"}


def test_a_string_key_with_a_slash_has_a_timeline_and_can_be_followed(world, client):
    from hosts.uuidsite.models import Page

    with activityui.acting_as(world["people"]["bob"]):
        page = Page.objects.create(key="plans/2027 ?", workspace=world["atlas"]["workspace"])
    alice = signed_in(client, world["people"]["alice"])
    url = timeline_url(key_of(page), id_of(page))
    assert url is not None and url.endswith("/plans/2027%20%3F/")
    response = alice.get(url)
    assert response.status_code == 200
    assert created_action(page).pk in entry_ids(response.content.decode())
    follow = alice.post(object_url("activityui:follow", key_of(page), id_of(page)), headers=HX)
    assert follow.status_code == 200
    assert Follow.objects.get(user=world["people"]["alice"]).object_id == "plans/2027 ?"

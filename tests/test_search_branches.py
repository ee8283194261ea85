"""Search inside feed branches (activityui.search): each action's keys (its actor, action object
and target) are in its search document, so a word common on the site is read together with one
branch from the index; a branch where it is rare is read by id, never walked.

The bounds (``DENSE_HITS``, ``BRANCH_HITS``) are lowered here so that a handful of actions take
the paths a million take; every answer is compared with the matching rule in plain Python.
"""

from __future__ import annotations

import io

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

import activityui
from activityui import search
from activityui.capture import acting_as
from activityui.conf import app_settings
from activityui.feeds import registered_feeds
from activityui.filters import ActionFilterSet
from activityui.selectors import feed_stream, no_actions, stream_page
from demo_site.demo.models import Project
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory

# (dense_hits, branch_hits): the default bounds; every branch walked (or, on SQLite, its
# matches read once); every branch read by id
BOUNDS = {"default": (None, None), "walk": (0, 0), "by-id": (0, 10**9)}


def lower_bounds(monkeypatch, bounds: tuple[int | None, int | None]) -> None:
    dense, branch = bounds
    if dense is not None:
        monkeypatch.setattr(search, "DENSE_HITS", dense)
    if branch is not None:
        monkeypatch.setattr(search, "BRANCH_HITS", branch)


def by_rule(value: str, actions) -> set[int]:
    """The matching rule in plain Python: every search word begins some word of the action."""
    terms = search.query_words(value)
    return {
        action.pk
        for action in actions
        if all(
            any(word.startswith(term) for word in search.document_words(action.verb, action.data))
            for term in terms
        )
    }


def feed_ids(client: Client, url: str, query: dict[str, str]) -> list[int]:
    ids: list[int] = []
    params = dict(query)
    for _ in range(200):
        response = client.get(url, params)
        assert response.status_code == 200
        page = response.context["page"]
        ids += [a.pk for a in page.actions]
        if page.next_cursor is None:
            assert len(ids) == len(set(ids))
            return ids
        params = {**query, "before": page.next_cursor}
    raise AssertionError("too many pages")


# --- the 2.5 s case: a common word that one branch never says ---


@pytest.fixture
def rocket(db):
    """alice's team has two projects: every action of "Apollo rocket" says "apollo", none of
    "Payments" does; another team's "Apollo moon" (hidden from alice) says it too."""
    alice = UserFactory(username="alice")
    team = TeamFactory(name="Core")
    team.members.add(alice)
    apollo = ProjectFactory(team=team, name="Apollo rocket")
    payments = ProjectFactory(team=team, name="Payments")
    moon = ProjectFactory(team=TeamFactory(name="Elsewhere"), name="Apollo moon")
    with acting_as(alice):
        for number in range(6):
            TaskFactory(project=apollo, title=f"Stage {number}")
            TaskFactory(project=payments, title=f"Invoice {number}")
            TaskFactory(project=moon, title=f"Crater {number}")
    return {"alice": alice, "apollo": apollo, "payments": payments, "moon": moon}


def team_search(user, query: dict[str, str], *, size: int = 25):
    request = RequestFactory().get("/activity/team/", query)
    request.user = user
    filterset = ActionFilterSet(query, queryset=no_actions(), request=request)
    assert filterset.is_valid()
    page = stream_page(
        feed_stream(user=user, feed="team"), narrow=filterset.filter_queryset, size=size
    )
    return page, filterset.__dict__["_aui_text_match"][(query["q"], "default")]


def target_pins(project: Project) -> search.Pins:
    return (("t", ContentType.objects.get_for_model(Project).pk, str(project.pk)),)


@pytest.mark.parametrize("sampled", [True, False], ids=["sampled", "not-sampled"])
def test_a_common_word_absent_from_one_branch_reads_that_branch_by_id(rocket, monkeypatch, sampled):
    lower_bounds(monkeypatch, (2, 2))  # "apollo": dense on the site and in Apollo rocket
    if not sampled:  # PostgreSQL: no sample finds the word common: the index is read
        monkeypatch.setattr(search, "SAMPLE_DENSE", 10**6)
    alice = rocket["alice"]
    with CaptureQueriesContext(connection) as queries:
        page, match = team_search(alice, {"q": "apollo"}, size=4)
    in_apollo = Action.objects.filter(
        target_content_type=ContentType.objects.get_for_model(Project),
        target_object_id=str(rocket["apollo"].pk),
    ).order_by("-timestamp", "-id")
    assert [a.pk for a in page.actions] == [a.pk for a in in_apollo[:4]]
    assert page.has_more
    branches = match.reads.branches
    assert branches[target_pins(rocket["payments"])] == []  # read by id: nothing to walk
    apollo = branches[target_pins(rocket["apollo"])]
    if connection.vendor == "postgresql" and sampled:
        assert apollo is None  # its newest actions say "apollo": walked, nothing read
    else:
        assert apollo is not None and len(apollo) == 3  # bound + 1 read: walked
    assert match.reads.word is None  # the site-wide matches were never read
    batch = [q["sql"] for q in queries.captured_queries if "aui_b" in q["sql"]]
    assert len(batch) == 1  # every branch's matches in one query
    payments = {
        a.pk
        for a in Action.objects.filter(
            target_content_type=ContentType.objects.get_for_model(Project),
            target_object_id=str(rocket["payments"].pk),
        )
    }
    assert payments and not payments & {a.pk for a in page.actions}


@pytest.mark.parametrize("bounds", list(BOUNDS.values()), ids=list(BOUNDS))
def test_team_search_pages_like_the_rule(rocket, monkeypatch, bounds, client):
    lower_bounds(monkeypatch, bounds)
    client.force_login(rocket["alice"])
    with override_settings(ACTIVITYUI={**app_settings._user_settings(), "PAGE_SIZE": 4}):
        visible = feed_ids(client, "/activity/team/", {})
        actions = list(Action.objects.filter(pk__in=visible))
        for word in ["apollo", "invoice", "payments stage", "crater", "stage 3"]:
            found = feed_ids(client, "/activity/team/", {"q": word})
            expected = by_rule(word, actions)
            assert set(found) == expected, word
            assert found == [pk for pk in visible if pk in expected], word  # keyset order
    assert {"apollo", "invoice"} <= {
        word for word in ["apollo", "invoice"] if by_rule(word, actions)
    }  # the words do occur: the comparisons above are not of empty sets


@pytest.mark.parametrize("bounds", [BOUNDS["walk"], BOUNDS["by-id"]], ids=["walk", "by-id"])
def test_search_queries_do_not_grow_with_the_page(rocket, monkeypatch, bounds):
    lower_bounds(monkeypatch, bounds)
    every, _match = team_search(rocket["alice"], {"q": "apollo"}, size=100)
    assert len(every.actions) > 5 and not every.has_more
    counts = []
    for size in (2, 5, 30):
        with CaptureQueriesContext(connection) as queries:
            page, _match = team_search(rocket["alice"], {"q": "apollo"}, size=size)
        assert page.actions == every.actions[:size]
        counts.append(len(queries.captured_queries))
    assert len(set(counts)) == 1, counts


# --- keys are never matched by a user's search ---


def stored_documents() -> dict[int, tuple[str, ...]]:
    """Every action's stored document: PostgreSQL its tsvector's text; SQLite its two
    columns."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT action_id, document::text FROM {search.TABLE}")
        else:
            cursor.execute(f"SELECT rowid, * FROM {search.TABLE}")  # keys: not before 0007
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


@pytest.mark.parametrize("bounds", list(BOUNDS.values()), ids=list(BOUNDS))
def test_keys_are_never_matched_by_a_search(rocket, monkeypatch, bounds):
    lower_bounds(monkeypatch, bounds)
    actions = list(Action.objects.all())
    documents = stored_documents()
    keys = {key for action in actions for key in search.action_keys(*search._action_roles(action))}
    assert keys
    for action in actions:  # the keys are stored: a search could find them if it looked
        for key in search.action_keys(*search._action_roles(action)):
            assert key in " ".join(documents[action.pk])
    values = {"_"}
    for key in keys:
        assert by_rule(key, actions) == set()  # no word of any action is a key
        values |= {key, key[:2], key[:3], key.split("x")[0] + "x", f"_{key}", f"~{key}"}
    for value in sorted(values):
        match = search.match_expression(value, alias="default")
        if match is None:
            assert not search.query_words(value)  # "_" alone has no words
            continue
        found = set(Action.objects.filter(match).values_list("pk", flat=True))
        assert found == by_rule(value, actions), value


# --- every demo user, every feed ---

FEED_WORDS = ["apollo", "fix", "in progress", "carol", "zzzz"]


@pytest.mark.parametrize("bounds", list(BOUNDS.values()), ids=list(BOUNDS))
def test_every_feed_of_every_user_searches_like_the_rule(demo, monkeypatch, bounds):
    lower_bounds(monkeypatch, bounds)
    checked = 0
    for username, user in sorted(demo.items()):
        client = Client()
        client.force_login(user)
        for feed in registered_feeds():
            url = f"/activity/{feed.name}/"
            visible = feed_ids(client, url, {})
            actions = list(Action.objects.filter(pk__in=visible))
            for word in FEED_WORDS:
                found = feed_ids(client, url, {"q": word})
                expected = by_rule(word, actions)
                assert found == [pk for pk in visible if pk in expected], (username, feed, word)
                checked += len(found)
    assert checked > 0


# --- the migration, the reindex command and capture write the same documents ---


def odd_actions() -> list[Action]:
    """Actions whose keys need care: no target, no role at all, object ids that are not
    numbers (non-ASCII, spaces, punctuation), as a host's own models may have."""
    user = UserFactory(username="zoë")
    user_ct = ContentType.objects.get_for_model(user)
    project_ct = ContentType.objects.get_for_model(Project)
    with acting_as(user):
        TaskFactory(project=ProjectFactory(name="Apollo ünd Co"), title="Ignition")
    return [
        Action.objects.create(actor_content_type=user_ct, actor_object_id="é ü-7", verb="wrote"),
        Action.objects.create(
            actor_content_type=user_ct,
            actor_object_id=str(user.pk),
            verb="moved",
            target_content_type=project_ct,
            target_object_id="x'y\\z",
        ),
        activityui.record(None, "announced", comment="Apollo lands"),
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_reindex_and_capture_write_the_same_documents():
    odd_actions()
    captured = stored_documents()
    assert len(captured) == Action.objects.count() > 3
    call_command("migrate", "activityui", "0006", verbosity=0)
    try:
        stripped = stored_documents()
        assert set(stripped) == set(captured)
        for pk, document in stripped.items():  # the reverse leaves the words, without keys
            if connection.vendor == "postgresql":
                assert document[0] and "'_" not in document[0]
                assert set(document[0].split()) <= set(captured[pk][0].split())
            else:
                assert document == captured[pk][:1]
    finally:
        call_command("migrate", "activityui", verbosity=0)
    assert stored_documents() == captured  # the migration's SQL keys are the Python keys
    call_command("activityui_reindex", rebuild=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert stored_documents() == captured


@pytest.mark.django_db
def test_moving_an_action_behind_captures_back_moves_its_keys(rocket, monkeypatch):
    lower_bounds(monkeypatch, BOUNDS["by-id"])
    project_ct = ContentType.objects.get_for_model(Project)
    moved = Action.objects.filter(
        target_content_type=project_ct, target_object_id=str(rocket["moon"].pk)
    ).first()
    Action.objects.filter(pk=moved.pk).update(target_object_id=str(rocket["payments"].pk))
    page, _match = team_search(rocket["alice"], {"q": "crater"})
    assert moved.pk in {a.pk for a in page.actions}  # found in its new branch, by its keys
    before = stored_documents()
    call_command("activityui_reindex", rebuild=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert stored_documents() == before


@pytest.mark.parametrize("count_limit", [10_000, 5])
@pytest.mark.parametrize("bounds", list(BOUNDS.values()), ids=list(BOUNDS))
def test_staff_count_of_a_search_follows_the_rule(demo, monkeypatch, bounds, count_limit):
    lower_bounds(monkeypatch, bounds)
    client = Client()
    client.force_login(demo["staff"])
    actions = list(Action.objects.all())
    with override_settings(
        ACTIVITYUI={**app_settings._user_settings(), "COUNT_LIMIT": count_limit}
    ):
        for word in ["apollo", "fix", "carol", "zzzz"]:
            expected = len(by_rule(word, actions))
            response = client.get("/activity/staff/", {"q": word})
            assert response.status_code == 200
            assert response.context["count"] == min(expected, count_limit), word
            assert response.context["count_capped"] == (expected > count_limit), word
            filtered = client.get("/activity/staff/", {"q": word, "verb": "commented"})
            expected = len(by_rule(word, [a for a in actions if a.verb == "commented"]))
            assert filtered.context["count"] == min(expected, count_limit), word

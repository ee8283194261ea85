"""Text search (activityui.search): one matching rule on SQLite (FTS5) and PostgreSQL (tsvector),
kept up at capture, backfilled by ``activityui_reindex``, read through the viewer's visibility.

The same parametrized cases run on each database (``make test`` runs the suite on both), and
every database's answers are compared with the rule computed in Python: equal to the rule on
both means equal to each other.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo

import pytest
from actstream.models import Action
from django.core.management import call_command
from django.db import connection
from django.test import Client

import activityui
from activityui import search
from activityui.capture import acting_as, record_bulk
from activityui.models import FieldChange
from demo_site.demo.models import Task
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory


def indexed_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {search.TABLE}")
        return cursor.fetchone()[0]


def by_rule(value: str, actions=None) -> set[int]:
    """The matching rule in plain Python: every search word begins some word of the action."""
    terms = search.query_words(value)
    found = set()
    for action in actions if actions is not None else Action.objects.all():
        document = search.document_words(action.verb, action.data)
        if all(any(word.startswith(term) for word in document) for term in terms):
            found.add(action.pk)
    return found


def by_index(value: str, *, dense: bool | None = None) -> set[int]:
    hits = {None: search.DENSE_HITS, True: 0, False: 10**9}[dense]
    sample = 10**9 if dense is False else None  # "ids-first": no sample may say it is common
    match = search.match_expression(value, alias="default", dense_hits=hits, sample_dense=sample)
    if match is None:
        return set(Action.objects.values_list("pk", flat=True))
    found = set(Action.objects.filter(match).values_list("pk", flat=True))
    read = match.reads.word
    if dense is False:  # the path asked for was taken: the ids read first
        assert not match.reads.word_dense and read is not None
    if dense is True:  # walked: common by the sample (PostgreSQL), or more ids than 0
        assert match.reads.word_dense or (read is not None and len(read) <= 1)
    return found


@pytest.fixture
def corpus(db):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Martin")
    team = TeamFactory(name="Apollo")
    team.members.add(alice)
    project = ProjectFactory(team=team, name="Accounts Payable")
    actions = {}
    with acting_as(alice):
        actions["invoice"] = TaskFactory(project=project, title="Invoice 4711 for ACME")
        actions["cafe"] = TaskFactory(project=project, title="Café Crème menu")
        actions["naive"] = TaskFactory(project=project, title="naïve-approach_v2")
        actions["numbers"] = TaskFactory(project=project, title="Version 3.14 (ÉCOLE)")
    created = {
        key: Action.objects.get(
            action_object_object_id=str(t.pk),
            action_object_content_type__model="task",
            verb="created",
        )
        for key, t in actions.items()
    }
    created["project"] = Action.objects.get(
        action_object_object_id=str(project.pk), action_object_content_type__model="project"
    )
    task = actions["invoice"]
    with acting_as(alice):
        created["comment"] = activityui.record(
            alice, "commented", task, project, comment="Résumé sent to the Straße office"
        )
        task.status = Task.Status.DONE
        task.save()
    created["status"] = Action.objects.latest("pk")
    assert created["status"].verb == "updated"
    return created


CASES = [
    ("invoice", {"invoice", "comment", "status"}),  # the task's label is in its later actions
    ("INV 47", {"invoice", "comment", "status"}),  # every word, each a prefix, any case
    ("4711", {"invoice", "comment", "status"}),
    ("711", set()),  # a prefix of a word, not a substring
    ("voice", set()),
    ("cafe", {"cafe"}),  # accents do not matter, either side
    ("CAFÉ crè", {"cafe"}),
    ("naive approach", {"naive"}),  # punctuation and underscores separate words
    ("v2", {"naive"}),
    ("3 14", {"numbers"}),
    ("ecole", {"numbers"}),
    ("resume strasse", {"comment"}),  # case-folded: ß is "ss"
    ("resume strasses", set()),
    ("résumé office", {"comment"}),
    ("comm", {"comment"}),  # the verb
    ("status done", {"status"}),  # a changed field's name and new value
    ("alice martin invoice", {"invoice", "comment", "status"}),  # the actor's label
    ("accounts pay", {"project", "invoice", "cafe", "naive", "numbers", "comment", "status"}),
    ("invoice cafe", set()),  # every word must match the same action
    ("snapshot", set()),  # JSON keys are not words of the sentence
    ("projects", set()),  # nor are the URLs of the snapshots
    ("zzzz", set()),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
@pytest.mark.parametrize("dense", [False, True], ids=["ids-first", "probe-per-row"])
def test_matching_rule(corpus, value, expected, dense):
    wanted = {corpus[key].pk for key in expected}
    assert by_index(value, dense=dense) == wanted
    assert by_rule(value) == wanted


@pytest.mark.parametrize("value", ["", "   ", "!!! ---", "…"])
def test_search_without_words_narrows_nothing(corpus, value):
    assert search.match_expression(value, alias="default") is None


def test_document_words_skip_urls_and_keys():
    data = {
        "snapshot": {"actor": {"label": "Bob", "url": "/people/bob/"}},
        "changes": {"priority": [{"value": 1, "label": "Low"}, {"value": 3, "label": "High"}]},
        "flag": True,
    }
    assert search.document_words("updated", data) == [
        "updated",
        "priority",
        "bob",
        "1",
        "low",
        "3",
        "high",
    ]


def test_index_matches_rule_on_demo_data(demo):
    actions = list(Action.objects.all())
    for value in ["apollo", "fix login", "pay", "carol", "review", "nice catch", "a", "zz"]:
        assert by_index(value, dense=False) == by_rule(value, actions), value
        assert by_index(value, dense=True) == by_rule(value, actions), value


# --- upkeep ---


def test_capture_indexes_in_one_insert(corpus, django_assert_num_queries):
    assert indexed_count() == Action.objects.count()
    task = Task.objects.select_related("project").get(pk=corpus["invoice"].action_object_object_id)
    task.title = "Invoice 4712 Zanzibar"
    alice = corpus["invoice"].actor
    with acting_as(alice), django_assert_num_queries(3) as queries:  # UPDATE, action, words
        task.save()
    assert queries.captured_queries[-1]["sql"].startswith(f"INSERT INTO {search.TABLE}")
    assert by_index("zanzib") == {Action.objects.latest("pk").pk}


def test_rolled_back_action_leaves_no_words(corpus):
    from django.db import transaction

    before = indexed_count()
    with pytest.raises(RuntimeError), transaction.atomic():
        activityui.record(None, "commented", comment="Quokka")
        raise RuntimeError
    assert indexed_count() == before
    assert by_index("quokka") == set()


def test_record_bulk_indexes_its_actions(corpus):
    tasks = list(Task.objects.select_related("project"))
    actions = record_bulk(None, "archived", tasks, reason="Wombat cleanup")
    assert by_index("wombat") == {a.pk for a in actions}


def test_deleted_actions_leave_the_index(corpus):
    Action.objects.filter(pk=corpus["comment"].pk).delete()
    assert indexed_count() == Action.objects.count()
    assert by_index("resume") == set()


# --- backfill ---


def forget_all() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {search.TABLE}")


def test_reindex_fills_what_is_missing_and_resumes(corpus):
    ids = sorted(Action.objects.values_list("pk", flat=True))
    forget_all()
    assert by_index("invoice") == set()
    out, err = io.StringIO(), io.StringIO()
    # "interrupted" after the first ids: resume from the id it would print
    call_command("activityui_reindex", batch_size=2, start_id=ids[3], stdout=out, stderr=err)
    assert indexed_count() == len(ids) - 3
    assert "--start-id" in err.getvalue() and "%" in err.getvalue()  # the progress bar
    call_command("activityui_reindex", batch_size=2, stdout=out, stderr=err)
    assert indexed_count() == len(ids)
    assert "Indexed 3 actions" in out.getvalue()
    for value, expected in CASES:
        assert by_index(value) == {corpus[key].pk for key in expected}, value


def test_reindex_rebuild_rewrites_words(corpus):
    action = corpus["comment"]
    Action.objects.filter(pk=action.pk).update(data={**action.data, "comment": "Platypus"})
    assert by_index("platypus") == set()  # an update behind capture's back is not seen...
    call_command("activityui_reindex", rebuild=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert by_index("platypus") == {action.pk}  # ...until a rebuild
    assert indexed_count() == Action.objects.count()


def test_seed_bulk_actions_are_indexed(demo):
    from demo_site.demo import seed

    newest = Action.objects.order_by("-pk").values_list("pk", flat=True).first()
    seed.bulk_actions(Action.objects.count() + 300)
    assert indexed_count() == Action.objects.count()
    # the words written with the bulk rows (COPY on PostgreSQL) are the ones capture writes
    for word in ["customer", "review", "apollo", "nguyen", "progress"]:
        assert by_index(word) == by_rule(word), word
    from tests.test_search_branches import stored_documents

    written = stored_documents()  # the keys too: what a rebuild writes
    call_command("activityui_reindex", rebuild=True, stdout=io.StringIO(), stderr=io.StringIO())
    assert stored_documents() == written
    added = Action.objects.filter(pk__gt=newest)
    updates = added.filter(data__has_key="changes").count()
    assert updates > 0
    assert FieldChange.objects.filter(action_id__gt=newest).count() == updates


# --- through the views, as every demo user ---

FEED_WORDS = ["apollo", "zephyr", "fix", "nice catch", "in progress", "carol", "zzzz"]


def feed_ids(client: Client, query: dict[str, str]) -> list[int]:
    ids: list[int] = []
    params = dict(query)
    for _ in range(100):
        response = client.get("/activity/", params)
        assert response.status_code == 200
        page = response.context["page"]
        ids += [a.pk for a in page.actions]
        if page.next_cursor is None:
            return ids
        params = {**query, "before": page.next_cursor}
    raise AssertionError("too many pages")


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "staff"])
def test_feed_search_shows_only_what_the_user_sees(demo, client, username):
    client.force_login(demo[username])
    visible = feed_ids(client, {})
    actions = list(Action.objects.filter(pk__in=visible))
    for word in FEED_WORDS:
        found = feed_ids(client, {"q": word})
        assert set(found) == by_rule(word, actions), word
        assert found == [pk for pk in visible if pk in set(found)]  # same order, keyset paged


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "staff"])
def test_feed_search_combines_with_filters(demo, client, username):
    client.force_login(demo[username])
    visible = set(feed_ids(client, {"verb": "commented"}))
    actions = list(Action.objects.filter(pk__in=visible))
    found = feed_ids(client, {"q": "fix", "verb": "commented"})
    assert set(found) == by_rule("fix", actions)


def test_staff_search_matches_the_rule_and_pages(demo, client):
    client.force_login(demo["staff"])
    for word in ["apollo mob", "fix", "zzzz", "payments review"]:
        ids: list[int] = []
        url = "/activity/staff/"
        params = {"q": word}
        for _ in range(100):
            response = client.get(url, params)
            assert response.status_code == 200
            page = response.context["page"]
            ids += [a.pk for a in page.actions]
            if page.next_cursor is None:
                break
            params = {"q": word, "before": page.next_cursor}
        assert set(ids) == by_rule(word), word
        assert (ids == []) == (word == "zzzz"), word  # only the made-up word finds nothing
        assert len(ids) == len(set(ids))


def test_staff_search_is_denied_without_permission(demo, client):
    client.force_login(demo["alice"])
    assert client.get("/activity/staff/", {"q": "apollo"}).status_code == 403


# --- days as timestamp ranges in the viewer's time zone ---


def test_feed_day_filters_are_ranges_in_the_viewer_time_zone(demo, client, settings):
    from django.test.utils import CaptureQueriesContext

    tz = zoneinfo.ZoneInfo("Pacific/Auckland")  # far from UTC: a day there straddles two UTC days
    alice = demo["alice"]
    late = dt.datetime(2026, 3, 10, 23, 30, tzinfo=tz)  # 10:30 UTC on the 10th
    early = dt.datetime(2026, 3, 11, 0, 30, tzinfo=tz)  # 11:30 UTC on the 10th
    task = Task.objects.filter(project__team__name="Apollo").first()
    with acting_as(alice, at=late):
        one = activityui.record(alice, "commented", task, task.project, comment="late")
    with acting_as(alice, at=early):
        two = activityui.record(alice, "commented", task, task.project, comment="early")
    client.force_login(alice)
    settings.TIME_ZONE = "Pacific/Auckland"  # the viewer's time zone
    with CaptureQueriesContext(connection) as queries:
        on_10th = feed_ids(client, {"since": "2026-03-10", "until": "2026-03-10"})
    on_11th = feed_ids(client, {"since": "2026-03-11", "until": "2026-03-11"})
    assert one.pk in on_10th and two.pk not in on_10th
    assert two.pk in on_11th and one.pk not in on_11th
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "django_datetime_cast_date" not in sql and "::date" not in sql


@pytest.mark.parametrize(
    ("since", "until"), [("0001-01-01", "9999-12-31"), ("0001-01-01", ""), ("", "9999-12-31")]
)
def test_feed_day_filters_at_the_ends_of_the_calendar(demo, client, since, until):
    client.force_login(demo["alice"])
    everything = feed_ids(client, {})
    assert feed_ids(client, {"since": since, "until": until}) == everything


def test_a_rare_word_is_read_by_id_and_a_common_one_walks_the_time_order(corpus):
    """Few matches: the page reads those actions by id (a list the planner drives the query
    by); many: it walks the actions newest first and tests each (the index's ids read once).
    Django writes the search into WHERE as it is: compared with "= 1" (SQLite has no boolean
    type) the ids could not drive the query, and a rare word walked every action."""
    from tests.common_fixtures import plan_of

    rare = Action.objects.filter(search.match_expression("invoice", alias="default"))
    page = rare.order_by("-timestamp", "-id")[:26]
    assert len(page) == len(by_rule("invoice")) > 0
    sql, _params = page.query.sql_with_params()
    assert not re.search(r"\)\s*=\s*(1|true)\b", sql, re.I), sql
    if connection.vendor == "sqlite":  # (PostgreSQL reads a table this small whole anyway)
        assert "USING INTEGER PRIMARY KEY" in plan_of(page)
        common = search.TextMatch(["invoice"], dense_hits=0, branch_hits=0)
        walked = Action.objects.filter(common).order_by("-timestamp", "-id")[:26]
        assert "USING INTEGER PRIMARY KEY" not in plan_of(walked)
        assert {a.pk for a in walked} == by_rule("invoice")

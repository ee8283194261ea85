"""Staff exports: streamed CSV and JSON Lines of the current filter, defused, recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from actstream.models import Action
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import activityui
from activityui import exports
from activityui.capture import acting_as
from demo_site.demo.models import Project, Task, Team

CSV_URL = "/activity/staff/export.csv"
JSON_URL = "/activity/staff/export.json"


@pytest.fixture
def staff_client(client, demo):
    client.force_login(demo["staff"])
    return client


@pytest.fixture
def small_staff_client(client, db):
    """A signed-in staff user and one task with its actions: enough for input checks."""
    from demo_site.demo import seed

    users = seed.ensure_users()
    with acting_as(users["alice"]):
        team = Team.objects.create(name="Small")
        project = Project.objects.create(team=team, name="Small Web")
        Task.objects.create(project=project, title="Fix login")
    client.force_login(users["staff"])
    return client


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def read_jsonl(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in text.splitlines()]


def console_count(client, query: str) -> int:
    body = client.get(f"/activity/staff/?{query}").content.decode()
    match = re.search(r'data-count="(\d+)"', body)
    assert match
    return int(match.group(1))


# --------------------------------------------------------------------------- access


def test_export_anonymous_redirects_to_sign_in(client, db):
    assert client.get(CSV_URL).status_code == 302
    assert client.get(JSON_URL).status_code == 302


def test_export_without_permission_is_403(client, small_staff_client):
    client.force_login(get_user_model().objects.get(username="carol"))
    assert client.get(CSV_URL).status_code == 403
    assert client.get(JSON_URL).status_code == 403
    assert not Action.objects.filter(verb="exported").exists()


# --------------------------------------------------------------------------- streaming


def test_export_csv_is_a_streamed_attachment(staff_client):
    response = staff_client.get(CSV_URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(
        r'attachment; filename="activity-\d{8}-\d{6}\.csv"', response["Content-Disposition"]
    )


def test_export_json_is_streamed_json_lines(staff_client):
    response = staff_client.get(JSON_URL)
    assert response.streaming
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Content-Disposition"].endswith('.jsonl"')
    rows = read_jsonl(response)
    assert rows
    keys = {"id", "timestamp", "actor", "verb", "object", "target", "public", "data"}
    assert keys <= set(rows[0])


def test_export_first_rows_arrive_before_the_queryset_is_exhausted(staff_client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    monkeypatch.setattr(exports, "BATCH_SIZE", 5)
    total = Action.objects.count()
    assert total > 50
    with CaptureQueriesContext(connection) as view_queries:
        response = staff_client.get(JSON_URL)
    assert response.streaming
    # the view only prepared the stream: no query has read the rows yet
    assert not any(
        "actstream_action" in q["sql"] and "LIMIT" not in q["sql"].upper()
        for q in view_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    )
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as stream_queries:
        first = next(chunks).decode()
    assert len(first.splitlines()) == 5  # one batch out while the rest is still unread
    assert len(stream_queries) == 1  # the one query the export reads everything through
    rest = b"".join(chunks).decode()
    assert len(first.splitlines()) + len(rest.splitlines()) == total


def test_export_reads_through_an_iterator_without_caching_the_queryset(db, demo):
    queryset = Action.objects.order_by("-timestamp", "-id")
    lines = list(exports.jsonl_lines(queryset))
    assert sum(len(chunk.splitlines()) for chunk in lines) == Action.objects.count()
    assert queryset._result_cache is None
    csv_chunks = list(exports.csv_lines(queryset))
    assert queryset._result_cache is None
    assert len(csv_chunks) >= 2  # the header leaves before any row is read


# --------------------------------------------------------------------------- content


def test_export_csv_has_exactly_the_rows_the_console_counts(staff_client):
    query = "actor=bob&verb=updated"
    expected = console_count(staff_client, query)
    rows = read_csv(staff_client.get(f"{CSV_URL}?{query}"))
    assert expected > 0
    assert len(rows) == expected
    assert {r["verb"] for r in rows} == {"updated"}
    assert {r["actor"] for r in rows} == {"Bob Nguyen"}


def test_export_json_has_exactly_the_rows_of_the_filter(staff_client):
    query = "object_type=demo.task&visibility=public"
    expected = list(
        Action.objects.filter(action_object_content_type__model="task", public=True)
        .order_by("-timestamp", "-id")
        .values_list("pk", flat=True)
    )
    rows = read_jsonl(staff_client.get(f"{JSON_URL}?{query}"))
    assert [r["id"] for r in rows] == expected
    assert all(r["object"]["type"] == "demo.task" for r in rows)


def test_export_csv_columns(staff_client):
    action = Action.objects.filter(verb="updated").order_by("-timestamp", "-id").first()
    rows = read_csv(staff_client.get(f"{CSV_URL}?verb=updated"))
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    row = rows[0]
    assert row["id"] == str(action.pk)
    assert row["timestamp"].endswith("+00:00")
    assert row["object_type"] == "demo.task"
    assert row["object_id"] == action.action_object_object_id
    assert json.loads(row["changes"]) == action.data["changes"]
    assert json.loads(row["data"]) == action.data


def test_export_ignores_the_page_cursor(staff_client):
    first = staff_client.get("/activity/staff/?verb=commented")
    cursor = first.context["page"].next_cursor or "x"
    rows = read_csv(staff_client.get(f"{CSV_URL}?verb=commented&before={cursor}"))
    assert len(rows) == Action.objects.filter(verb="commented").count()


def test_export_of_nothing_is_just_the_header(staff_client):
    response = staff_client.get(f"{CSV_URL}?actor=nobody-here")
    assert read_csv(response) == []


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_defuse_formula_prefixes_a_quote(value):
    assert exports.defuse_formula(value) == "'" + value


@pytest.mark.parametrize(
    "value", [" =x", "\n=1+1", "  +1", "\r\n@SUM(A1)", "\u00a0-1", "\u3000=1", " \uff1d1+1"]
)
def test_defuse_formula_sees_through_leading_whitespace_and_line_breaks(value):
    assert exports.defuse_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["Fix login", "1", "", "a=b", " x=1", "\nplain", " "])
def test_defuse_formula_leaves_plain_text(value):
    assert exports.defuse_formula(value) == value


def test_export_csv_defuses_formulas_after_leading_space(staff_client, demo):
    task = Task.objects.first()
    task.title = ' \n=HYPERLINK("http://evil.example","click")'
    task.save()
    rows = read_csv(staff_client.get(f"{CSV_URL}?object_type=demo.task&object_id={task.pk}"))
    assert "'" + task.title in [r["object"] for r in rows]
    assert all(
        not cell.lstrip().startswith(("=", "+", "-", "@")) for r in rows for cell in r.values()
    )


def test_export_csv_defuses_formulas_in_labels(staff_client, demo):
    task = Task.objects.first()
    task.title = '=HYPERLINK("http://evil.example","click")'
    task.save()
    rows = read_csv(staff_client.get(f"{CSV_URL}?object_type=demo.task&object_id={task.pk}"))
    labels = [r["object"] for r in rows]
    assert "'" + task.title in labels
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_export_json_keeps_text_as_it_is(staff_client, demo):
    task = Task.objects.first()
    task.title = "=1+1 <b>"
    task.save()
    rows = read_jsonl(staff_client.get(f"{JSON_URL}?object_type=demo.task&object_id={task.pk}"))
    assert rows[0]["object"]["label"] == "=1+1 <b>"


# --------------------------------------------------------------------------- recorded


def test_export_is_recorded_as_a_private_action(staff_client, demo):
    response = staff_client.get(f"{CSV_URL}?actor=bob&verb=updated&q=")
    b"".join(response.streaming_content)
    action = Action.objects.get(verb="exported")
    assert action.public is False
    assert action.actor_object_id == str(demo["staff"].pk)
    assert action.data["filter"] == "actor=bob&verb=updated"
    assert action.data["format"] == "csv"


def test_export_leaves_out_its_own_record(staff_client):
    before = Action.objects.count()
    rows = read_jsonl(staff_client.get(JSON_URL))
    assert len(rows) == before
    assert Action.objects.count() == before + 1
    assert "exported" not in {r["verb"] for r in rows}


def test_export_leaves_out_its_own_record_after_future_dated_actions(staff_client, demo):
    future = timezone.now() + dt.timedelta(days=3)
    activityui.record(demo["bob"], "scheduled", timestamp=future)
    before = Action.objects.count()
    rows = read_jsonl(staff_client.get(JSON_URL))
    assert len(rows) == before
    assert rows[0]["verb"] == "scheduled"
    assert "exported" not in {r["verb"] for r in rows}


def test_export_lists_earlier_exports(staff_client):
    b"".join(staff_client.get(JSON_URL + "?verb=commented").streaming_content)
    rows = read_jsonl(staff_client.get(JSON_URL + "?verb=exported"))
    assert len(rows) == 1
    assert rows[0]["data"]["filter"] == "verb=commented"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "query",
    [
        "object_type=demo.task&object_id=abc",
        "object_type=demo.task&object_id=999999999999999999999999",
        "since=2026-13-45",
        "until=99999-01-01",
        "verb=never-used",
        "q=" + "q" * 500,
    ],
)
@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_export_bad_filter_is_400(small_staff_client, url, query):
    response = small_staff_client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert not response.streaming
    assert not Action.objects.filter(verb="exported").exists()


def test_export_private_actions_are_included(staff_client, demo):
    private = activityui.record(demo["carol"], "signed in", public=False)
    rows = read_jsonl(staff_client.get(JSON_URL + "?visibility=private"))
    assert [r["id"] for r in rows] == [private.pk]


# --- the fast path (raw rows): the same rows and values as the model-based writers ---


def test_fast_csv_rows_equal_the_model_rows(staff_client, demo):
    rows = read_csv(staff_client.get(CSV_URL))
    actions = {a.pk: a for a in Action.objects.exclude(verb="exported")}
    assert sorted(int(r["id"]) for r in rows) == sorted(actions)
    for row in rows:
        expected = dict(
            zip(exports.CSV_COLUMNS, exports.csv_row(actions[int(row["id"])]), strict=True)
        )
        for column in ("changes", "data"):
            got, want = row.pop(column), expected.pop(column)
            assert (json.loads(got) if got else None) == (json.loads(want) if want else None)
        assert row == expected


def test_fast_json_lines_equal_the_model_dicts(staff_client, demo):
    rows = read_jsonl(staff_client.get(JSON_URL))
    actions = {a.pk: a for a in Action.objects.exclude(verb="exported")}
    assert sorted(r["id"] for r in rows) == sorted(actions)
    for row in rows:
        assert row == json.loads(exports._json(exports.action_as_dict(actions[row["id"]])))


def test_export_builds_no_model_instance_per_row(db, demo):
    from django.db.models.signals import post_init

    built = []

    def count(sender, **kwargs):
        built.append(sender)

    post_init.connect(count, sender=Action)
    try:
        queryset = Action.objects.order_by("-timestamp", "-id")
        csv_text = "".join(exports.csv_lines(queryset))
        json_text = "".join(exports.jsonl_lines(queryset))
    finally:
        post_init.disconnect(count, sender=Action)
    assert built == []
    assert len(json_text.splitlines()) == Action.objects.count() == len(csv_text.splitlines()) - 1


def test_export_announces_its_row_count(staff_client):
    expected = Action.objects.filter(verb="commented").count()
    for url in (CSV_URL, JSON_URL):
        response = staff_client.get(url, {"verb": "commented"})
        assert response["X-Export-Rows"] == str(expected)
        body = b"".join(response.streaming_content).decode()
        lines = len(body.splitlines())
        assert lines == expected + (1 if url == CSV_URL else 0)


def test_export_logs_progress_of_long_exports(staff_client, monkeypatch, caplog):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 20)
    monkeypatch.setattr(exports, "BATCH_SIZE", 10)
    total = Action.objects.count()
    with caplog.at_level("INFO", logger="activityui.exports"):
        b"".join(staff_client.get(JSON_URL).streaming_content)
    messages = [r.getMessage() for r in caplog.records if r.name == "activityui.exports"]
    assert messages and messages[0] == f"export: 20 of {total} rows written"

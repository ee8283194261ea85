"""Staff exports: streamed CSV and JSON Lines of the current filter, defused, recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
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
from tests.common_fixtures import only_on

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
    try:
        with CaptureQueriesContext(connection) as stream_queries:
            first = next(chunks).decode()
        assert len(first.splitlines()) == 5  # one batch out while the rest is still unread
        # the one query the export reads everything through (in a test's transaction, COPY
        # runs in a savepoint: see test_export_closed_half_way_inside_a_transaction)
        reads = [q for q in stream_queries if "actstream_action" in q["sql"]]
        assert len(reads) == 1
        assert len(stream_queries) == 1 + (connection.vendor == "postgresql")
    finally:  # the whole stream read, even after a failure: a half-read COPY holds the connection
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
    assert re.fullmatch(rf"export: done, {total} rows in [\d.]+ s \(\d+ rows/s\)", messages[-1])


# --- the two writers: PostgreSQL's COPY and Python's, byte for byte ---

TRICKY_TEXTS = [
    "plain",
    "",
    " ",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\tx",
    "\rx",
    " =x",
    "\n=1+1",
    "\u00a0-1",
    "\u3000=1",
    " \uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20x",
    "\u2028@x",
    "\x1c=1",
    "\x0b+1",
    "\u200b=1",  # a zero-width space is not whitespace to str.lstrip(): left alone
    "a=b",
    " x=1",
    "\nplain",
    'say "hi", ok',
    "line\nbreak",
    "cr\r\nlf",
    "comma,here",
    'quote"',
    '"',
    "ünïcødé ☃ 😀 中文",
    "\u202eevil",
    "back\\slash",
    "\x01ctl\x1f\x7f",
    "tab\tinside",
    "\\.",
    "null",
    "{}",
    "NULL",
    "'already quoted",
]
TRICKY_VALUES = [
    None,
    5,
    -1,
    1.5,
    0,
    True,
    False,
    9007199254740993,  # 2**53 + 1: not a float
    1e100,
    {"nested": {"deep": ["=x", 1, None, True]}},
    ["a", "=b"],
    "=cmd",
    "",
]


@pytest.fixture
def tricky(db):
    """Actions with every kind of text, number and shape the writers must agree on, written
    straight to the table (no capture): odd ids, empty and missing parts, formulas."""
    from django.contrib.contenttypes.models import ContentType

    user = get_user_model().objects.create(username="tricky")
    user_type = ContentType.objects.get_for_model(user)
    task_type = ContentType.objects.get_for_model(Task)
    project_type = ContentType.objects.get_for_model(Project)
    start = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    actions = []
    for i, text in enumerate(TRICKY_TEXTS):
        value = TRICKY_VALUES[i % len(TRICKY_VALUES)]
        labels = {"label": text} if i % 4 else {"label": value}
        actions.append(
            Action(
                actor_content_type=user_type,
                actor_object_id=text if i % 3 else str(user.pk),
                verb=text or "verb",
                action_object_content_type=task_type if i % 5 else None,
                action_object_object_id=text if i % 5 else None,
                target_content_type=project_type if i % 7 else None,
                target_object_id=(text if i % 2 else "7") if i % 7 else None,
                description=text if i % 2 else None,
                public=bool(i % 2),
                timestamp=start
                + dt.timedelta(seconds=i, microseconds=(0, 100_000, 123_456, 10)[i % 4]),
                data={
                    "snapshot": {"actor": labels, "action_object": labels, "target": labels},
                    "changes": {"title": [text, value]} if i % 3 else value,
                    "comment": text,
                    "value": value,
                },
            )
        )
    for value in TRICKY_VALUES:  # data that is not an object, or an odd snapshot
        actions.append(Action(actor_content_type=user_type, actor_object_id="1", verb="odd"))
        actions[-1].data = {"snapshot": value, "changes": value}
        actions.append(Action(actor_content_type=user_type, actor_object_id="1", verb="odd"))
        actions[-1].data = value
    # an object type without its id; a year before 1000; the JSON null
    actions.append(
        Action(
            actor_content_type=user_type,
            actor_object_id="1",
            verb="lost",
            action_object_content_type=task_type,
            action_object_object_id=None,
            timestamp=dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        )
    )
    Action.objects.bulk_create(actions)
    try:
        from django.db.models import JSONNull  # Django 6.1

        json_null = JSONNull()
    except ImportError:  # Django 6.0: the documented way before JSONNull
        from django.db.models import JSONField, Value

        json_null = Value(None, JSONField())
    Action.objects.create(
        actor_content_type=user_type, actor_object_id="1", verb="json null", data=json_null
    )
    return Action.objects.order_by("-timestamp", "-id")


def python_export(queryset, format: str) -> bytes:
    lines = exports.csv_lines(queryset) if format == "csv" else exports.jsonl_lines(queryset)
    return "".join(lines).encode()


def copy_export(queryset, format: str) -> bytes:
    header = exports.CSV_HEADER.encode() if format == "csv" else b""
    return header + b"".join(text for _rows, text in exports.copy_batches(queryset, format=format))


@only_on("postgresql")
@pytest.mark.parametrize("format", ["csv", "json"])
def test_copy_writes_the_bytes_python_writes(tricky, format):
    python, copied = python_export(tricky, format), copy_export(tricky, format)
    assert copied.count(b"\n") > len(TRICKY_TEXTS)
    assert copied.splitlines() == python.splitlines()  # the first difference, readably
    assert copied == python


@only_on("postgresql")
def test_copy_writes_the_demo_as_python_does(db, demo):
    queryset = Action.objects.order_by("-timestamp", "-id")
    for format in ("csv", "json"):
        assert copy_export(queryset, format) == python_export(queryset, format)


@only_on("postgresql")
@pytest.mark.parametrize("format", ["csv", "json"])
def test_copy_of_a_filter_matching_nothing_writes_no_rows(db, format):
    assert list(exports.copy_batches(Action.objects.none(), format=format)) == []
    assert list(exports.copy_batches(Action.objects.all(), format=format)) == []


@only_on("postgresql")
def test_copy_is_the_writer_on_postgresql(db):
    assert exports.copy_supported("default")


@only_on("sqlite3")
def test_python_is_the_writer_on_sqlite(db):
    assert not exports.copy_supported("default")


@only_on("postgresql")
def test_copy_needs_aware_times(db, settings):
    settings.USE_TZ = False  # naive times: Python writes them (in the server's zone)
    assert not exports.copy_supported("default")


ROLES = ("actor", "action_object", "target")


def has_text_labels(action) -> bool:
    snapshot = action.data.get("snapshot") if isinstance(action.data, dict) else None
    parts = [snapshot.get(role) if isinstance(snapshot, dict) else None for role in ROLES]
    return all(isinstance(part, dict) and isinstance(part.get("label"), str) for part in parts)


def test_tricky_csv_reads_back_as_the_cells_of_each_action(tricky):
    """The writer of this database (COPY on PostgreSQL) against the model-based reference."""
    text = b"".join(
        chunk if isinstance(chunk, bytes) else chunk.encode()
        for _rows, chunk in exports.export_batches(tricky, format="csv")
    ).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(exports.CSV_COLUMNS)
    actions = {a.pk: a for a in tricky}
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(actions)
    checked = 0
    for row in rows[1:]:
        action = actions[int(row[0])]
        changes = action.data.get("changes") if isinstance(action.data, dict) else None
        if not has_text_labels(action) or not isinstance(changes, dict | list | None):
            # labels and changes that are not text or objects (activityui writes none): the
            # database's text of them, which SQLite and PostgreSQL write differently
            continue
        want = exports.csv_row(action)
        assert row[:13] == want[:13]
        for got, wanted in ((row[13], want[13]), (row[14], want[14])):
            assert (json.loads(got) if got else None) == (json.loads(wanted) if wanted else None)
        checked += 1
    assert checked > 10


def test_lstrip_whitespace_is_what_python_strips():
    spaces = {chr(code) for code in range(0x110000) if chr(code).isspace()}
    assert set(exports.LSTRIP_WHITESPACE) == spaces
    assert len(exports.LSTRIP_WHITESPACE) == len(spaces)


@pytest.mark.parametrize("value", TRICKY_TEXTS)
def test_defuse_formula_follows_its_rule(value):
    risky = value.startswith(exports.FORMULA_PREFIXES) or value.lstrip().startswith(
        exports.FORMULA_CHARACTERS
    )
    assert exports.defuse_formula(value) == ("'" + value if risky else value)


@only_on("postgresql")
def test_defuse_formula_in_sql_is_the_python_rule(db):
    from django.db import connection

    values = [*TRICKY_TEXTS, *(c + "=1" for c in exports.LSTRIP_WHITESPACE), "\u180e=1"]
    sql, params = exports._defuse_sql("v")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [*params, values],
        )
        defused = [row[0] for row in cursor.fetchall()]
    assert defused == [exports.defuse_formula(v) for v in values]


# --- every visible action exactly once, whatever the filter ---


def staff_filter_ids(user, query: str) -> list[int]:
    from django.http import QueryDict
    from django.test import RequestFactory

    from activityui.filters import StaffActionFilterSet
    from activityui.selectors import action_list_for_staff

    request = RequestFactory().get("/activity/staff/", QueryDict(query))
    request.user = user
    filterset = StaffActionFilterSet(
        QueryDict(query) or None, queryset=action_list_for_staff(user=user), request=request
    )
    assert not filterset.is_bound or filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("pk", flat=True))


def day_of(action, days: int = 0) -> str:
    moment = timezone.localtime(action.timestamp) + dt.timedelta(days=days)
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


@pytest.mark.parametrize("format", ["csv", "json"])
def test_export_holds_each_action_of_each_filter_exactly_once(staff_client, demo, format):
    newest = Action.objects.order_by("-timestamp", "-id")[5]
    oldest = Action.objects.order_by("timestamp", "id")[5]
    task = Task.objects.order_by("pk").first()
    queries = [
        "",
        "q=Fix",
        "q=fix audit",
        "q=Apollo",
        "q=zzqxj",
        "verb=updated",
        "actor=bob",
        "visibility=private",
        "visibility=public&verb=commented",
        f"object_type=demo.task&object_id={task.pk}",
        f"target_type=demo.project&target_id={task.project_id}",
        f"since={day_of(oldest)}",
        f"until={day_of(newest)}",
        f"since={day_of(oldest, 30)}&until={day_of(newest, -30)}&q=task",
    ]
    assert all(staff_filter_ids(demo["staff"], query) for query in queries[1:4])  # found
    assert not staff_filter_ids(demo["staff"], "q=zzqxj")
    url = CSV_URL if format == "csv" else JSON_URL
    for query in queries:
        expected = staff_filter_ids(demo["staff"], query)
        response = staff_client.get(f"{url}?{query}")
        assert response.status_code == 200, query
        if format == "csv":
            ids = [int(row["id"]) for row in read_csv(response)]
        else:
            ids = [row["id"] for row in read_jsonl(response)]
        assert ids == expected, query
        assert response["X-Export-Rows"] == str(len(expected))


# --- a download closed half-way ---


@pytest.fixture
def many_actions(db, demo):
    """Enough bytes that COPY is still writing when the download is closed."""
    from django.contrib.contenttypes.models import ContentType

    user_type = ContentType.objects.get_for_model(demo["bob"])
    padding = "x" * 2000
    Action.objects.bulk_create(
        Action(
            actor_content_type=user_type,
            actor_object_id=str(demo["bob"].pk),
            verb="padded",
            data={"comment": padding, "n": n},
        )
        for n in range(4000)
    )
    return Action.objects.count()


def export_closed_half_way(client, url: str) -> int:
    """Read two chunks of an export, then close the response as a WSGI server does when the
    client goes away (which also ends the request)."""
    response = client.get(url)
    chunks = iter(response.streaming_content)
    read = len(next(chunks)) + len(next(chunks))
    response.close()
    return read


@pytest.mark.parametrize("format", ["csv", "json"])
def test_export_closed_half_way_inside_a_transaction(db, demo, many_actions, format, caplog):
    from django.db import transaction

    with transaction.atomic():  # a host's ATOMIC_REQUESTS, or the test's own transaction
        kept = activityui.record(demo["bob"], "kept", public=False)
        batches = exports.export_batches(Action.objects.order_by("-id"), format=format)
        with caplog.at_level("WARNING"):
            read = sum(len(next(batches)[1]) for _ in range(3))
            batches.close()
        assert 0 < read < 4000 * 2000
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        # the transaction survived: what it wrote before the export is there, and it goes on
        assert Action.objects.filter(pk=kept.pk).exists()
        activityui.record(demo["bob"], "after", public=False)
    verbs = Action.objects.filter(verb__in=["kept", "after"]).values_list("verb", flat=True)
    assert sorted(verbs) == ["after", "kept"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
def test_export_closed_half_way_keeps_a_persistent_connection_working(
    client, many_actions, url, caplog, monkeypatch
):
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)  # kept between requests
    connection.close()
    client.force_login(get_user_model().objects.get(username="staff"))
    database_connection = connection.connection
    with caplog.at_level("WARNING"):
        read = export_closed_half_way(client, url)
    assert 0 < read < 4000 * 2000
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert connection.connection is database_connection  # kept, and usable:
    rows = read_jsonl(client.get(JSON_URL + "?verb=padded"))
    assert len(rows) == 4000
    assert connection.connection is database_connection

"""The staff console: access, filters, validation, count, keyset pages, detail panel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from actstream.models import Action
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import activityui
from activityui.capture import acting_as
from activityui.links import timeline_url
from demo_site.demo.models import Project, Task, Team

URL = "/activity/staff/"


def staff_settings(**changes):
    return override_settings(ACTIVITYUI={**settings.ACTIVITYUI, **changes})


@pytest.fixture
def staff_client(client, demo):
    client.force_login(demo["staff"])
    return client


@pytest.fixture
def small(db):
    """Users and one team, project and task (with their actions): enough for input checks."""
    from demo_site.demo import seed

    users = seed.ensure_users()
    with acting_as(users["alice"]):
        team = Team.objects.create(name="Small")
        project = Project.objects.create(team=team, name="Small Web")
        Task.objects.create(project=project, title="Fix login")
    return users


@pytest.fixture
def small_staff_client(client, small):
    client.force_login(small["staff"])
    return client


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="staff-row-(\d+)"', response.content.decode())]


def shown_count(response) -> str:
    match = re.search(r'data-count="([^"]+)"', response.content.decode())
    assert match, "no count on the page"
    return match.group(1)


def all_rows(client, query: str) -> list[int]:
    """Follow the keyset pages of a filter to the end."""
    ids: list[int] = []
    url = f"{URL}?{query}"
    for _ in range(200):
        response = client.get(url)
        assert response.status_code == 200
        ids += row_ids(response)
        cursor = response.context["page"].next_cursor
        if cursor is None:
            return ids
        url = f"{URL}?{query}&before={cursor}" if query else f"{URL}?before={cursor}"
    raise AssertionError("too many pages")


# --------------------------------------------------------------------------- access


def test_staff_url_name():
    assert reverse("activityui:staff") == URL


def test_staff_anonymous_redirects_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_staff_without_permission_is_403(client, small):
    client.force_login(small["carol"])
    assert client.get(URL).status_code == 403


def test_staff_detail_without_permission_is_403(client, small):
    client.force_login(small["alice"])
    action = Action.objects.first()
    assert client.get(reverse("activityui:staff_action", args=[action.pk])).status_code == 403


def test_staff_with_permission_lists_newest_first(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    newest = list(Action.objects.order_by("-timestamp", "-id").values_list("pk", flat=True)[:25])
    assert row_ids(response) == newest


def test_staff_shows_private_actions(staff_client, demo):
    private = activityui.record(demo["carol"], "signed in", public=False)
    response = staff_client.get(URL)
    assert private.pk in row_ids(response)


def test_staff_htmx_gets_results_fragment(staff_client):
    response = staff_client.get(URL + "?verb=updated", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="staff-filters"' not in body
    assert "<table" in body
    assert 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]


def test_staff_filter_request_pushes_the_clean_url(staff_client):
    # the filter form sends its empty fields too: the server pushes the URL without them
    # (the feed does the same), and the rows are those of the clean URL
    messy = staff_client.get(
        URL + "?actor=&verb=updated&object_type=&q=+", headers={"HX-Request": "true"}
    )
    assert messy["HX-Push-Url"] == URL + "?verb=updated"
    assert row_ids(messy) == row_ids(staff_client.get(URL + "?verb=updated"))
    assert staff_client.get(URL, headers={"HX-Request": "true"})["HX-Push-Url"] == URL


def test_staff_older_page_link_and_pushed_url_keep_only_the_filters(staff_client):
    with override_settings(ACTIVITYUI={**settings.ACTIVITYUI, "PAGE_SIZE": 2}):
        first = staff_client.get(URL + "?actor=&verb=updated").content.decode()
        older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
        assert re.fullmatch(re.escape(URL) + r"\?verb=updated&before=[\w-]+", older)
        response = staff_client.get(older, headers={"HX-Request": "true"})
    assert response["HX-Push-Url"] == older


def test_staff_full_page_has_filters_and_results(staff_client):
    body = staff_client.get(URL).content.decode()
    assert 'id="staff-filters"' in body
    assert 'id="staff-results"' in body
    assert 'hx-push-url="true"' in body


# --------------------------------------------------------------------------- filters


def test_staff_filter_actor_matches_username_part(staff_client, demo):
    ids = all_rows(staff_client, "actor=BO")
    bob = str(demo["bob"].pk)
    assert ids
    assert set(Action.objects.filter(pk__in=ids).values_list("actor_object_id", flat=True)) == {bob}
    assert len(ids) == Action.objects.filter(actor_object_id=bob).count()


def test_staff_filter_actor_unknown_is_empty(staff_client):
    response = staff_client.get(URL + "?actor=nobody-here")
    assert response.status_code == 200
    assert row_ids(response) == []
    assert "No action matches these filters." in response.content.decode()


def test_staff_filter_verb(staff_client):
    ids = all_rows(staff_client, "verb=commented")
    assert ids
    assert set(Action.objects.filter(pk__in=ids).values_list("verb", flat=True)) == {"commented"}
    assert len(ids) == Action.objects.filter(verb="commented").count()


def test_staff_filter_verb_offers_verbs_from_the_data(staff_client, demo):
    activityui.record(demo["bob"], "archived")
    response = staff_client.get(URL + "?verb=archived")
    assert response.status_code == 200
    assert len(row_ids(response)) == 1
    assert '<option value="archived" selected>' in response.content.decode()


def test_staff_filter_verb_unknown_is_a_form_error(small_staff_client):
    response = small_staff_client.get(URL + "?verb=never-used")
    assert response.status_code == 200
    assert "verb" in response.context["filterset"].form.errors
    assert row_ids(response) == []


def test_staff_filter_object_type(staff_client):
    ids = all_rows(staff_client, "object_type=demo.project")
    project_ct = ContentType.objects.get_for_model(Project)
    assert ids
    assert set(
        Action.objects.filter(pk__in=ids).values_list("action_object_content_type", flat=True)
    ) == {project_ct.pk}
    assert len(ids) == Action.objects.filter(action_object_content_type=project_ct).count()


def test_staff_filter_object_type_offers_types_in_use(staff_client):
    choices = dict(staff_client.get(URL).context["filterset"].form.fields["object_type"].choices)
    assert "demo.task" in choices
    assert "demo.project" in choices
    assert "sessions.session" not in choices


def test_staff_filter_object_by_type_and_id(staff_client):
    task = Task.objects.order_by("pk").first()
    ids = all_rows(staff_client, f"object_type=demo.task&object_id={task.pk}")
    task_ct = ContentType.objects.get_for_model(Task)
    expected = Action.objects.filter(
        action_object_content_type=task_ct, action_object_object_id=str(task.pk)
    )
    assert ids
    assert sorted(ids) == sorted(expected.values_list("pk", flat=True))


def test_staff_filter_target_by_type_and_id(staff_client):
    project = Project.objects.order_by("pk").first()
    ids = all_rows(staff_client, f"target_type=demo.project&target_id={project.pk}")
    project_ct = ContentType.objects.get_for_model(Project)
    expected = Action.objects.filter(
        target_content_type=project_ct, target_object_id=str(project.pk)
    )
    assert ids
    assert sorted(ids) == sorted(expected.values_list("pk", flat=True))


def test_staff_filter_time_range(staff_client):
    stamps = sorted(Action.objects.values_list("timestamp", flat=True))
    since, until = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    local = timezone.get_current_timezone()
    since_text = since.astimezone(local).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
    until_text = until.astimezone(local).replace(microsecond=0) + dt.timedelta(seconds=1)
    until_text = until_text.strftime("%Y-%m-%dT%H:%M:%S")
    ids = all_rows(staff_client, f"since={since_text}&until={until_text}")
    lower = since.replace(microsecond=0)
    upper = until.replace(microsecond=0) + dt.timedelta(seconds=1)
    expected = Action.objects.filter(timestamp__gte=lower, timestamp__lte=upper)
    assert ids
    assert sorted(ids) == sorted(expected.values_list("pk", flat=True))


def test_staff_filter_accepts_a_plain_date(small_staff_client):
    response = small_staff_client.get(URL + "?since=2020-01-01")
    assert response.status_code == 200
    assert response.context["filters_valid"]


def test_staff_filter_visibility(staff_client, demo):
    private = activityui.record(demo["alice"], "signed in", public=False)
    private_ids = all_rows(staff_client, "visibility=private")
    assert private_ids == [private.pk]
    public_ids = all_rows(staff_client, "visibility=public")
    assert private.pk not in public_ids
    assert len(public_ids) == Action.objects.filter(public=True).count()


def test_staff_filter_text_searches_labels_and_verbs(staff_client):
    task = Task.objects.order_by("pk").first()
    word = task.title.split()[-1]
    ids = all_rows(staff_client, f"q={word}")
    assert ids
    for action in Action.objects.filter(pk__in=ids):
        snapshot = action.data["snapshot"]
        labels = [
            (snapshot.get(role) or {}).get("label") or "" for role in ("actor", "action_object")
        ]
        labels.append((snapshot.get("target") or {}).get("label") or "")
        assert word.lower() in " ".join([action.verb, *labels]).lower()
    verb_ids = all_rows(staff_client, "q=COMMENT")
    assert len(verb_ids) == Action.objects.filter(verb="commented").count()


def test_staff_filter_text_does_not_match_json_keys(staff_client):
    response = staff_client.get(URL + "?q=snapshot")
    assert row_ids(response) == []


def test_staff_filters_combine(staff_client, demo):
    ids = all_rows(staff_client, "actor=bob&verb=updated&object_type=demo.task")
    assert ids
    for action in Action.objects.filter(pk__in=ids):
        assert action.actor_object_id == str(demo["bob"].pk)
        assert action.verb == "updated"
        assert action.action_object_content_type.model == "task"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("object_type=demo.task&object_id=abc", "object_id"),
        ("object_type=demo.task&object_id=99999999999999999999999999", "object_id"),
        ("target_type=demo.project&target_id=1e9", "target_id"),
        ("object_id=12", "object_type"),
        ("object_type=nope.nothing", "object_type"),
        ("target_type=" + "x" * 300, "target_type"),
        ("object_type=demo.task&object_id=" + "9" * 100, "object_id"),
        ("since=2026-13-45", "since"),
        ("since=yesterday", "since"),
        ("until=99999-01-01", "until"),
        ("since=0001-01-01T00:00", "since"),
        ("since=2026-03-29T02:30", "since"),  # does not exist in Paris (clocks go forward)
        ("actor=%00", "actor"),
        ("object_type=demo.task&object_id=1%00", "object_id"),
        ("until=9999-12-31T23:59:59", "until"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("visibility=secret", "visibility"),
        ("verb=" + "v" * 300, "verb"),
        ("actor=" + "a" * 151, "actor"),
        ("q=" + "q" * 201, "q"),
    ],
)
def test_staff_bad_filter_is_a_form_error(small_staff_client, query, field):
    response = small_staff_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert field in response.context["filterset"].form.errors
    assert response.context["filters_valid"] is False
    assert row_ids(response) == []
    body = response.content.decode()
    assert 'role="alert"' in body
    assert 'aria-invalid="true"' in body


def test_staff_bad_filter_errors_come_out_of_band_for_htmx(small_staff_client):
    response = small_staff_client.get(URL + "?since=2026-13-45", headers={"HX-Request": "true"})
    body = response.content.decode()
    oob = r'<div id="staff-errors-since"[^>]*hx-swap-oob="true">(.*?)</div>'
    match = re.search(oob, body, re.S)
    assert match
    assert "errorlist" in match.group(1)


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "x" * 500, "MjAyNi0wMS0wMXwx"])
def test_staff_bad_cursor_is_400(small_staff_client, cursor):
    assert small_staff_client.get(f"{URL}?before={cursor}").status_code == 400


def test_staff_unknown_parameters_are_ignored(small_staff_client):
    assert small_staff_client.get(URL + "?page=3&sort=evil").status_code == 200


def test_staff_non_get_is_405(small_staff_client):
    assert small_staff_client.post(URL).status_code == 405


# --------------------------------------------------------------------------- count and pages


def test_staff_count_is_exact_below_the_limit(staff_client):
    response = staff_client.get(URL + "?verb=commented")
    assert shown_count(response) == str(Action.objects.filter(verb="commented").count())


def test_staff_count_is_capped_beyond_the_limit(staff_client):
    total = Action.objects.count()
    assert total > 10
    with staff_settings(COUNT_LIMIT=10):
        response = staff_client.get(URL)
    assert shown_count(response) == "10+"
    assert "10+</strong>" in response.content.decode()


def test_staff_count_shows_thousands_separator(staff_client, demo):
    task = Task.objects.first()
    Action.objects.bulk_create(
        [
            Action(
                actor_content_type=ContentType.objects.get_for_model(get_user_model()),
                actor_object_id=str(demo["bob"].pk),
                verb="viewed",
                action_object_content_type=ContentType.objects.get_for_model(Task),
                action_object_object_id=str(task.pk),
                data={},
            )
            for _ in range(1000)
        ]
    )
    response = staff_client.get(URL + "?verb=viewed")
    assert "1,000</strong>" in response.content.decode()


def test_staff_count_never_counts_the_whole_table(staff_client):
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(URL)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0].upper()


def test_staff_keyset_pages_cover_everything_once(staff_client):
    with staff_settings(PAGE_SIZE=40):
        ids = all_rows(staff_client, "")
    expected = list(Action.objects.order_by("-timestamp", "-id").values_list("pk", flat=True))
    assert ids == expected


def test_staff_pages_use_no_offset(staff_client):
    first = staff_client.get(URL)
    cursor = first.context["page"].next_cursor
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(f"{URL}?before={cursor}")
    assert not any("OFFSET" in q["sql"].upper() for q in queries)


def test_staff_older_link_keeps_the_filters(staff_client):
    with staff_settings(PAGE_SIZE=5):
        body = staff_client.get(URL + "?verb=updated").content.decode()
    match = re.search(r'rel="next" href="([^"]+)"', body)
    assert match
    assert "verb=updated" in match.group(1)
    assert "before=" in match.group(1)


@pytest.mark.parametrize("query", ["", "actor=bob&verb=updated&q=a"])
def test_staff_query_count_does_not_grow_with_page_size(staff_client, query):
    staff_client.get(f"{URL}?{query}")  # warm the content type cache
    counts = []
    for size in (5, 50):
        with staff_settings(PAGE_SIZE=size), CaptureQueriesContext(connection) as queries:
            response = staff_client.get(f"{URL}?{query}")
        assert len(row_ids(response)) == min(size, response.context["count"])
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_staff_permalink_reproduces_the_filters(staff_client):
    response = staff_client.get(URL + "?actor=bob&verb=&object_id=&visibility=public")
    assert (
        response.context["permalink"]
        == "http://testserver/activity/staff/?actor=bob&visibility=public"
    )
    assert 'value="http://testserver/activity/staff/?actor=bob&amp;visibility=public"' in (
        response.content.decode()
    )


def test_staff_export_links_carry_the_filters(staff_client):
    body = staff_client.get(URL + "?actor=bob&before=").content.decode()
    assert 'href="/activity/staff/export.csv?actor=bob"' in body
    assert 'href="/activity/staff/export.json?actor=bob"' in body


def test_staff_table_shows_time_with_zone(staff_client):
    action = Action.objects.order_by("-timestamp", "-id").first()
    body = staff_client.get(URL).content.decode()
    local = timezone.localtime(action.timestamp)
    assert local.strftime("%Y-%m-%d %H:%M:%S") in body
    assert settings.TIME_ZONE in body


# --------------------------------------------------------------------------- detail panel


def detail_url(action) -> str:
    return reverse("activityui:staff_action", args=[action.pk])


def test_staff_detail_fragment_shows_the_whole_action(staff_client, demo):
    task = Task.objects.select_related("project").first()
    action = activityui.record(
        demo["bob"], "commented", task, task.project, comment="<script>alert(1)</script>"
    )
    response = staff_client.get(detail_url(action), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f"Action #{action.pk}" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body
    assert "&quot;comment&quot;: &quot;&lt;script&gt;" in body  # pretty-printed JSON, escaped
    assert f'href="{task.get_absolute_url()}"' in body
    assert f'href="{task.project.get_absolute_url()}"' in body
    assert f"demo.task #{task.pk}" in body


def test_staff_detail_links_to_the_object_timeline(staff_client):
    action = Action.objects.filter(action_object_content_type__model="task").first()
    body = staff_client.get(detail_url(action), headers={"HX-Request": "true"}).content.decode()
    url = timeline_url("demo.task", action.action_object_object_id)
    assert (url is not None) == ("Timeline" in body)
    if url is not None:
        assert f'href="{url}"' in body


def test_staff_detail_full_page_without_htmx(staff_client):
    action = Action.objects.first()
    response = staff_client.get(detail_url(action) + "?actor=bob")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert 'href="/activity/staff/?actor=bob"' in body  # back to the same filters


def test_staff_rows_open_the_detail_panel(staff_client):
    action = Action.objects.order_by("-timestamp", "-id").first()
    body = staff_client.get(URL).content.decode()
    assert f'hx-get="{detail_url(action)}" hx-target="#staff-detail"' in body


@pytest.mark.parametrize("pk", [0, 10**6, 2**63 - 1, 2**63, 10**30])
def test_staff_detail_missing_is_404(small_staff_client, pk):
    assert small_staff_client.get(f"{URL}actions/{pk}/").status_code == 404

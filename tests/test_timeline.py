"""The object timeline: page, fragments, template tag, filters, visibility and query budget."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import activityui
from activityui.capture import acting_as
from demo_site.demo.models import Project, Task


def timeline_path(obj) -> str:
    content_type = ContentType.objects.get_for_model(obj)
    return reverse(
        "activityui:object", args=[f"{content_type.app_label}.{content_type.model}", obj.pk]
    )


@pytest.fixture
def apollo(demo):
    return Project.objects.get(name="Apollo Web")


@pytest.fixture
def task(demo, apollo):
    """A task bob created and moved to review, then alice renamed."""
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=3)):
        task = Task.objects.create(project=apollo, title="Fix login bug", status="in_progress")
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=2)):
        task.status = Task.Status.REVIEW
        task.save()
    with acting_as(demo["alice"], at=timezone.now() - dt.timedelta(hours=1)):
        task.title = "Fix login"
        task.save()
    return task


def entry_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'id="timeline-action-(\d+)"', response.content.decode())]


def fragment(client, url, target="timeline", current=None):
    headers = {"HX-Request": "true", "HX-Target": target}
    if current:
        headers["HX-Current-URL"] = "http://testserver" + current
    return client.get(url, headers=headers)


# --------------------------------------------------------------------------- the page


def test_timeline_page_lists_the_objects_actions_newest_first(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task))
    assert response.status_code == 200
    expected = list(
        Action.objects.filter(
            action_object_content_type=ContentType.objects.get_for_model(Task),
            action_object_object_id=str(task.pk),
        )
        .order_by("-timestamp", "-id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 3
    assert entry_ids(response) == expected
    html = response.content.decode()
    assert "<h1>" in html and "Fix login" in html
    assert "Status:" in html and "In progress" in html and "Review" in html


def test_timeline_page_groups_by_day_with_headings(client, demo, task):
    client.force_login(demo["alice"])
    html = client.get(timeline_path(task)).content.decode()
    headings = re.findall(r'<h3 class="aui-rail__day">([^<]+)</h3>', html)
    assert len(headings) == 3
    assert headings[0] in {"Today", "Yesterday"}  # an hour ago (just after midnight: yesterday)


def test_timeline_includes_actions_where_the_object_is_target(client, demo, task, apollo):
    client.force_login(demo["alice"])
    html = client.get(timeline_path(apollo)).content.decode()
    created = Action.objects.filter(verb="created", action_object_object_id=str(task.pk)).get()
    assert f'id="timeline-action-{created.pk}"' in html
    assert "Fix login bug" in html  # the task as it was called then, from the snapshot


def test_timeline_includes_actions_where_the_object_is_actor(client, demo, task):
    client.force_login(demo["bob"])
    html = client.get(timeline_path(demo["alice"])).content.decode()
    renamed = Action.objects.filter(verb="updated", data__changes__has_key="title").get()
    assert f'id="timeline-action-{renamed.pk}"' in html


def test_timeline_sentence_does_not_repeat_the_object(client, demo, task):
    client.force_login(demo["alice"])
    html = client.get(timeline_path(task)).content.decode()
    assert "this task" in html
    assert 'class="aui-in"' not in html  # nor where it lives: the host page says so


def test_timeline_of_a_person_names_objects_and_places(client, demo, task):
    client.force_login(demo["bob"])
    html = client.get(timeline_path(demo["alice"])).content.decode()
    assert "Fix login" in html and 'class="aui-in"' in html and "Apollo Web" in html


def test_timeline_shows_a_long_text_change_as_a_word_diff(client, demo, task):
    with acting_as(demo["alice"]):
        task.description = "The login form rejects valid passwords when they contain spaces."
        task.save()
        task.description = "The login form rejects valid passwords when they contain unicode."
        task.save()
    client.force_login(demo["alice"])
    html = client.get(timeline_path(task)).content.decode()
    assert "<del>spaces.</del><ins>unicode.</ins>" in html


def test_timeline_folds_many_field_changes(client, demo, task):
    with acting_as(demo["alice"]):
        task.title = "Fix the login"
        task.status = Task.Status.DONE
        task.priority = Task.Priority.URGENT
        task.assignee = demo["bob"]
        task.due_date = dt.date(2026, 12, 24)
        task.save()
    client.force_login(demo["alice"])
    html = client.get(timeline_path(task)).content.decode()
    assert "2 more changes" in html
    assert '<details class="aui-tl__more">' in html


def test_timeline_vary_headers(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task))
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]


def test_timeline_varies_on_the_page_it_is_shown_in(client, demo, task):
    # the same URL, embedded in the task's page or on its own, is drawn differently
    client.force_login(demo["alice"])
    path = timeline_path(task)
    htmx = {"HX-Request": "true", "HX-Target": "timeline"}
    own = client.get(path, headers={**htmx, "HX-Current-URL": f"http://testserver{path}"})
    embedded = client.get(path, headers={**htmx, "HX-Current-URL": "http://testserver/tasks/1/"})
    assert own.content != embedded.content
    for response in (own, embedded):
        assert "HX-Current-URL" in {v.strip() for v in response["Vary"].split(",")}


def test_timeline_filter_pushes_the_clean_url_on_its_own_page_only(client, demo, task):
    client.force_login(demo["alice"])
    path = timeline_path(task)
    htmx = {"HX-Request": "true", "HX-Target": "timeline"}
    own = client.get(
        f"{path}?verb=&field=status",
        headers={**htmx, "HX-Current-URL": f"http://testserver{path}"},
    )
    assert own["HX-Push-Url"] == f"{path}?field=status"
    embedded = client.get(
        f"{path}?verb=&field=status",
        headers={**htmx, "HX-Current-URL": "http://testserver/tasks/1/"},
    )
    assert "HX-Push-Url" not in embedded


def test_timeline_anonymous_is_sent_to_sign_in(client, demo, task):
    response = client.get(timeline_path(task))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --------------------------------------------------------------------------- fragments


def test_timeline_fragment_for_the_tag_is_the_widget_only(client, demo, task):
    client.force_login(demo["alice"])
    response = fragment(client, timeline_path(task), current=task.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="aui aui-timeline" id="timeline"')
    assert "<html" not in html and "<h1>" not in html
    assert 'hx-push-url="false"' in html  # embedded: filters must not move the host page's URL
    assert 'hx-trigger="activityui:changed from:body"' in html


def test_timeline_fragment_on_its_own_page_pushes_filter_urls(client, demo, task):
    client.force_login(demo["alice"])
    html = fragment(client, timeline_path(task), current=timeline_path(task)).content.decode()
    assert re.search(r'<form class="aui-timeline__filters"[^>]*hx-push-url="true"', html, re.S)


def test_timeline_items_fragment_for_the_refresh(client, demo, task):
    client.force_login(demo["alice"])
    response = fragment(client, timeline_path(task), target="timeline-items")
    html = response.content.decode()
    # the items only: not the filter form (entries have their own Restore forms)
    assert "aui-timeline__filters" not in html and 'id="timeline"' not in html
    assert len(entry_ids(response)) == 3


def test_timeline_refresh_shows_a_change_made_since(client, demo, task):
    client.force_login(demo["alice"])
    before = entry_ids(fragment(client, timeline_path(task), target="timeline-items"))
    response = client.post(
        reverse("task_update", args=[task.pk]), {"status": "done"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Trigger"] == "activityui:changed"
    after = fragment(client, timeline_path(task), target="timeline-items")
    assert len(entry_ids(after)) == len(before) + 1
    assert entry_ids(after)[1:] == before
    assert re.search(
        r"Status:</span>\s*<del[^>]*>Review</del>.*?<ins[^>]*>Done</ins>",
        after.content.decode(),
        re.S,
    )


def test_object_timeline_tag_renders_a_lazy_placeholder_with_one_query(
    demo, task, rf, django_assert_num_queries
):
    ContentType.objects.get_for_model(Task)  # the tag reads the cached content type
    template = Template("{% load activityui %}{% object_timeline task %}")
    request = rf.get("/")
    request.user = demo["alice"]
    with django_assert_num_queries(1):  # may alice see the task?
        html = template.render(Context({"task": task, "request": request}))
    url = timeline_path(task)
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="load"' in html
    assert f'href="{url}"' in html  # works without JavaScript


def test_task_page_embeds_the_timeline(client, demo, task):
    client.force_login(demo["alice"])
    html = client.get(task.get_absolute_url()).content.decode()
    assert f'hx-get="{timeline_path(task)}" hx-trigger="load"' in html


def test_project_page_embeds_the_timeline(client, demo, apollo):
    client.force_login(demo["alice"])
    html = client.get(apollo.get_absolute_url()).content.decode()
    assert f'hx-get="{timeline_path(apollo)}" hx-trigger="load"' in html


# --------------------------------------------------------------------------- paging


@pytest.fixture
def busy_task(demo, apollo):
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=30)):
        busy = Task.objects.create(project=apollo, title="Busy task")
    start = timezone.now() - dt.timedelta(days=20)
    for number in range(11):
        activityui.record(
            demo["alice"],
            "commented",
            busy,
            apollo,
            comment=f"note {number}",
            timestamp=start + dt.timedelta(minutes=number),
        )
    return busy


def test_timeline_show_older_walks_the_whole_history_by_keyset(client, demo, busy_task, settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "PAGE_SIZE": 5}
    client.force_login(demo["alice"])
    url, seen, pages = timeline_path(busy_task), [], 0
    response = client.get(url)
    while True:
        pages += 1
        seen += entry_ids(response)
        match = re.search(r'href="([^"]*before=[^"]+)"', response.content.decode())
        if not match:
            break
        next_url = match.group(1).replace("&amp;", "&")
        assert next_url.startswith(url)
        response = fragment(client, next_url, target="")
        assert response.status_code == 200
        assert "<form" not in response.content.decode()  # only the next page of entries
    assert pages == 3
    assert len(seen) == 12 and len(set(seen)) == 12
    assert seen == sorted(seen, reverse=True)


def test_timeline_next_page_on_the_same_day_has_no_second_heading(
    client, demo, busy_task, settings
):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "PAGE_SIZE": 5}
    client.force_login(demo["alice"])
    first = client.get(timeline_path(busy_task)).content.decode()
    href = re.search(r'href="([^"]*before=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = fragment(client, href, target="").content.decode()
    headings = re.findall(r'<h3 class="aui-rail__day">', second)
    assert headings == []  # the first page's day continues


def test_timeline_bad_cursor_is_400(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task) + "?before=not-a-cursor")
    assert response.status_code == 400


def _count_queries(client, url: str, **headers: str) -> tuple[int, list[int]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries), entry_ids(response)


def test_timeline_query_count_is_constant_in_its_length(client, demo, apollo, settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "PAGE_SIZE": 100}
    with acting_as(demo["bob"]):
        subject = Task.objects.create(project=apollo, title="Counted")

    def change(times: int) -> None:
        for number in range(times):
            with acting_as(demo["alice" if number % 2 else "bob"]):
                subject.priority = 1 + (subject.priority % 4)
                subject.status = ["todo", "in_progress", "review", "done"][number % 4]
                subject.save()
            if number % 3 == 0:
                activityui.record(demo["bob"], "commented", subject, apollo, comment="Noted.")

    change(6)
    activityui.record(demo["alice"], "commented", subject, apollo, comment="On it.")
    client.force_login(demo["alice"])
    url = timeline_path(subject)
    client.get(url)  # warm the content type cache
    items = {"HX-Request": "true", "HX-Target": "timeline-items"}
    small_page, small_ids = _count_queries(client, url)
    small_items, _ = _count_queries(client, url, **items)
    change(30)
    client.get(url)  # the menus remembered again (activityui.menus.seen_remembered)
    large_page, large_ids = _count_queries(client, url)
    large_items, _ = _count_queries(client, url, **items)
    assert (len(small_ids), len(large_ids)) == (10, 50)
    assert small_page == large_page
    assert small_items == large_items
    # the fragment alone: user, object, the permission check (one query with the demo's
    # backend), may-see-object, visible ids, one page, and a second may-see-object query
    # (the session comes from the cache)
    assert small_items <= 7


# --------------------------------------------------------------------------- filters


def test_timeline_field_filter_keeps_only_that_fields_changes(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task) + "?field=status")
    ids = entry_ids(response)
    status_changes = Action.objects.filter(
        action_object_object_id=str(task.pk), data__changes__has_key="status"
    )
    assert ids == [a.pk for a in status_changes.order_by("-timestamp", "-id")]
    assert len(ids) == 1
    assert 'value="status" selected' in response.content.decode()


def test_timeline_field_filter_of_a_rare_and_a_frequent_field(client, demo, task):
    """A field changed at most FEW_CHANGES times is read from the field-change index, one
    changed more often by a walk of the history: the same rows either way."""
    from activityui.filters import FEW_CHANGES

    client.force_login(demo["alice"])
    many = FEW_CHANGES + 5
    activityui.record_bulk(
        demo["bob"], "updated", [task] * many, changes={"priority": [2, 3]}, target=task.project
    )
    for field in ("title", "priority"):
        changed = Action.objects.filter(
            action_object_object_id=str(task.pk), data__changes__has_key=field
        ).order_by("-timestamp", "-id")
        want = [a.pk for a in changed]
        seen: list[int] = []
        url = timeline_path(task) + f"?field={field}"
        while url:
            response = client.get(url)
            seen += entry_ids(response)
            more = re.search(r'href="([^"]*before=[^"]+)"', response.content.decode())
            url = more.group(1).replace("&amp;", "&") if more else None
        assert seen == want, field
    assert len(want) == many


def test_timeline_verb_filter(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task) + "?verb=created")
    ids = entry_ids(response)
    assert ids == [Action.objects.get(verb="created", action_object_object_id=str(task.pk)).pk]


def test_timeline_filter_with_nothing_matching_offers_to_clear(client, demo, task):
    client.force_login(demo["alice"])
    html = client.get(timeline_path(task) + "?verb=commented").content.decode()
    assert "Nothing in the history matches this filter." in html
    assert f'href="{timeline_path(task)}">Show all history' in html


@pytest.mark.parametrize("query", ["?field=password", "?verb=hacked", "?field=status&verb=nope"])
def test_timeline_bad_filter_is_a_400_with_a_form_error(client, demo, task, query):
    client.force_login(demo["alice"])
    response = client.get(timeline_path(task) + query)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "This filter is not valid." in html
    assert entry_ids(response) == []


# --------------------------------------------------------------------------- not found


NOT_FOUND_PATHS = [
    "/activity/objects/demo.nosuchmodel/1/",
    "/activity/objects/nosuchapp.task/1/",
    "/activity/objects/demotask/1/",
    "/activity/objects/demo.task/abc/",
    "/activity/objects/demo.task/1.5/",
    "/activity/objects/demo.task/99999999999999999999999/",
    "/activity/objects/demo.task/987654/",
]


@pytest.mark.parametrize("path", NOT_FOUND_PATHS)
def test_timeline_unknown_type_bad_pk_or_missing_object_is_404(client, demo, path):
    client.force_login(demo["staff"])
    assert client.get(path).status_code == 404


def test_timeline_of_an_object_the_user_may_not_see_is_404(client, demo, task):
    client.force_login(demo["carol"])
    assert client.get(timeline_path(task)).status_code == 404
    assert fragment(client, timeline_path(task)).status_code == 404


def test_timeline_hidden_and_missing_objects_answer_the_same(client, demo, task):
    client.force_login(demo["carol"])
    hidden = client.get(timeline_path(task))
    missing = client.get(reverse("activityui:object", args=["demo.task", task.pk + 10_000]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden.get("Content-Type") == missing.get("Content-Type")


def test_timeline_hidden_object_with_bad_filters_is_still_404(client, demo, task):
    client.force_login(demo["carol"])
    assert client.get(timeline_path(task) + "?field=nope&before=x").status_code == 404


# --------------------------------------------------------------------------- deleted objects


def test_deleted_object_timeline_stays_readable_for_staff(client, demo, task):
    path = timeline_path(task)
    with acting_as(demo["alice"]):
        task.delete()
    client.force_login(demo["staff"])
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "no longer exists" in html
    assert "<h1>Fix login</h1>" in html  # the newest snapshot's label, no link
    assert len(entry_ids(response)) == 4  # created, two updates, deleted


def test_deleted_object_timeline_is_404_for_others(client, demo, task):
    path = timeline_path(task)
    with acting_as(demo["alice"]):
        task.delete()
    client.force_login(demo["alice"])
    assert client.get(path).status_code == 404


def test_renamed_object_keeps_old_labels_in_its_history(client, demo, task, apollo):
    with acting_as(demo["alice"]):
        apollo.name = "Apollo Website"
        apollo.save()
    client.force_login(demo["alice"])
    html = client.get(timeline_path(apollo)).content.decode()
    assert "<h1>" in html and "Apollo Website" in html
    assert re.search(r"Name:</span>\s*<del[^>]*>Apollo Web</del>", html)

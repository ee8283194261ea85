"""As of, compare and restore: the views, their visibility, permissions and query budget."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from actstream.models import Action
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activityui.capture import acting_as
from activityui.cursors import encode_cursor
from demo_site.demo.models import Project, Task


def url(name: str, task: Task) -> str:
    return reverse(f"activityui:{name}", args=["demo.task", task.pk])


def cursor(action: Action) -> str:
    return encode_cursor(action.timestamp, action.pk)


def actions_of(task: Task):
    return Action.objects.filter(
        action_object_content_type=ContentType.objects.get_for_model(Task),
        action_object_object_id=str(task.pk),
    ).order_by("timestamp", "id")


@pytest.fixture
def task(demo):
    """bob created it (to do), moved it to review last week; alice renamed it yesterday."""
    project = Project.objects.get(name="Apollo Web")
    now = timezone.now()
    with acting_as(demo["bob"], at=now - dt.timedelta(days=9)):
        task = Task.objects.create(project=project, title="Fix login", status="todo")
    with acting_as(demo["bob"], at=now - dt.timedelta(days=7)):
        task.status = Task.Status.REVIEW
        task.save()
    with acting_as(demo["alice"], at=now - dt.timedelta(days=1)):
        task.title = "Fix the login form"
        task.save()
    return Task.objects.get(pk=task.pk)


def status_change(task: Task) -> Action:
    return actions_of(task).filter(data__changes__has_key="status").last()


# --------------------------------------------------------------------------- as of


def test_as_of_shows_the_values_right_after_the_change_and_marks_what_differs(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(url("object_as_of", task), {"as_of": cursor(status_change(task))})
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(
        r"<tr class=\"aui-history__row aui-history__row--changed\">.*?</tr>", html, re.S
    )
    assert row is not None and "Title" in row.group() and "Fix login" in row.group()
    assert "Fix the login form" in row.group()
    status_row = re.search(
        r"<tr class=\"aui-history__row\">\s*<th scope=\"row\">Status.*?</tr>", html, re.S
    )
    assert status_row is not None and "Review" in status_row.group()


def test_as_of_without_a_cursor_is_400_and_a_foreign_cursor_404(client, demo, task):
    client.force_login(demo["alice"])
    assert client.get(url("object_as_of", task)).status_code == 400
    assert client.get(url("object_as_of", task), {"as_of": "nonsense!"}).status_code == 400
    other = (
        Action.objects.exclude(action_object_object_id=str(task.pk))
        .exclude(target_object_id=str(task.pk))
        .first()
    )
    assert client.get(url("object_as_of", task), {"as_of": cursor(other)}).status_code == 404


def test_history_urls_are_404_for_a_user_who_may_not_see_the_task(client, demo, task):
    client.force_login(demo["carol"])
    change = status_change(task)
    assert client.get(url("object_as_of", task), {"as_of": cursor(change)}).status_code == 404
    assert client.get(url("object_compare", task), {"from": cursor(change)}).status_code == 404
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == "review"


def test_history_urls_need_a_signed_in_user(client, demo, task):
    change = status_change(task)
    response = client.get(url("object_as_of", task), {"as_of": cursor(change)})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_as_of_query_count_does_not_grow_with_the_history(client, demo, task):
    client.force_login(demo["alice"])
    first = actions_of(task).first()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("object_as_of", task), {"as_of": cursor(first)})
        assert response.status_code == 200
        return len(queries)

    few = count()
    with acting_as(demo["bob"]):
        for number in range(30):
            task.status = ["todo", "in_progress", "review"][number % 3]
            task.priority = 1 + number % 4
            task.save()
    assert count() == few


def test_compare_query_count_does_not_grow_with_the_history(client, demo, task):
    client.force_login(demo["alice"])
    first, last = actions_of(task).first(), actions_of(task).last()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                url("object_compare", task), {"from": cursor(first), "to": cursor(last)}
            )
        assert response.status_code == 200
        return len(queries)

    few = count()
    with acting_as(demo["bob"]):
        for number in range(30):
            task.title = f"Fix login, take {number}"
            task.save()
    assert count() == few


# --------------------------------------------------------------------------- compare


def test_compare_with_now_lists_the_fields_that_differ(client, demo, task):
    client.force_login(demo["alice"])
    created = actions_of(task).first()
    response = client.get(url("object_compare", task), {"from": cursor(created), "to": "now"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Status" in html and "To do" in html and "Review" in html
    assert "Title" in html


def test_compare_two_entries_in_either_order_puts_the_older_first(client, demo, task):
    client.force_login(demo["alice"])
    created, renamed = actions_of(task).first(), actions_of(task).last()
    hx = {"HX-Request": "true", "HX-Target": "timeline"}
    a = client.get(
        url("object_compare", task), {"from": cursor(renamed), "to": cursor(created)}, headers=hx
    )
    b = client.get(
        url("object_compare", task), {"from": cursor(created), "to": cursor(renamed)}, headers=hx
    )
    assert a.status_code == b.status_code == 200
    vary = {v.strip() for v in a["Vary"].split(",")}
    assert {"HX-Request", "HX-Target", "HX-Current-URL"} <= vary
    strip = re.compile(r'<time[^>]*>.*?</time>|nonce="[^"]*"')
    assert strip.sub("", a.content.decode()) == strip.sub("", b.content.decode())
    assert a.content.decode().index("To do") < a.content.decode().index("Review")


def test_compare_bad_point_is_400(client, demo, task):
    client.force_login(demo["alice"])
    assert client.get(url("object_compare", task), {"from": "x"}).status_code == 400
    change = status_change(task)
    response = client.get(url("object_compare", task), {"from": cursor(change), "to": "x"})
    assert response.status_code == 400


def test_long_text_compare_uses_the_word_diff(client, demo, task):
    with acting_as(demo["alice"]):
        task.description = "The login form forgets the user's email when the password is wrong."
        task.save()
        task.description = "The login form keeps the user's email when the password is wrong."
        task.save()
    client.force_login(demo["alice"])
    first = actions_of(task).filter(data__changes__has_key="description").first()
    response = client.get(url("object_compare", task), {"from": cursor(first)})
    html = response.content.decode()
    assert "<del>forgets</del>" in html and "<ins>keeps</ins>" in html


# --------------------------------------------------------------------------- restore


def test_restore_sets_the_old_value_through_save_and_records_it(client, demo, task):
    client.force_login(demo["alice"])
    change = status_change(task)
    before = Action.objects.count()
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 303
    task.refresh_from_db()
    assert task.status == "todo"
    assert Action.objects.count() == before + 1
    restore = actions_of(task).last()
    assert restore.verb == "restored"
    assert restore.data["changes"]["status"] == [
        {"value": "review", "label": "Review"},
        {"value": "todo", "label": "To do"},
    ]
    assert restore.data["restored"]["action"] == change.pk
    assert restore.data["restored"]["actor"] == "Bob Nguyen"
    # history is never edited
    change.refresh_from_db()
    assert change.data["changes"]["status"][1]["value"] == "review"


def test_the_restore_reads_as_a_sentence_linking_to_the_undone_change(client, demo, task):
    client.force_login(demo["alice"])
    change = status_change(task)
    client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    html = client.get(reverse("activityui:object", args=["demo.task", task.pk])).content.decode()
    sentence = re.search(r'<p class="aui-tl__restored">(.*?)</p>', html, re.S)
    assert sentence is not None
    text = re.sub(r"<[^>]+>", "", sentence.group(1))
    assert "Restored Status to “To do”" in text
    assert "from Bob Nguyen’s change of" in text
    assert f"as_of={cursor(change)}" in sentence.group(1)


def test_restore_over_a_later_change_asks_first_then_overwrites_when_confirmed(client, demo, task):
    change = status_change(task)
    with acting_as(demo["bob"]):
        task.status = Task.Status.DONE
        task.save()
    client.force_login(demo["alice"])
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "has changed since" in html and "Done" in html
    task.refresh_from_db()
    assert task.status == "done"
    expected = re.search(r'name="expected" value="([^"]*)"', html).group(1)
    from html import unescape

    response = client.post(
        url("object_restore", task),
        {"action": change.pk, "field": "status", "expected": unescape(expected)},
    )
    assert response.status_code == 303
    task.refresh_from_db()
    assert task.status == "todo"


def test_a_confirmation_for_a_value_that_changed_again_asks_again(client, demo, task):
    change = status_change(task)
    with acting_as(demo["bob"]):
        task.status = Task.Status.DONE
        task.save()
    client.force_login(demo["alice"])
    html = client.post(
        url("object_restore", task), {"action": change.pk, "field": "status"}
    ).content.decode()
    from html import unescape

    expected = unescape(re.search(r'name="expected" value="([^"]*)"', html).group(1))
    with acting_as(demo["bob"]):
        task.status = Task.Status.IN_PROGRESS
        task.save()
    response = client.post(
        url("object_restore", task), {"action": change.pk, "field": "status", "expected": expected}
    )
    assert response.status_code == 200 and "has changed since" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "in_progress"


def test_restore_without_the_change_permission_is_403_and_shows_no_button(client, demo, task):
    client.force_login(demo["bob"])
    change = status_change(task)
    timeline = client.get(reverse("activityui:object", args=["demo.task", task.pk]))
    assert timeline.status_code == 200
    assert "aui-tl__restore" not in timeline.content.decode()
    assert "View as of this change" in timeline.content.decode()
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == "review"


def test_alice_sees_restore_buttons(client, demo, task):
    client.force_login(demo["alice"])
    html = client.get(reverse("activityui:object", args=["demo.task", task.pk])).content.decode()
    assert "Restore Status to “To do”" in html


def test_restore_is_post_only_and_checks_csrf(demo, task):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(demo["alice"])
    change = status_change(task)
    assert client.get(url("object_restore", task)).status_code == 405
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == "review"


@pytest.mark.parametrize(
    "data",
    [{}, {"action": "x", "field": "status"}, {"action": "1" * 40, "field": "status"}],
)
def test_restore_bad_input_is_400(client, demo, task, data):
    client.force_login(demo["alice"])
    assert client.post(url("object_restore", task), data).status_code == 400


def test_restore_of_an_untracked_or_unrecorded_field_is_400(client, demo, task):
    client.force_login(demo["alice"])
    change = status_change(task)
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "title"})
    assert response.status_code == 400


def test_restore_to_a_deleted_user_is_refused(client, demo, task):
    from django.contrib.auth import get_user_model

    dave = get_user_model().objects.create(username="dave", first_name="Dave")
    with acting_as(demo["bob"]):
        task.assignee = dave
        task.save()
        task.assignee = demo["bob"]
        task.save()
    dave.delete()
    change = actions_of(task).filter(data__changes__has_key="assignee").last()
    client.force_login(demo["alice"])
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "assignee"})
    assert response.status_code == 400
    assert "no longer exists" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == demo["bob"]


def test_restore_of_a_deleted_task_says_it_cannot(client, demo, task):
    staff = demo["staff"]
    staff.user_permissions.add(Permission.objects.get(codename="change_task"))
    change = status_change(task)
    pk = task.pk
    task.delete()
    task.pk = pk
    client.force_login(staff)
    response = client.post(url("object_restore", task), {"action": change.pk, "field": "status"})
    assert response.status_code == 400
    assert "deleted" in response.content.decode()


def test_htmx_restore_answers_with_the_timeline_and_the_restore_on_top(client, demo, task):
    client.force_login(demo["alice"])
    change = status_change(task)
    response = client.post(
        url("object_restore", task),
        {"action": change.pk, "field": "status"},
        headers={"HX-Request": "true", "HX-Target": "timeline"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section")
    assert 'role="status"' in html and "Status restored to “To do”." in html
    newest = re.search(r'id="timeline-action-(\d+)"', html).group(1)
    assert int(newest) == actions_of(task).last().pk
    # the host page hears of it (the demo's task page reads its facts again)
    assert "activityui:restored" in json.loads(response["HX-Trigger"])


def test_register_history_is_public_and_its_restore_rule_decides(client, demo, task):
    import activityui
    from activityui import history

    activityui.register_history(Task, restore=lambda user, obj, field: field != "status")
    try:
        client.force_login(demo["alice"])
        html = client.get(reverse("activityui:object", args=["demo.task", task.pk]))
        assert "Restore Status" not in html.content.decode()
        assert "Restore Title" in html.content.decode()
        change = status_change(task)
        response = client.post(
            url("object_restore", task), {"action": change.pk, "field": "status"}
        )
        assert response.status_code == 403
        # bob lacks demo.change_task, but the host's rule is what decides now
        client.force_login(demo["bob"])
        renamed = actions_of(task).filter(data__changes__has_key="title").last()
        response = client.post(
            url("object_restore", task), {"action": renamed.pk, "field": "title"}
        )
        assert response.status_code == 303
    finally:
        history._options.pop(Task, None)
    task.refresh_from_db()
    assert task.title == "Fix login"


def test_as_of_in_french(client, demo, task):
    client.force_login(demo["alice"])
    response = client.get(
        url("object_as_of", task),
        {"as_of": cursor(status_change(task))},
        headers={"Accept-Language": "fr"},
    )
    html = response.content.decode()
    assert "Tel qu’après cette modification" in html and "modifié depuis" in html


def test_restore_of_a_cut_text_is_refused_and_offers_no_button(client, demo, task, settings):
    settings.ACTIVITYUI = {**getattr(settings, "ACTIVITYUI", {}), "MAX_TEXT_LENGTH": 30}
    with acting_as(demo["alice"]):
        task.description = "A description much longer than thirty characters."
        task.save()
        task.description = "Short."
        task.save()
    change = actions_of(task).filter(data__changes__has_key="description").last()
    client.force_login(demo["alice"])
    html = client.get(reverse("activityui:object", args=["demo.task", task.pk])).content.decode()
    assert "Restore Description to “—”" in html  # the first change, from an empty text
    assert "Restore Description to “A desc" not in html  # the cut one
    response = client.post(
        url("object_restore", task), {"action": change.pk, "field": "description"}
    )
    assert response.status_code == 400
    assert "Only the beginning" in response.content.decode()
    task.refresh_from_db()
    assert task.description == "Short."


def test_staff_reads_a_deleted_task_as_of_a_change(client, demo, task):
    change = status_change(task)
    pk = task.pk
    task.delete()
    task.pk = pk
    client.force_login(demo["staff"])
    response = client.get(url("object_as_of", task), {"as_of": cursor(change)})
    assert response.status_code == 200
    html = response.content.decode()
    status_row = re.search(r'<th scope="row">Status.*?</tr>', html, re.S).group()
    assert "Review" in status_row and "Deleted" in status_row
    # alice, a member, cannot read a deleted task's history: like the timeline, a 404
    client.force_login(demo["alice"])
    assert client.get(url("object_as_of", task), {"as_of": cursor(change)}).status_code == 404


def test_panel_links_push_their_url_only_on_the_objects_own_pages(client, demo, task):
    client.force_login(demo["alice"])
    change = cursor(status_change(task))
    own = client.get(
        url("object_as_of", task),
        {"as_of": change},
        headers={
            "HX-Request": "true",
            "HX-Target": "timeline",
            "HX-Current-URL": "http://testserver" + url("object_as_of", task),
        },
    ).content.decode()
    embedded = client.get(
        url("object_as_of", task),
        {"as_of": change},
        headers={
            "HX-Request": "true",
            "HX-Target": "timeline",
            "HX-Current-URL": f"http://testserver/tasks/{task.pk}/",
        },
    ).content.decode()
    assert 'hx-push-url="true"' in own and 'hx-push-url="false"' not in own
    assert 'hx-push-url="false"' in embedded and 'hx-push-url="true"' not in embedded


def test_as_of_a_comment_entry_shows_the_task_at_that_moment(client, demo, task):
    import activityui

    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=8)):
        comment = activityui.record(demo["bob"], "commented", task, task.project, comment="Hm")
    client.force_login(demo["alice"])
    timeline = client.get(reverse("activityui:object", args=["demo.task", task.pk]))
    assert f"as_of={cursor(comment)}" in timeline.content.decode()
    response = client.get(url("object_as_of", task), {"as_of": cursor(comment)})
    html = response.content.decode()
    status_row = re.search(r'<th scope="row">Status.*?</tr>', html, re.S).group()
    assert "To do" in status_row  # bob moved it to review a day later
    assert re.search(rf'<option value="{cursor(comment)}" selected>[^<]*commented on', html)


# --------------------------------------------------------------------------- edges


def test_restore_without_htmx_goes_to_next_only_when_it_is_this_site(client, demo, task):
    client.force_login(demo["alice"])
    change = status_change(task)
    data = {"action": change.pk, "field": "status", "next": "/projects/"}
    response = client.post(url("object_restore", task), data)
    assert (response.status_code, response["Location"]) == (303, "/projects/")
    task.status = Task.Status.REVIEW  # put it back to restore once more
    with acting_as(demo["bob"]):
        task.save()
    data["next"] = "https://evil.example/"
    response = client.post(url("object_restore", task), data)
    timeline = reverse("activityui:object", args=["demo.task", task.pk])
    assert (response.status_code, response["Location"]) == (303, timeline)


def test_restore_of_another_objects_change_is_404(client, demo, task):
    other = Task.objects.create(project=task.project, title="Another")
    with acting_as(demo["bob"]):
        other.status = Task.Status.DONE
        other.save()
    client.force_login(demo["alice"])
    response = client.post(
        url("object_restore", task), {"action": status_change(other).pk, "field": "status"}
    )
    assert response.status_code == 404


def test_a_conflict_over_a_long_text_shows_the_beginning_of_the_current_one(client, demo, task):
    with acting_as(demo["bob"]):
        task.description = "First words."
        task.save()
    change = actions_of(task).filter(data__changes__has_key="description").last()
    with acting_as(demo["bob"]):
        task.description = "word " * 200  # 1,000 characters
        task.save()
    client.force_login(demo["alice"])
    response = client.post(
        url("object_restore", task), {"action": change.pk, "field": "description"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "has changed since" in html
    # shown: its first 400 characters (the confirmation carries the whole text, hidden)
    assert ("word " * 80) + " […]" in html


def test_a_restored_note_that_is_not_what_restore_writes_reads_without_its_parts(
    client, demo, task
):
    task_ct = ContentType.objects.get_for_model(Task)
    user_ct = ContentType.objects.get_for_model(demo["alice"])
    common = {
        "actor_content_type": user_ct,
        "actor_object_id": str(demo["alice"].pk),
        "verb": "restored",
        "action_object_content_type": task_ct,
        "action_object_object_id": str(task.pk),
        "timestamp": timezone.now(),
    }
    Action.objects.bulk_create(
        [
            Action(**common, data={"restored": "not a note"}),
            Action(
                **common,
                data={"restored": {"field": "status", "timestamp": "yesterday", "cursor": "x"}},
            ),
        ]
    )
    client.force_login(demo["alice"])
    html = client.get(reverse("activityui:object", args=["demo.task", task.pk])).content.decode()
    sentences = re.findall(r'<p class="aui-tl__restored">(.*?)</p>', html, re.S)
    assert len(sentences) == 1  # the note that is not a dict says nothing
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", sentences[0])).strip()
    # no change recorded, no actor, no date: what is known is said, nothing made up
    assert text == "Undid a change of Status (from an earlier change)."

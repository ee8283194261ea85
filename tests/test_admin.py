from __future__ import annotations

from urllib.parse import urlencode

import pytest
from actstream.models import Action, Follow
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import activityui
from activityui.admin import ActivityAdminMixin, staff_console_url
from activityui.selectors import object_q
from demo_site.demo.admin import TaskAdmin
from demo_site.demo.models import Task


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_task_admin_uses_the_mixin():
    assert issubclass(TaskAdmin, ActivityAdminMixin)
    assert TaskAdmin.change_form_template == "activityui/admin/change_form.html"


def test_change_page_shows_the_task_history(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    activityui.record(demo["bob"], "commented", task, task.project, comment="Ship it on Monday")
    client.force_login(superuser)
    response = client.get(change_url(task))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="aui-admin-activity-title"' in body
    assert "Ship it on Monday" in body
    history = Action.objects.filter(object_q(ContentType.objects.get_for_model(task), str(task.pk)))
    assert 0 < history.count() <= TaskAdmin.activity_limit
    assert body.count('class="aui-entry"') == history.count()
    assert "activityui/activityui.css" in body


def test_change_page_links_to_the_staff_console_filtered_on_the_object(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    client.force_login(superuser)
    body = client.get(change_url(task)).content.decode()
    query = urlencode({"object_type": "demo.task", "object_id": str(task.pk)})
    expected = f"{reverse('activityui:staff')}?{query}".replace("&", "&amp;")
    assert f'href="{expected}"' in body
    assert staff_console_url(task) == f"{reverse('activityui:staff')}?{query}"


def test_change_page_hides_the_staff_link_without_the_permission(demo, client):
    task = Task.objects.order_by("pk").first()
    editor = get_user_model().objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_task"))
    client.force_login(editor)
    response = client.get(change_url(task))
    assert response.status_code == 200
    body = response.content.decode()
    assert "object_type=demo.task" not in body
    # not a member of the task's team: the visibility policy hides its history here too
    assert 'class="aui-entry"' not in body
    assert "No recorded activity for this object yet." in body


def test_change_page_history_is_limited(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    for n in range(TaskAdmin.activity_limit + 3):
        activityui.record(demo["alice"], "commented", task, task.project, comment=f"note {n}")
    client.force_login(superuser)
    body = client.get(change_url(task)).content.decode()
    assert body.count('class="aui-entry"') == TaskAdmin.activity_limit
    assert "note 22" in body  # newest first
    assert "note 0<" not in body


def test_change_page_query_count_does_not_grow_with_history(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    client.force_login(superuser)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(change_url(task)).status_code == 200
        return len(ctx)

    client.get(change_url(task))  # warm the content type cache
    before = queries()
    for n in range(10):
        activityui.record(demo["bob"], "commented", task, task.project, comment=f"c{n}")
    assert queries() == before


def test_add_page_still_works(demo, superuser, client):
    client.force_login(superuser)
    response = client.get(reverse("admin:demo_task_add"))
    assert response.status_code == 200
    assert 'id="aui-admin-activity-title"' not in response.content.decode()


def test_saving_through_the_admin_records_the_change(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    client.force_login(superuser)
    response = client.post(
        change_url(task),
        {
            "project": task.project_id,
            "title": "Renamed in the admin",
            "description": task.description,
            "status": task.status,
            "priority": task.priority,
            "assignee": task.assignee_id or "",
            "due_date": task.due_date.isoformat() if task.due_date else "",
        },
    )
    assert response.status_code == 302
    body = client.get(change_url(task)).content.decode()
    assert "Renamed in the admin" in body
    last = Action.objects.order_by("-timestamp", "-id").first()
    assert last.data["changes"]["title"][1] == "Renamed in the admin"
    assert last.actor_object_id == str(superuser.pk)


def test_actstream_action_admin_changelist_still_works(demo, superuser, client):
    client.force_login(superuser)
    response = client.get(reverse("admin:actstream_action_changelist"))
    assert response.status_code == 200
    action = Action.objects.order_by("pk").first()
    assert client.get(reverse("admin:actstream_action_change", args=[action.pk])).status_code == 200


def test_actstream_follow_admin_changelist_still_works(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    Follow.objects.create(
        user=demo["alice"],
        content_type=ContentType.objects.get_for_model(task),
        object_id=str(task.pk),
    )
    client.force_login(superuser)
    response = client.get(reverse("admin:actstream_follow_changelist"))
    assert response.status_code == 200


def test_staff_console_link_lists_the_objects_actions(demo, superuser, client):
    task = Task.objects.order_by("pk").first()
    client.force_login(superuser)
    response = client.get(staff_console_url(task))
    assert response.status_code == 200
    body = response.content.decode()
    own = Action.objects.filter(
        action_object_content_type=ContentType.objects.get_for_model(task),
        action_object_object_id=str(task.pk),
    )
    assert own.exists()
    assert f'data-count="{own.count()}"' in body
    assert body.count('<tr id="staff-row-') == own.count()

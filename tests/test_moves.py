"""Moves: a tracked object whose place (its target foreign key) changes.

The move is recorded in the old place and in the new one ("moved", with the change of place),
so both sides can read where it went. Policy (docs/security.md, Moves): the object's history
travels with it, as a repository's does when it is transferred: its past is seen by whoever
may see it now, and no longer by those who could see it only through the old place."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType

import activityui
from activityui.selectors import action_list_for_feed
from demo_site.demo.models import Project, Task, Team

pytestmark = pytest.mark.django_db


def _moves(project: Project) -> list[Action]:
    return list(
        Action.objects.filter(
            verb="moved",
            action_object_content_type=ContentType.objects.get_for_model(Project),
            action_object_object_id=str(project.pk),
        ).order_by("id")
    )


def _team_feed(user) -> set[int]:
    return set(action_list_for_feed(user=user, feed="team").values_list("pk", flat=True))


@pytest.fixture
def moved(demo):
    apollo, zephyr = Team.objects.get(name="Apollo"), Team.objects.get(name="Zephyr")
    project = Project.objects.filter(team=apollo).first()
    past = set(
        Action.objects.filter(
            target_content_type=ContentType.objects.get_for_model(Project),
            target_object_id=str(project.pk),
        ).values_list("pk", flat=True)
    )
    assert past
    with activityui.acting_as(demo["staff"]):
        project.team = zephyr
        project.save()
    return project, apollo, zephyr, past


def test_a_move_is_recorded_in_the_old_place_and_the_new(moved):
    project, apollo, zephyr, _past = moved
    old_side, new_side = _moves(project)
    assert (old_side.target, new_side.target) == (apollo, zephyr)
    for action in (old_side, new_side):
        change = action.data["changes"]["team"]
        assert [change[0]["label"], change[1]["label"]] == ["Apollo", "Zephyr"]
        assert action.data["snapshot"]["action_object"]["label"] == project.name


def test_both_sides_see_the_move_in_their_team_feed(moved, demo):
    project, _apollo, _zephyr, _past = moved
    old_side, new_side = _moves(project)
    assert old_side.pk in _team_feed(demo["alice"])
    assert new_side.pk in _team_feed(demo["carol"])
    html = _client_for(demo["alice"]).get("/activity/").content.decode()
    assert f'id="aui-action-{old_side.pk}"' in html and "moved" in html


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_history_travels_with_the_object(moved, demo):
    """The documented policy: the past of the project now belongs to its new team."""
    _project, _apollo, _zephyr, past = moved
    assert past <= _team_feed(demo["carol"])
    assert not past & _team_feed(demo["alice"])


def test_no_move_without_a_change_of_place(demo):
    project = Project.objects.first()
    project.name = "Renamed"
    project.save()
    project.team = Team.objects.get(pk=project.team_id)
    project.save()
    project.save(update_fields=["name"])
    assert _moves(project) == []


def test_a_save_that_leaves_the_place_out_records_no_move(demo):
    project = Project.objects.filter(team__name="Apollo").first()
    project.team = Team.objects.get(name="Zephyr")
    project.save(update_fields=["name"])  # the team is not saved: nothing moved
    assert _moves(project) == []


def test_moving_a_task_to_another_project(demo):
    task = Task.objects.filter(project__team__name="Apollo").first()
    other = Project.objects.exclude(pk=task.project_id).first()
    old = task.project
    task.project = other
    task.save()
    moves = Action.objects.filter(verb="moved", action_object_object_id=str(task.pk))
    assert {m.target for m in moves} == {old, other}


def test_staff_move_a_project_in_the_demo_admin(demo, client):
    """In the demo, a project moves in the admin; the move shows on both sides."""
    client.force_login(demo["staff"].__class__.objects.create_superuser("root", "r@x.org", "pw"))
    project = Project.objects.filter(team__name="Apollo").first()
    zephyr = Team.objects.get(name="Zephyr")
    response = client.post(
        f"/admin/demo/project/{project.pk}/change/",
        {"team": zephyr.pk, "name": project.name, "description": project.description},
    )
    assert response.status_code == 302
    assert [m.actor.username for m in _moves(project)] == ["root", "root"]

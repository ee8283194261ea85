"""Feed scopes and the feed services: follows and read markers."""

from __future__ import annotations

import datetime as dt

from actstream.models import Follow
from django.utils import timezone

from activityui.capture import acting_as
from activityui.follows import follow_toggle, followable_types, followed_keys, is_following
from activityui.models import ReadMarker
from activityui.readmarkers import move_read_marker
from activityui.selectors import action_list_for_feed, read_marker_for, unread_count
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory


def test_follow_toggle_writes_actstream_follow_rows(db):
    user, project = UserFactory(), ProjectFactory()
    assert follow_toggle(user=user, obj=project) is True
    row = Follow.objects.get(user=user)
    assert (row.object_id, row.flag, row.actor_only) == (str(project.pk), "", False)
    assert is_following(user=user, obj=project)
    assert follow_toggle(user=user, obj=project) is False
    assert not Follow.objects.exists()


def test_followed_keys_is_one_query(db, django_assert_num_queries):
    user = UserFactory()
    projects = [ProjectFactory() for _ in range(3)]
    task = TaskFactory()
    follow_toggle(user=user, obj=projects[1])
    follow_toggle(user=user, obj=task)
    refs = [("demo.project", str(p.pk)) for p in projects] + [("demo.task", str(task.pk))]
    with django_assert_num_queries(1):
        keys = followed_keys(user=user, refs=refs)
    assert keys == {("demo.project", str(projects[1].pk)), ("demo.task", str(task.pk))}


def test_followable_types_are_the_models_with_a_visibility_rule(db):
    assert {"demo.task", "demo.project", "demo.team"} <= followable_types()
    assert "auth.permission" not in followable_types()


def test_following_feed_holds_actions_on_followed_objects(db):
    alice = UserFactory(username="alice")
    team = TeamFactory()
    team.members.add(alice)
    project, other = ProjectFactory(team=team), ProjectFactory(team=team)
    follow_toggle(user=alice, obj=project)
    with acting_as(alice):
        TaskFactory(project=project, title="followed")
        TaskFactory(project=other, title="not followed")
    labels = {
        a.data["snapshot"]["action_object"]["label"]
        for a in action_list_for_feed(user=alice, feed="following")
    }
    assert "followed" in labels and "not followed" not in labels


def test_read_marker_moves_forward_only(db):
    user = UserFactory()
    now = timezone.now()
    assert move_read_marker(user=user, feed="team", timestamp=now, action_id=5)
    assert not move_read_marker(
        user=user, feed="team", timestamp=now - dt.timedelta(1), action_id=9
    )
    assert not move_read_marker(user=user, feed="team", timestamp=now, action_id=4)
    assert move_read_marker(user=user, feed="team", timestamp=now, action_id=6)
    marker = read_marker_for(user=user, feed="team")
    assert (marker.timestamp, marker.id) == (now, 6)
    assert ReadMarker.objects.count() == 1


def test_unread_count_counts_others_news_after_the_marker(db):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    team = TeamFactory()
    team.members.add(alice, bob)
    project = ProjectFactory(team=team)
    with acting_as(bob):
        old = TaskFactory(project=project)
    newest = action_list_for_feed(user=alice, feed="team").first()
    move_read_marker(user=alice, feed="team", timestamp=newest.timestamp, action_id=newest.pk)
    assert unread_count(user=alice, feed="team", limit=20) == 0
    with acting_as(bob):
        old.title = "renamed"
        old.save()
    with acting_as(alice):
        TaskFactory(project=project)
    assert unread_count(user=alice, feed="team", limit=20) == 1
    assert unread_count(user=alice, feed="nope", limit=20) == 0


def test_a_read_marker_names_its_user_feed_and_time(db):
    user = UserFactory(username="marker")
    marker = ReadMarker.objects.create(
        user=user,
        feed="team",
        timestamp=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
        action_id=1,
    )
    assert str(marker) == "marker · team · 2026-11-02 09:30"

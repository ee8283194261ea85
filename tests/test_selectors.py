"""Selectors: streams read as unions of index-friendly branches give the rows of the plain
queryset, with a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from actstream.models import Action, Follow
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

import activityui
from activityui import selectors
from activityui.branches import split_branches
from activityui.capture import acting_as
from activityui.cursors import Cursor
from activityui.keyset import newer_than, older_than, page_of
from activityui.selectors import (
    action_list_for_feed,
    action_list_for_object,
    anything_newer,
    feed_stream,
    object_stream,
    stream_newer,
    stream_page,
)
from demo_site.demo.models import Project, Task


def ids(actions) -> list[int]:
    return [a.pk for a in actions]


def commented(queryset):
    return queryset.filter(verb="commented")


def assert_same_pages(stream, *, narrow=None, pages=4, size=7):
    """Walk ``pages`` pages both ways: through the branches and through the plain queryset."""
    plain_qs = stream.queryset if narrow is None else narrow(stream.queryset)
    before = None
    for _ in range(pages):
        fast = stream_page(stream, narrow=narrow, before=before, size=size)
        plain = page_of(plain_qs, before=before, size=size)
        assert ids(fast.actions) == ids(plain.actions)
        assert fast.has_more == plain.has_more
        if not plain.has_more:
            break
        last = plain.actions[-1]
        before = Cursor(last.timestamp, last.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("feed", ["team", "following"])
def test_stream_page_equals_plain_page(demo, feed):
    for username in ("alice", "bob", "carol", "staff"):
        for narrow in (None, commented):
            assert_same_pages(feed_stream(user=demo[username], feed=feed), narrow=narrow)


@pytest.mark.django_db
def test_object_stream_page_equals_plain_page(demo):
    for username in ("alice", "carol", "staff"):
        user = demo[username]
        for obj in (Project.objects.get(name="Apollo Web"), Task.objects.first(), demo["bob"]):
            content_type = ContentType.objects.get_for_model(obj)
            stream = object_stream(user=user, content_type=content_type, object_id=obj.pk)
            assert len(stream.branches) == 3
            assert_same_pages(stream)
            assert list(stream.queryset) == list(
                action_list_for_object(user=user, content_type=content_type, object_id=obj.pk)
            )


@pytest.mark.django_db
def test_team_feed_splits_into_one_branch_per_project_and_team(demo):
    stream = feed_stream(user=demo["alice"], feed="team")
    # 3 Apollo projects, Apollo as target, Apollo as the object of a target-less action
    assert len(stream.branches) == 5
    names = [dict(b.children) for b in stream.branches]
    assert all("target_object_id" in n or "action_object_object_id" in n for n in names)


@pytest.mark.django_db
def test_following_quiet_follows_pages(demo):
    quiet = Project.objects.create(team=Project.objects.get(name="Apollo Web").team, name="Q")
    with acting_as(demo["bob"], at=timezone.now() - dt.timedelta(days=200)):
        activityui.record(demo["bob"], "archived", quiet, quiet)
    Follow.objects.filter(user=demo["alice"]).delete()
    Follow.objects.create(
        user=demo["alice"],
        content_type=ContentType.objects.get_for_model(Project),
        object_id=str(quiet.pk),
    )
    stream = feed_stream(user=demo["alice"], feed="following")
    page = stream_page(stream, size=10)
    assert [a.verb for a in page.actions] == ["created", "archived"]
    assert_same_pages(stream)


@pytest.mark.django_db
def test_stream_page_without_follows_is_empty(demo):
    Follow.objects.filter(user=demo["carol"]).delete()
    stream = feed_stream(user=demo["carol"], feed="following")
    assert stream.branches == ()
    assert stream_page(stream, size=10).actions == []


@pytest.mark.django_db
def test_stream_page_with_too_many_branches_reads_the_plain_query(demo, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_BRANCHES", 2)
    assert_same_pages(feed_stream(user=demo["alice"], feed="team"))


@pytest.mark.django_db
def test_split_branches_keeps_terms_it_cannot_split():
    scope = Q(verb="a") | (Q(verb="b") & ~Q(public=True)) | Q(target_object_id__in=["1", "2"])
    branches = split_branches(scope)
    assert len(branches) == 4
    assert Q(target_object_id="2") in branches


@pytest.mark.django_db
def test_split_branches_drops_empty_terms():
    assert split_branches(Q(pk__in=[]) | Q(target_object_id__in=[])) == ()


@pytest.mark.django_db
@pytest.mark.parametrize("feed", ["team", "following"])
def test_stream_page_query_count_does_not_grow_with_size(demo, feed, django_assert_num_queries):
    # the scope's ids (team memberships or follows), the visible ids, the page
    for size in (10, 50):
        stream = feed_stream(user=demo["alice"], feed=feed)
        with django_assert_num_queries(3):
            page = stream_page(stream, size=size)
        assert len(page.actions) == min(size, stream.queryset.count())


@pytest.mark.django_db
def test_object_stream_page_query_count(demo, django_assert_num_queries):
    project = Project.objects.get(name="Apollo Web")
    content_type = ContentType.objects.get_for_model(Project)
    for size in (10, 50):
        stream = object_stream(user=demo["alice"], content_type=content_type, object_id=project.pk)
        with django_assert_num_queries(2):  # the visible ids, the page
            stream_page(stream, size=size)


@pytest.mark.django_db
def test_stream_newer_nothing_new_is_one_query(demo, django_assert_num_queries):
    newest = Action.objects.order_by("-timestamp", "-id").first()
    stream = feed_stream(user=demo["alice"], feed="team")
    with django_assert_num_queries(1):
        assert stream_newer(stream, after=Cursor(newest.timestamp, newest.pk), limit=20) == []
    with django_assert_num_queries(1):
        assert not anything_newer(after=Cursor(newest.timestamp, newest.pk))


@pytest.mark.django_db
def test_stream_newer_returns_new_visible_items_newest_first(demo):
    newest = Action.objects.order_by("-timestamp", "-id").first()
    after = Cursor(newest.timestamp, newest.pk)
    apollo = Project.objects.get(name="Apollo Web")
    zephyr = Project.objects.get(name="Zephyr Docs")
    with acting_as(demo["bob"]):
        made = [activityui.record(demo["bob"], "commented", apollo, apollo) for _ in range(3)]
    with acting_as(demo["carol"]):
        activityui.record(demo["carol"], "commented", zephyr, zephyr)
    new = stream_newer(feed_stream(user=demo["alice"], feed="team"), after=after, limit=20)
    assert ids(new) == ids(made)[::-1]
    assert ids(new) == ids(newer_than(action_list_for_feed(user=demo["alice"], feed="team"), after))


@pytest.mark.django_db
def test_cursors_break_timestamp_ties_by_id(demo):
    when = timezone.now() + dt.timedelta(days=1)
    project = Project.objects.get(name="Apollo Web")
    made = [
        activityui.record(demo["bob"], "commented", project, project, timestamp=when)
        for _ in range(3)
    ]
    middle = Cursor(when, made[1].pk)
    queryset = Action.objects.filter(pk__in=ids(made)).order_by("-timestamp", "-id")
    assert ids(older_than(queryset, middle)) == [made[0].pk]
    assert ids(newer_than(queryset, middle)) == [made[2].pk]
    stream = feed_stream(user=demo["alice"], feed="team")
    page = stream_page(stream, size=2)
    assert ids(page.actions) == [made[2].pk, made[1].pk]
    page = stream_page(stream, before=Cursor(when, made[1].pk), size=2)
    assert page.actions[0].pk == made[0].pk


@pytest.mark.django_db
def test_verbs_in_use_are_the_distinct_verbs_in_order(demo):
    task = Task.objects.first()
    for verb in ("zapped", "Ärgered", 'it\'s "quoted"', "a"):
        activityui.record(demo["bob"], verb, task, task.project)
    expected = sorted(set(Action.objects.values_list("verb", flat=True)))
    found = selectors.verbs_in_use()
    assert sorted(found) == expected and len(found) == len(expected)


@pytest.mark.django_db
def test_verbs_in_use_of_an_empty_table():
    assert selectors.verbs_in_use() == []


@pytest.mark.django_db
@pytest.mark.parametrize("feed", ["team", "following"])
@pytest.mark.parametrize("who", ["alice", "carol", "staff"])
def test_unread_count_agrees_with_the_plain_queryset(demo, feed, who):
    """unread_count() reads through the branches; unread_actions() is the plain policy."""
    from activityui.follows import follow_toggle
    from activityui.models import ReadMarker

    user = demo[who]
    follow_toggle(user=user, obj=Project.objects.get(name="Apollo Web"))
    oldest = Action.objects.order_by("timestamp", "id")[5]
    ReadMarker.objects.create(user=user, feed=feed, timestamp=oldest.timestamp, action_id=oldest.pk)
    for project in Project.objects.all():
        for actor in ("alice", "bob", "carol"):
            activityui.record(demo[actor], "commented", project, project)
    for limit in (3, 20, 10_000):
        marker = selectors.read_marker_for(user=user, feed=feed)
        plain = selectors.unread_actions(user=user, feed=feed, marker=marker).count()
        assert selectors.unread_count(user=user, feed=feed, limit=limit) == min(plain, limit + 1)


@pytest.mark.django_db
def test_an_empty_scope_reads_nothing(demo, django_assert_num_queries):
    # staff is in no team: the team feed's scope is "target in ()", so no action is read
    stream = feed_stream(user=demo["staff"], feed="team")
    with django_assert_num_queries(1):  # the scope's own query (the user's teams)
        assert stream.empty
    with django_assert_num_queries(0):
        assert stream_page(stream, size=25).actions == []
        assert list(stream.branch_queryset()) == []
    assert not action_list_for_feed(user=demo["staff"], feed="team").exists()
    assert not feed_stream(user=demo["alice"], feed="team").empty


@pytest.mark.django_db
def test_staff_list_is_empty_without_the_permission(demo):
    from activityui.selectors import action_list_for_staff

    assert not action_list_for_staff(user=demo["alice"]).exists()
    assert action_list_for_staff(user=demo["staff"]).count() == Action.objects.count()


@pytest.mark.django_db
def test_feed_stream_of_an_unknown_feed_raises(demo):
    with pytest.raises(selectors.UnknownFeed):
        feed_stream(user=demo["alice"], feed="no-such-feed")


@pytest.mark.django_db
def test_read_marker_of_anonymous_is_none(demo):
    from django.contrib.auth.models import AnonymousUser

    from activityui.selectors import read_marker_for, unread_count

    assert read_marker_for(user=AnonymousUser(), feed="team") is None
    assert unread_count(user=AnonymousUser(), feed="team", limit=10) == 0
    assert unread_count(user=demo["alice"], feed="no-such-feed", limit=10) == 0


@pytest.mark.django_db
def test_stream_newer_of_a_staff_timeline_is_the_unrestricted_newer_rows(demo):
    project = Project.objects.get(name="Apollo Web")
    content_type = ContentType.objects.get_for_model(Project)
    stream = object_stream(user=demo["staff"], content_type=content_type, object_id=project.pk)
    assert stream.restricted is False
    oldest = stream.queryset.last()
    after = Cursor(oldest.timestamp, oldest.pk)
    expected = list(newer_than(stream.queryset, after).order_by("-timestamp", "-id")[:100])
    assert expected
    assert stream_newer(stream, after=after, limit=100) == expected

"""Compiled queries reused (activityui.querycache): a stream page read through SQL compiled
once per shape is the page the ORM reads, for every user, feed, timeline and cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from activityui import querycache
from activityui.cursors import Cursor
from activityui.follows import follow_toggle
from activityui.keyset import page_of
from activityui.selectors import feed_stream, object_stream, stream_page
from demo_site.demo.models import Project, Task


def _streams(users):
    task_ct = ContentType.objects.get_for_model(Task)
    project_ct = ContentType.objects.get_for_model(Project)
    task = Task.objects.order_by("pk").first()
    project = Project.objects.order_by("pk").first()
    for user in users.values():
        yield lambda user=user: feed_stream(user=user, feed="team")
        yield lambda user=user: feed_stream(user=user, feed="following")
        yield lambda user=user: object_stream(
            user=user, content_type=task_ct, object_id=str(task.pk)
        )
        yield lambda user=user: object_stream(
            user=user, content_type=project_ct, object_id=str(project.pk)
        )


@pytest.fixture
def world(demo):
    for task in Task.objects.order_by("pk")[:3]:
        follow_toggle(user=demo["alice"], obj=task)
    follow_toggle(user=demo["carol"], obj=Project.objects.order_by("-pk").first())
    return demo


@pytest.mark.parametrize("size", [5, 25])
def test_compiled_pages_are_the_orm_pages(world, size):
    querycache.forget()
    pages = 0
    for make in _streams(world):
        before = None
        for _ in range(4):  # the first page and three older ones
            page = stream_page(make(), before=before, size=size)
            expected = page_of(make().queryset, before=before, size=size)
            assert [a.pk for a in page.actions] == [a.pk for a in expected.actions]
            assert page.has_more == expected.has_more
            # the rows are whole actions, values converted as the ORM converts them
            for got, want in zip(page.actions, expected.actions, strict=True):
                assert (got.timestamp, got.data, got.verb, got.public) == (
                    want.timestamp,
                    want.data,
                    want.verb,
                    want.public,
                )
            pages += 1
            if not page.has_more:
                break
            last = page.actions[-1]
            before = Cursor(timestamp=last.timestamp, id=last.pk)
    assert pages > 20
    assert any(compiled is not None for compiled in querycache._compiled.values())


def test_a_shape_is_compiled_once(world):
    querycache.forget()
    alice = world["alice"]
    stream_page(feed_stream(user=alice, feed="team"), size=25)
    shapes = dict(querycache._compiled)
    assert [c for c in shapes.values() if c is not None]
    runs, compiled = querycache.stats["runs"], querycache.stats["compiled"]
    stream_page(feed_stream(user=alice, feed="team"), size=25)
    # another user of the same team: the same shape, other parameters (bob's own actions)
    bob = world["bob"]
    with CaptureQueriesContext(connection) as queries:
        page = stream_page(feed_stream(user=bob, feed="team"), size=25)
    assert querycache._compiled == shapes
    assert querycache.stats["compiled"] == compiled  # nothing compiled again
    assert querycache.stats["runs"] == runs + 2
    assert str(bob.pk) in queries.captured_queries[-1]["sql"]
    assert [a.pk for a in page.actions] == [
        a.pk for a in page_of(feed_stream(user=bob, feed="team").queryset, size=25).actions
    ]


def test_values_the_shape_cannot_hold_go_through_the_orm():
    with pytest.raises(querycache.Unshaped):
        querycache.shape([[Q(pk__in=Task.objects.values("pk"))]])
    with pytest.raises(querycache.Unshaped):
        querycache.shape([[Q(timestamp__lte=dt.datetime(2020, 1, 1))]])  # naive


def test_shape_leaves_values_out():
    one, leaves_one = querycache.shape([[Q(target_object_id__in=["1", "2"], verb="x")]])
    two, leaves_two = querycache.shape([[Q(target_object_id__in=["7", "9"], verb="y")]])
    three, _ = querycache.shape([[Q(target_object_id__in=["7"], verb="y")]])
    assert one == two != three
    assert (leaves_one, leaves_two) == (["1", "2", "x"], ["7", "9", "y"])


def test_shape_names_the_kind_of_every_value():
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    key, leaves = querycache.shape(
        [[Q(actor_object_id=7, verb="x", timestamp__lte=when, target=Task(pk=3), public=True)]]
    )
    assert key == (
        (
            (
                "q",
                "AND",
                False,
                (
                    ("t", "actor_object_id", "i"),
                    ("t", "public", ("c", True)),
                    ("t", "target", ("m", "demo.task", "int")),
                    ("t", "timestamp__lte", "d"),
                    ("t", "verb", "s"),
                ),
            ),
        ),
    )
    assert leaves == [7, 3, when, "x"]
    with pytest.raises(querycache.Unshaped):
        querycache.shape([[Q(target=Task())]])  # unsaved: no pk to put in the SQL

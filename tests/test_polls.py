"""What the poll cache remembers under the site's signature (activityui.polls)."""

from __future__ import annotations

import datetime as dt

import pytest
from actstream.models import Action
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.utils import timezone

import activityui
from activityui.polls import remembered, site_signature, unread_count_remembered
from tests.factories import ProjectFactory, TeamFactory, UserFactory

SIGNATURE = (dt.datetime(2026, 12, 1, tzinfo=dt.UTC), 7, 9)


def _computed(values: list[int]):
    def compute() -> int:
        values.append(len(values) + 1)
        return values[-1]

    return compute


def test_remembered_until_the_signature_changes(db):
    cache.clear()
    done: list[int] = []
    valid = {"valid": lambda value: type(value) is int}
    assert remembered("test", "who", SIGNATURE, _computed(done), **valid) == 1
    assert remembered("test", "who", SIGNATURE, _computed(done), **valid) == 1
    later = (SIGNATURE[0], SIGNATURE[1], SIGNATURE[2] + 1)  # an action written anywhere
    assert remembered("test", "who", later, _computed(done), **valid) == 2
    assert remembered("test", "someone else", later, _computed(done), **valid) == 3


def test_remembered_value_of_the_wrong_shape_is_a_miss(db):
    cache.clear()
    done: list[int] = []
    assert remembered("test", "who", SIGNATURE, _computed(done), valid=bool) == 1
    # e.g. what an older version wrote under the key: computed again
    assert remembered("test", "who", SIGNATURE, _computed(done), valid=lambda v: False) == 2


def test_remembered_without_cache_or_signature_is_computed_each_time(db, settings):
    done: list[int] = []
    assert remembered("test", "who", None, _computed(done), valid=bool) == 1
    assert remembered("test", "who", None, _computed(done), valid=bool) == 2
    with override_settings(ACTIVITYUI={**settings.ACTIVITYUI, "POLL_CACHE": None}):
        assert remembered("test", "who", SIGNATURE, _computed(done), valid=bool) == 3
        assert remembered("test", "who", SIGNATURE, _computed(done), valid=bool) == 4


def test_site_signature_is_read_once_per_request(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(1):
        first = site_signature(request)
        assert site_signature(request) == first
    assert first is None  # no action yet
    user = UserFactory()
    activityui.record(user, "joined")
    assert site_signature(request) is None  # what this request read
    fresh = site_signature(RequestFactory().get("/"))
    assert fresh is not None and fresh[2] == fresh[1]


def test_unread_count_remembered_is_none_for_anonymous_users_and_unknown_feeds(db):
    request = RequestFactory().get("/")
    kwargs = {"request": request, "limit": 20}
    assert unread_count_remembered(user=None, feed="team", **kwargs) == 0
    assert unread_count_remembered(user=AnonymousUser(), feed="team", **kwargs) == 0
    assert unread_count_remembered(user=UserFactory(), feed="nope", **kwargs) == 0


def test_unread_count_remembered_counts_as_unread_count(db):
    from activityui.selectors import unread_count

    cache.clear()
    alice, bob = UserFactory(), UserFactory()
    team = TeamFactory()
    team.members.add(alice, bob)
    project = ProjectFactory(team=team)
    for minutes in range(3):
        activityui.record(
            bob, "commented", project, team, timestamp=timezone.now() - dt.timedelta(minutes)
        )
    request = RequestFactory().get("/")
    got = unread_count_remembered(request=request, user=alice, feed="team", limit=20)
    assert got == unread_count(user=alice, feed="team", limit=20) and got >= 3
    # the cap is part of the key: capped at limit + 1
    assert unread_count_remembered(request=request, user=alice, feed="team", limit=2) == 3


@pytest.mark.parametrize("marked", [False, True])
def test_read_marker_and_signature_in_one_query(demo, django_assert_num_queries, marked):
    from django.test import RequestFactory

    from activityui.polls import read_marker_and_signature, site_signature
    from activityui.readmarkers import move_read_marker
    from activityui.selectors import read_marker_for

    alice = demo["alice"]
    if marked:
        action = Action.objects.order_by("timestamp", "id")[5]
        move_read_marker(user=alice, feed="team", timestamp=action.timestamp, action_id=action.pk)
    request = RequestFactory().get("/activity/")
    with django_assert_num_queries(1):
        marker = read_marker_and_signature(request, user=alice, feed="team")
        signature = site_signature(request)  # kept for the request: no second query
    assert marker == read_marker_for(user=alice, feed="team")
    assert (marker is not None) == marked
    assert signature == site_signature()


def test_read_marker_and_signature_on_an_empty_site(db):
    from django.test import RequestFactory

    from activityui.polls import read_marker_and_signature, site_signature
    from tests.factories import UserFactory

    request = RequestFactory().get("/activity/")
    assert read_marker_and_signature(request, user=UserFactory(), feed="team") is None
    assert site_signature(request) is None

"""Follows are re-checked when read: a followed object the viewer may no longer see shows
nothing in the following feed, and its follow can still be ended."""

from __future__ import annotations

import pytest
from actstream.models import Follow

import activityui
from demo_site.demo.models import Team

pytestmark = pytest.mark.django_db

FOLLOWING = "/activity/following/"


def _shown(client) -> set[int]:
    response = client.get(FOLLOWING)
    assert response.status_code == 200
    return {action.pk for action in response.context["page"].actions}


@pytest.fixture
def carol_follows_bob(demo, client):
    """carol joins Apollo, follows bob there; then bob leaves Apollo (they share no team)."""
    carol, bob = demo["carol"], demo["bob"]
    apollo = Team.objects.get(name="Apollo")
    apollo.members.add(carol)
    client.force_login(carol)
    assert client.post(f"/activity/follow/auth.user/{bob.pk}/").status_code == 302
    signed_in = activityui.record(bob, "signed in")  # no object, no target: public
    assert signed_in.pk in _shown(client)
    apollo.members.remove(bob)
    left = activityui.record(bob, "left")
    return client, bob, {signed_in.pk, left.pk}


def test_the_following_feed_drops_a_followed_user_no_longer_visible(carol_follows_bob):
    client, _bob, placeless = carol_follows_bob
    assert not placeless & _shown(client)


def test_the_following_poll_finds_nothing_of_a_followed_user_no_longer_visible(
    carol_follows_bob,
):
    from activityui.selectors import feed_stream

    _client, bob, placeless = carol_follows_bob
    carol = _client.get(FOLLOWING).wsgi_request.user
    ids = set(feed_stream(user=carol, feed="following").queryset.values_list("pk", flat=True))
    assert not placeless & ids


def test_a_followed_object_no_longer_visible_can_be_unfollowed(carol_follows_bob):
    client, bob, _placeless = carol_follows_bob
    url = f"/activity/follow/auth.user/{bob.pk}/"
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'aria-pressed="false"' in response.content.decode()
    assert bob.get_full_name() not in response.content.decode()
    carol = response.wsgi_request.user
    assert not Follow.objects.filter(user=carol, object_id=str(bob.pk)).exists()
    # followed no more: the object is hidden again, exactly like a missing one
    assert client.post(url).status_code == 404


def test_an_unfollow_without_htmx_goes_to_the_following_feed(carol_follows_bob):
    client, bob, _placeless = carol_follows_bob
    response = client.post(f"/activity/follow/auth.user/{bob.pk}/")
    assert response.status_code == 302 and response["Location"] == FOLLOWING


def test_a_hidden_object_not_followed_is_still_a_404(demo, client):
    from demo_site.demo.models import Project

    client.force_login(demo["carol"])
    before = Follow.objects.count()
    project = Project.objects.filter(team__name="Apollo").first()
    assert client.post(f"/activity/follow/demo.project/{project.pk}/").status_code == 404
    assert Follow.objects.count() == before

"""ACTIVITYUI["UNREGISTERED_VISIBLE"]: actions placed in a model without a visibility rule."""

from __future__ import annotations

import pytest
from actstream.models import Action, Follow
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings

import activityui
from activityui.selectors import action_list_for_staff, feed_stream, stream_page
from activityui.visibility import Visibility, action_visibility_q, can_see
from demo_site.demo.models import Team

OPEN = override_settings(ACTIVITYUI={"DEFAULT_FEED": "team", "UNREGISTERED_VISIBLE": True})
CLOSED = override_settings(ACTIVITYUI={"DEFAULT_FEED": "team", "UNREGISTERED_VISIBLE": False})


@pytest.fixture
def unruled(demo):
    """Actions placed in a Group (no register_visibility() rule in the demo): as target, and as
    the object of an action without a target; alice follows the group."""
    group = Group.objects.create(name="Ops")
    targeted = activityui.record(demo["bob"], "renamed", demo["bob"], group)
    object_only = activityui.record(demo["bob"], "archived", group)
    Follow.objects.create(
        user=demo["alice"],
        content_type=ContentType.objects.get_for_model(Group),
        object_id=str(group.pk),
    )
    return {"group": group, "ids": {targeted.pk, object_only.pk}}


def visible(user) -> tuple[set[int], set[int]]:
    """The ids visible to ``user`` by the policy, in its subquery and its inlined form."""
    return (
        set(Action.objects.filter(action_visibility_q(user)).values_list("pk", flat=True)),
        set(Action.objects.filter(Visibility(user).q()).values_list("pk", flat=True)),
    )


def following_page(user) -> set[int]:
    return {a.pk for a in stream_page(feed_stream(user=user, feed="following"), size=100).actions}


@pytest.mark.django_db
def test_unregistered_hidden_by_default(demo, unruled):
    with CLOSED:
        policy, fast = visible(demo["alice"])
        assert not policy & unruled["ids"]
        assert not fast & unruled["ids"]
        assert not following_page(demo["alice"]) & unruled["ids"]
        assert can_see(demo["alice"], unruled["group"]) is False


@pytest.mark.django_db
def test_unregistered_hidden_by_default_stays_in_the_staff_console(demo, unruled):
    with CLOSED:
        staff_ids = set(action_list_for_staff(user=demo["staff"]).values_list("pk", flat=True))
    assert unruled["ids"] <= staff_ids


@pytest.mark.django_db
def test_unregistered_visible_shows_them_to_every_signed_in_user(demo, unruled):
    with OPEN:
        for username in ("alice", "carol"):
            policy, fast = visible(demo[username])
            assert unruled["ids"] <= policy
            assert unruled["ids"] <= fast
            assert can_see(demo[username], unruled["group"]) is True


@pytest.mark.django_db
def test_unregistered_visible_reaches_the_following_feed(demo, unruled):
    with OPEN:
        assert unruled["ids"] <= following_page(demo["alice"])


@pytest.mark.django_db
def test_unregistered_visible_keeps_the_registered_rules(demo, unruled):
    apollo = Team.objects.get(name="Apollo")
    apollo_ct = ContentType.objects.get_for_model(Team)
    in_apollo = set(
        Action.objects.filter(
            target_content_type=apollo_ct, target_object_id=str(apollo.pk)
        ).values_list("pk", flat=True)
    )
    assert in_apollo
    with OPEN:
        policy, fast = visible(demo["carol"])
    assert not policy & in_apollo
    assert not fast & in_apollo


@pytest.mark.django_db
def test_unregistered_visible_not_to_anonymous(demo, unruled):
    from django.contrib.auth.models import AnonymousUser

    with OPEN:
        policy, fast = visible(AnonymousUser())
        assert policy == set()
        assert fast == set()
        assert can_see(AnonymousUser(), unruled["group"]) is False


@pytest.mark.django_db
@pytest.mark.parametrize(("setting", "status"), [(CLOSED, 404), (OPEN, 200)])
def test_unregistered_object_timeline(client, demo, unruled, setting, status):
    client.force_login(demo["carol"])
    with setting:
        response = client.get(f"/activity/objects/auth.group/{unruled['group'].pk}/")
    assert response.status_code == status

"""ActionFilterSet: the feed's filters narrow a visible queryset and validate every value."""

from __future__ import annotations

from django.test import RequestFactory

from activityui.choices import person_choices
from activityui.filters import ActionFilterSet
from activityui.selectors import action_list_for_feed
from tests.factories import ProjectFactory, TaskFactory, TeamFactory, UserFactory


def world():
    alice, bob, carol = (UserFactory(username=n) for n in ("alice", "bob", "carol"))
    apollo, zephyr = TeamFactory(name="Apollo"), TeamFactory(name="Zephyr")
    apollo.members.add(alice, bob)
    zephyr.members.add(carol)
    return alice, bob, carol, ProjectFactory(team=apollo), ProjectFactory(team=zephyr)


def filterset(user, data):
    request = RequestFactory().get("/activity/", data)
    request.user = user
    return ActionFilterSet(
        data, queryset=action_list_for_feed(user=user, feed="team"), request=request
    )


def test_person_choices_list_the_people_who_acted_in_what_the_user_may_see(db):
    from activityui.capture import acting_as

    alice, bob, carol, apollo_project, zephyr_project = world()
    with acting_as(bob):
        TaskFactory(project=apollo_project)
    with acting_as(carol):
        TaskFactory(project=zephyr_project)
    # the world was set up by the system actor; alice herself has done nothing yet
    assert [v for v, _ in person_choices(alice)] == ["bob", "system"]
    assert [v for v, _ in person_choices(carol)] == ["carol", "system"]


def test_person_filter_rejects_people_the_user_may_not_see(db):
    from activityui.capture import acting_as

    alice, _bob, carol, apollo_project, _ = world()
    with acting_as(alice):
        TaskFactory(project=apollo_project)
    form = filterset(carol, {"actor": "alice"})
    assert not form.is_valid()
    assert "actor" in form.errors


def test_person_filter_narrows_to_that_actor(db):
    alice, bob, _carol, project, _ = world()
    from activityui.capture import acting_as

    with acting_as(bob):
        TaskFactory(project=project, title="bob's")
    with acting_as(alice):
        TaskFactory(project=project, title="alice's")
    form = filterset(alice, {"actor": "bob"})
    assert form.is_valid()
    assert {a.data["snapshot"]["action_object"]["label"] for a in form.qs} == {"bob's"}


def test_text_and_verb_filters(db):
    alice, _bob, _carol, project, _ = world()
    from activityui.capture import acting_as

    with acting_as(alice):
        task = TaskFactory(project=project, title="Fix the login form")
        task.title = "Fix the login form now"
        task.save()
    assert filterset(alice, {"q": "login"}).qs.count() == 2
    assert filterset(alice, {"q": "login", "verb": "updated"}).qs.count() == 1
    assert filterset(alice, {"q": "nothing"}).qs.count() == 0


def test_bad_values_are_form_errors(db):
    alice, *_ = world()
    for data in ({"since": "nope"}, {"verb": "x"}, {"object_type": "a.b"}, {"q": "x" * 201}):
        form = filterset(alice, data)
        assert not form.is_valid(), data

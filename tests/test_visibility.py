"""The visibility policy: the strict rules, and the fast forms of it give the same rows."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

import activityui
from activityui import visibility
from activityui.capture import acting_as
from activityui.selectors import feed_stream, object_stream, stream_page
from activityui.visibility import Visibility, action_visibility_q
from demo_site.demo.models import Project, Task, Team


def visible_by_policy(user) -> set[int]:
    return set(Action.objects.filter(action_visibility_q(user)).values_list("pk", flat=True))


def visible_by_fast_policy(user) -> set[int]:
    return set(Action.objects.filter(Visibility(user).q()).values_list("pk", flat=True))


def apollo_action_ids() -> set[int]:
    apollo = Team.objects.get(name="Apollo")
    projects = [str(pk) for pk in apollo.projects.values_list("pk", flat=True)]
    project_ct = ContentType.objects.get_for_model(Project)
    return set(
        Action.objects.filter(
            target_content_type=project_ct, target_object_id__in=projects
        ).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_visibility_carol_never_sees_apollo(demo):
    apollo = apollo_action_ids()
    assert apollo
    assert not visible_by_policy(demo["carol"]) & apollo
    assert not visible_by_fast_policy(demo["carol"]) & apollo
    for feed in ("team", "following"):
        page = stream_page(feed_stream(user=demo["carol"], feed=feed), size=100)
        assert not {a.pk for a in page.actions} & apollo


@pytest.mark.django_db
def test_visibility_carol_timeline_of_apollo_project_is_empty(demo):
    project = Project.objects.get(name="Apollo Web")
    content_type = ContentType.objects.get_for_model(Project)
    stream = object_stream(user=demo["carol"], content_type=content_type, object_id=project.pk)
    assert stream_page(stream, size=50).actions == []
    assert not stream.queryset.exists()


@pytest.mark.django_db
def test_visibility_alice_sees_apollo(demo):
    apollo = apollo_action_ids()
    assert apollo <= visible_by_policy(demo["alice"])
    assert apollo <= visible_by_fast_policy(demo["alice"])


@pytest.mark.django_db
def test_visibility_private_action_only_to_its_actor(demo):
    project = Project.objects.get(name="Apollo Web")
    with acting_as(demo["bob"]):
        private = activityui.record(demo["bob"], "noted", project, project, public=False)
    assert private.pk in visible_by_policy(demo["bob"])
    assert private.pk in visible_by_fast_policy(demo["bob"])
    for name in ("alice", "carol"):
        assert private.pk not in visible_by_policy(demo[name])
        assert private.pk not in visible_by_fast_policy(demo[name])
    team = stream_page(feed_stream(user=demo["alice"], feed="team"), size=100)
    assert private.pk not in {a.pk for a in team.actions}
    bobs = stream_page(feed_stream(user=demo["bob"], feed="team"), size=100)
    assert private.pk in {a.pk for a in bobs.actions}


@pytest.mark.django_db
def test_visibility_actions_of_deleted_objects(demo):
    task = Task.objects.filter(project__team__name="Apollo").first()
    project = task.project
    task_ct = ContentType.objects.get_for_model(Task)
    task_id = str(task.pk)
    task_actions = set(
        Action.objects.filter(
            action_object_content_type=task_ct, action_object_object_id=task_id
        ).values_list("pk", flat=True)
    )
    with acting_as(demo["alice"]):
        task.delete()
    after_task = set(
        Action.objects.filter(
            action_object_content_type=task_ct, action_object_object_id=task_id
        ).values_list("pk", flat=True)
    )
    assert task_actions < after_task  # history kept, "deleted" added
    # the place (the project) still exists: alice still sees the task's history, carol never
    assert after_task <= visible_by_fast_policy(demo["alice"])
    assert after_task <= visible_by_policy(demo["alice"])
    assert not after_task & visible_by_fast_policy(demo["carol"])
    with acting_as(demo["alice"]):
        project.delete()
    # the place is gone: nobody may see it any more, so nobody sees its history in a feed
    for name in ("alice", "bob", "carol"):
        assert not after_task & visible_by_policy(demo[name])
        assert not after_task & visible_by_fast_policy(demo[name])


@pytest.mark.django_db
def test_visibility_fast_policy_equals_policy_for_everyone(demo):
    project = Project.objects.get(name="Zephyr Docs")
    with acting_as(demo["carol"]):
        activityui.record(demo["carol"], "signed in")  # no object, no target
        activityui.record(demo["carol"], "signed in", public=False)
        activityui.record(demo["carol"], "pinned", project)  # object only
        activityui.record(demo["carol"], "pinned", project, public=False)
        activityui.record(demo["carol"], "tagged", demo["carol"], demo["alice"])  # user target
    for user in demo.values():
        assert visible_by_fast_policy(user) == visible_by_policy(user), user


@pytest.mark.django_db
def test_visibility_many_ids_fall_back_to_subqueries(demo, monkeypatch):
    monkeypatch.setattr(visibility, "MAX_LITERAL_IDS", 1)
    for user in demo.values():
        assert visible_by_fast_policy(user) == visible_by_policy(user), user


@pytest.mark.django_db
def test_visibility_fast_policy_reads_ids_in_one_query(demo, django_assert_num_queries):
    fast = Visibility(demo["alice"])
    project_ct = ContentType.objects.get_for_model(Project)
    with django_assert_num_queries(1):
        fast.q()
        fast.q()
        fast.branch_q(Q(target_content_type=project_ct, target_object_id="1"))


@pytest.mark.django_db
def test_visibility_anonymous_sees_nothing(demo):
    from django.contrib.auth.models import AnonymousUser

    assert not Action.objects.filter(Visibility(AnonymousUser()).q()).exists()
    assert not Action.objects.filter(Visibility(None).q()).exists()


def branch_kinds(demo) -> dict[str, Q]:
    """One branch of each shape :meth:`Visibility.branch_q` tells apart."""
    project = Project.objects.get(name="Apollo Web")
    team_ct = ContentType.objects.get_for_model(Team)
    return {
        "target pinned": Q(
            target_content_type=ContentType.objects.get_for_model(Project),
            target_object_id=str(project.pk),
        ),
        "no target, object pinned": Q(
            target_content_type__isnull=True, action_object_content_type=team_ct
        ),
        "no target, no object": Q(
            target_content_type__isnull=True, action_object_content_type__isnull=True
        ),
        "no target, any object": Q(target_content_type__isnull=True),
        "nothing pinned": Q(verb="commented"),
        "an OR": Q(verb="commented") | Q(verb="updated"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("unregistered_visible", [False, True])
def test_visibility_branch_q_equals_the_policy_on_each_kind_of_branch(
    demo, settings, unregistered_visible
):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "UNREGISTERED_VISIBLE": unregistered_visible}
    with acting_as(demo["carol"]):
        activityui.record(demo["carol"], "signed in")  # no object, no target
        activityui.record(demo["carol"], "signed in", public=False)
        activityui.record(demo["bob"], "pinned", Team.objects.get(name="Apollo"))  # object only
    for kind, branch in branch_kinds(demo).items():
        for user in demo.values():
            by_policy = Action.objects.filter(branch).filter(action_visibility_q(user))
            by_branch = Action.objects.filter(branch).filter(Visibility(user).branch_q(branch))
            assert set(by_branch) == set(by_policy), (kind, user)


@pytest.mark.django_db
def test_visibility_branch_q_of_anonymous_is_empty(demo):
    from django.contrib.auth.models import AnonymousUser

    for branch in branch_kinds(demo).values():
        assert not Action.objects.filter(Visibility(AnonymousUser()).branch_q(branch)).exists()


@pytest.mark.django_db
def test_visibility_place_q_is_the_place_part_of_the_policy(demo):
    from django.contrib.auth.models import AnonymousUser, Group

    from activityui.visibility import place_q, visible_ids, visible_objects

    project_ct = ContentType.objects.get_for_model(Project)
    alice_projects = {
        str(pk)
        for pk in Project.objects.filter(team__members=demo["alice"]).values_list("pk", flat=True)
    }
    targets = Action.objects.filter(
        place_q("target", demo["alice"]), target_content_type=project_ct
    )
    assert {a.target_object_id for a in targets} <= alice_projects
    assert targets.exists()
    assert not visible_objects(Project, AnonymousUser()).exists()
    assert visible_ids(Group, demo["alice"]) is None  # no rule for the model

"""The feed scope docs/recipes.md recommends, written with a subquery (``stored_ids``): read
through the branches it gives the rows of the plain form, and its branch with many ids (kept
as a subquery) is looked up on the action table's (type, id, timestamp) index."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q

import activityui
from activityui import selectors
from activityui.branches import MAX_SPLIT, split_branches
from activityui.cursors import Cursor
from activityui.feeds import unregister_feed
from activityui.ids import stored_ids
from activityui.keyset import page_of
from activityui.selectors import feed_stream, stream_page
from demo_site.demo.models import Project, Team
from tests.common_fixtures import plan_of


def recipe_scope(user):
    """docs/recipes.md's team_scope, as written there."""
    teams = Team.objects.filter(members=user)
    return Q(
        target_content_type=ContentType.objects.get_for_model(Project),
        target_object_id__in=stored_ids(Project.objects.filter(team__in=teams)),
    ) | Q(
        target_content_type=ContentType.objects.get_for_model(Team),
        target_object_id__in=stored_ids(teams),
    )


def plain_scope(user):
    """The same scope with its ids read first and written as lists."""
    teams = Team.objects.filter(members=user)
    projects = [
        str(pk) for pk in Project.objects.filter(team__in=teams).values_list("pk", flat=True)
    ]
    return Q(
        target_content_type=ContentType.objects.get_for_model(Project),
        target_object_id__in=projects,
    ) | Q(
        target_content_type=ContentType.objects.get_for_model(Team),
        target_object_id__in=[str(pk) for pk in teams.values_list("pk", flat=True)],
    )


@pytest.fixture
def recipe_feeds():
    activityui.register_feed("recipe", "Recipe", recipe_scope)
    activityui.register_feed("recipe-plain", "Recipe, plain", plain_scope)
    yield
    unregister_feed("recipe")
    unregister_feed("recipe-plain")


@pytest.fixture
def many_projects(demo):
    """More Apollo projects than the planner splits into branches of one id, each with an
    action, and enough actions elsewhere that an index lookup beats reading the table."""
    apollo = Team.objects.get(name="Apollo")
    bob = demo["bob"]
    projects = Project.objects.bulk_create(
        Project(team=apollo, name=f"Extra {n}") for n in range(MAX_SPLIT + 6)
    )
    activityui.record_bulk(bob, "archived", projects)
    user_ct = ContentType.objects.get_for_model(get_user_model())
    Action.objects.bulk_create(
        Action(
            actor_content_type=user_ct,
            actor_object_id=str(bob.pk),
            verb="noise",
            target_content_type=user_ct,
            target_object_id=str(n),
            data={},
        )
        for n in range(3_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "ANALYZE actstream_action")
    return projects


def pages(stream, *, size=7):
    """Every page of ``stream`` read through its branches, and of its plain queryset."""
    fast, plain, before = [], [], None
    while True:
        page = stream_page(stream, before=before, size=size)
        expected = page_of(stream.queryset, before=before, size=size)
        fast.append([a.pk for a in page.actions])
        plain.append([a.pk for a in expected.actions])
        if not expected.has_more:
            return fast, plain
        last = expected.actions[-1]
        before = Cursor(last.timestamp, last.pk)


@pytest.mark.django_db
def test_subquery_scope_splits_few_ids_into_branches(demo, recipe_feeds):
    stream = feed_stream(user=demo["alice"], feed="recipe")
    assert len(stream.branches) == 4  # 3 Apollo projects, Apollo
    assert all(isinstance(dict(b.children)["target_object_id"], str) for b in stream.branches)


@pytest.mark.django_db
def test_subquery_scope_gives_the_rows_of_the_plain_form(demo, recipe_feeds):
    for username in ("alice", "carol", "staff"):
        fast, plain = pages(feed_stream(user=demo[username], feed="recipe"))
        assert fast == plain
        assert fast == pages(feed_stream(user=demo[username], feed="recipe-plain"))[0]


@pytest.mark.django_db
def test_subquery_scope_with_many_ids_keeps_its_subquery_branch(demo, recipe_feeds, many_projects):
    stream = feed_stream(user=demo["alice"], feed="recipe")
    subqueries = [b for b in stream.branches if "target_object_id__in" in dict(b.children)]
    assert len(subqueries) == 1
    fast, plain = pages(stream)
    assert fast == plain
    assert sum(len(p) for p in fast) >= len(many_projects)
    assert fast == pages(feed_stream(user=demo["alice"], feed="recipe-plain"))[0]


def probes_the_target_index(plan: str) -> bool:
    """Whether the plan looks actions up by target type *and* id on the target index."""
    if connection.vendor == "postgresql":
        return any(
            "aui_action_target_ts" in scan
            and "Index Cond" in cond
            and "target_content_type_id" in cond
            and "target_object_id" in cond
            for scan, cond in zip(plan.splitlines(), plan.splitlines()[1:], strict=False)
        )
    return "aui_action_target_ts (target_content_type_id=? AND target_object_id=?)" in plan


@pytest.mark.django_db
def test_subquery_branch_is_looked_up_on_the_target_index(demo, recipe_feeds, many_projects):
    stream = feed_stream(user=demo["alice"], feed="recipe")
    (branch,) = [b for b in stream.branches if "target_object_id__in" in dict(b.children)]
    arms = stream._arms([branch], before=None)
    plan = plan_of(selectors._union_page(arms, narrow=None, limit=26))
    assert probes_the_target_index(plan), plan


@pytest.mark.django_db
def test_split_branches_reads_a_values_subquery(demo):
    projects = Project.objects.filter(team__name="Apollo").order_by("pk")
    branches = split_branches(Q(target_object_id__in=projects.values("pk")))
    assert branches == tuple(
        Q(target_object_id=str(pk)) for pk in projects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_split_branches_keeps_a_subquery_of_whole_rows(demo):
    term = Q(target_object_id__in=Project.objects.all())
    assert split_branches(term) == (term,)


def test_split_branches_keeps_a_long_list_and_other_values():
    long_list = Q(target_object_id__in=[str(n) for n in range(MAX_SPLIT + 1)])
    assert split_branches(long_list) == (long_list,)
    not_a_list = Q(target_object_id__in="12")
    assert split_branches(not_a_list) == (not_a_list,)

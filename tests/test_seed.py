from __future__ import annotations

from io import StringIO

from actstream.models import Action
from django.core.management import call_command

from demo_site.demo.models import Project, Task, Team


def test_seed_creates_demo_world(demo):
    assert set(demo) >= {"alice", "bob", "carol", "staff"}
    assert (
        Team.objects.get(name="Apollo").members.filter(username__in=["alice", "bob"]).count() == 2
    )
    assert list(Team.objects.get(name="Zephyr").members.values_list("username", flat=True)) == [
        "carol"
    ]
    assert Project.objects.count() == 5
    assert Task.objects.count() == 32
    assert demo["staff"].has_perm("activityui.view_all_activity")
    assert not demo["alice"].has_perm("activityui.view_all_activity")
    assert demo["alice"].check_password("demo")


def test_seed_history_spans_a_year(demo):
    first = Action.objects.order_by("timestamp").first()
    last = Action.objects.order_by("-timestamp").first()
    assert (last.timestamp - first.timestamp).days >= 300
    assert Action.objects.filter(verb="updated", data__changes__has_key="status").exists()
    assert Action.objects.filter(verb="commented").exists()


def test_seed_is_deterministic(db):
    from demo_site.demo import seed

    seed.seed(tasks=10, seed_value=3)
    first = list(Task.objects.order_by("pk").values_list("title", "status", "priority"))
    Action.objects.all().delete()
    Team.objects.all().delete()
    seed.seed(tasks=10, seed_value=3)
    second = list(Task.objects.order_by("pk").values_list("title", "status", "priority"))
    assert first == second


def test_seed_command_rerun_is_safe(db):
    call_command("seed_demo", "--tasks", "5")
    count = Action.objects.count()
    call_command("seed_demo", "--tasks", "5")
    assert Action.objects.count() == count
    assert Team.objects.count() == 2


def test_seed_bulk_actions_reach_total(demo):
    call_command("seed_demo", "--actions", str(Action.objects.count() + 250))
    before = Action.objects.count()
    call_command("seed_demo", "--actions", str(before))
    assert Action.objects.count() == before


def test_seed_bulk_actions_are_in_the_chart_counts(demo):
    # COPY on PostgreSQL, bulk_create on SQLite: the database triggers count them
    from tests.test_action_counts import counted_kinds, kinds_of_actions

    call_command("seed_demo", "--actions", str(Action.objects.count() + 300))
    assert counted_kinds() == kinds_of_actions()
    assert sum(counted_kinds().values()) == Action.objects.count()


def test_bulk_history_labels_people_as_capture_does(demo):
    from activityui.capture import label_of

    call_command("seed_demo", actions=Action.objects.count() + 50, stdout=StringIO())
    names = {label_of(user) for user in demo.values()}
    labels = {a.data["snapshot"]["actor"]["label"] for a in Action.objects.order_by("-id")[:50]}
    assert labels and labels <= names


def test_seed_comments_are_dated_like_their_actions(demo):
    from demo_site.demo.models import Comment

    said = {
        (a.data["comment"], a.action_object_object_id, a.timestamp)
        for a in Action.objects.filter(verb="commented")
    }
    comments = list(Comment.objects.all())
    assert comments
    assert {(c.body, str(c.task_id), c.created) for c in comments} <= said

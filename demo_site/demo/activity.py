"""How Teamboard plugs into activityui: what is tracked, who sees what, which feeds exist."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

import activityui
from activityui.feeds import following_scope
from demo_site.demo.models import Comment, Project, Task, Team

User = get_user_model()

# Tasks happen in their project; projects in their team.
activityui.track(
    Task,
    fields=["title", "status", "priority", "assignee", "due_date", "description"],
    target="project",
)
activityui.track(Project, fields=["name", "description"], target="team")
# membership is recorded explicitly ("joined"), so tracking members too would tell it twice
activityui.track(Team, fields=["name"])


def visible_teams(user):
    return Team.objects.filter(members=user)


def visible_projects(user):
    return Project.objects.filter(team__members=user)


def visible_tasks(user):
    return Task.objects.filter(project__team__members=user)


def visible_users(user):
    return User.objects.filter(teams__members=user).distinct()


activityui.register_visibility(Team, visible_teams)
activityui.register_visibility(Project, visible_projects)
activityui.register_visibility(Task, visible_tasks)
activityui.register_visibility(
    Comment, lambda user: Comment.objects.filter(task__project__team__members=user)
)
activityui.register_visibility(User, visible_users)


def team_scope(user):
    """Actions in the projects and teams the user is a member of.

    The ids are read first (one small query) and compared as text, like actstream stores them,
    so that each project and team is its own branch on an index (see selectors.stream_page).
    """
    project_ct = ContentType.objects.get_for_model(Project)
    team_ct = ContentType.objects.get_for_model(Team)
    teams: set[str] = set()
    projects: set[str] = set()
    for team_id, project_id in visible_teams(user).order_by().values_list("pk", "projects__pk"):
        teams.add(str(team_id))
        if project_id is not None:
            projects.add(str(project_id))
    teams_in_order = sorted(teams)
    return (
        Q(target_content_type=project_ct, target_object_id__in=sorted(projects))
        | Q(target_content_type=team_ct, target_object_id__in=teams_in_order)
        | Q(
            target_content_type__isnull=True,
            action_object_content_type=team_ct,
            action_object_object_id__in=teams_in_order,
        )
    )


activityui.register_feed(
    "team",
    _("Team activity"),
    team_scope,
    tab_label=_("Team"),
    empty_text=_("No activity yet. When your team creates or changes something, it shows up here."),
)
# the built-in feed, with the demo's own words for its empty state
activityui.register_feed(
    "following",
    _("Following"),
    following_scope,
    empty_text=_("Nothing here yet. Follow a project or a task to see its activity in this feed."),
    order=100,
)

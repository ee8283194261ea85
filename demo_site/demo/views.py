"""Teamboard's pages. Changes go through the models, so activityui captures them."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

import activityui
from activityui.days import group_by_day
from activityui.keyset import page_of
from activityui.presenters import present
from activityui.selectors import action_list_for_feed
from demo_site.demo.forms import CommentForm, TaskStatusForm
from demo_site.demo.models import Project, Task

DEMO_USERS = [
    ("alice", "Alice Martin", "team Apollo"),
    ("bob", "Bob Nguyen", "team Apollo"),
    ("carol", "Carol Diaz", "team Zephyr"),
    ("staff", "Sam Staff", "staff console"),
]


class LoginView(auth_views.LoginView):
    template_name = "demo/login.html"
    redirect_authenticated_user = True
    extra_context = {"demo_users": DEMO_USERS}


login_view = LoginView.as_view()


def _projects_for(user):
    return Project.objects.filter(team__members=user).select_related("team")


@require_GET
@login_required
def dashboard(request):
    actions = action_list_for_feed(user=request.user, feed="team")
    page = page_of(actions, size=10)
    projects = _projects_for(request.user).annotate(
        open_tasks=Count("tasks", filter=~Q(tasks__status=Task.Status.DONE))
    )
    return render(
        request,
        "demo/dashboard.html",
        {"days": group_by_day(present(page.actions)), "projects": projects},
    )


@require_GET
@login_required
def project_list(request):
    projects = _projects_for(request.user).annotate(task_count=Count("tasks"))
    return render(request, "demo/project_list.html", {"projects": projects})


@require_GET
@login_required
def project_detail(request, pk):
    project = get_object_or_404(_projects_for(request.user), pk=pk)
    tasks = project.tasks.select_related("assignee").order_by("status", "-priority", "title")
    return render(request, "demo/project_detail.html", {"project": project, "tasks": tasks})


def _task_for(request, pk, *, for_update=False):
    """The task, if the user may see it. ``for_update``: locked until the request's transaction
    ends (ATOMIC_REQUESTS), so that a concurrent write waits and the old values the history
    records are the ones this write replaces."""
    tasks = Task.objects.select_related("project__team", "assignee").filter(
        project__team__members=request.user
    )
    if for_update:
        tasks = tasks.select_for_update(of=("self",))
    return get_object_or_404(tasks, pk=pk)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def task_detail(request, pk):
    task = _task_for(request, pk)
    if request.htmx and request.GET.get("part") == "facts":  # after a restore in the history
        return render(
            request,
            "demo/task_detail.html#task-facts",
            {"task": task, "status_form": TaskStatusForm(instance=task)},
        )
    return render(
        request,
        "demo/task_detail.html",
        {
            "task": task,
            "status_form": TaskStatusForm(instance=task),
            "comment_form": CommentForm(),
            "comments": task.comments.select_related("author"),
        },
    )


@require_POST
@login_required
def task_update(request, pk):
    task = _task_for(request, pk, for_update=True)
    form = TaskStatusForm(request.POST, instance=task)
    saved = form.is_valid()
    if saved:
        form.save()
    if not request.htmx:
        return (
            redirect(task)
            if saved
            else render(
                request,
                "demo/task_detail.html",
                {
                    "task": task,
                    "status_form": form,
                    "comment_form": CommentForm(),
                    "comments": task.comments.select_related("author"),
                },
                status=400,
            )
        )
    response = render(
        request,
        "demo/task_detail.html#task-status",
        {"task": task, "status_form": form, "saved": saved},
    )
    if saved:
        response["HX-Trigger"] = "activityui:changed"
    return response


@require_POST
@login_required
def task_comment(request, pk):
    task = _task_for(request, pk, for_update=True)
    form = CommentForm(request.POST)
    saved = form.is_valid()
    if saved:
        comment = form.save(commit=False)
        comment.task = task
        comment.author = request.user
        comment.save()
        activityui.record(request.user, "commented", task, task.project, comment=comment.body)
        form = CommentForm()
    context = {
        "task": task,
        "comment_form": form,
        "comments": task.comments.select_related("author"),
    }
    if not request.htmx:
        if saved:
            return redirect(task)
        context["status_form"] = TaskStatusForm(instance=task)
        return render(request, "demo/task_detail.html", context, status=400)
    response = render(request, "demo/task_detail.html#task-comments", context)
    if saved:
        response["HX-Trigger"] = "activityui:changed"
    return response

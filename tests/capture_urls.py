"""A test-only URLconf: an async view that changes a task (the demo has no async view)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from demo_site.demo.models import Task


def _set_status(pk: int, status: str) -> None:
    task = Task.objects.select_related("project").get(pk=pk)
    task.status = status
    task.save()


@transaction.non_atomic_requests  # ATOMIC_REQUESTS does not apply to async views
@require_POST
async def async_task_status(request: HttpRequest, pk: int) -> HttpResponse:
    await sync_to_async(_set_status)(pk, request.POST["status"])
    return HttpResponse(status=204)


urlpatterns = [path("tasks/<int:pk>/status/", async_task_status, name="async_task_status")]

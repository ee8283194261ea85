"""What every view shares (activityui.views.common): page or fragment, and the Vary that says
which request headers decided it."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from activityui.views.common import FRAGMENT_VARY
from demo_site.demo.models import Task


def _vary(response) -> set[str]:
    return {value.strip() for value in response.get("Vary", "").split(",")}


def _pages(demo) -> list[tuple[str, str]]:
    task = Task.objects.filter(project__team__name="Apollo").order_by("pk").first()
    task_type = ContentType.objects.get_for_model(Task)
    action = Action.objects.order_by("-pk").first()
    return [
        ("alice", "/activity/"),
        ("alice", "/activity/following/"),
        ("alice", reverse("activityui:object", args=[f"demo.{task_type.model}", task.pk])),
        ("staff", reverse("activityui:staff")),
        ("staff", reverse("activityui:staff_action", args=[action.pk])),
        ("staff", reverse("activityui:staff_chart")),
    ]


@pytest.mark.parametrize("htmx", [{}, {"HX-Request": "true"}])
def test_every_page_varies_on_the_headers_that_choose_page_or_fragment(client, demo, htmx):
    for user, url in _pages(demo):
        client.force_login(demo[user])
        response = client.get(url, headers=htmx)
        assert response.status_code == 200, url
        assert set(FRAGMENT_VARY) <= _vary(response), url


def test_a_boosted_request_gets_the_page_where_htmx_gets_a_fragment(client, demo):
    # why HX-Boosted is in Vary: both requests carry HX-Request
    client.force_login(demo["alice"])
    fragment = client.get("/activity/", headers={"HX-Request": "true"}).content.decode()
    boosted = client.get(
        "/activity/", headers={"HX-Request": "true", "HX-Boosted": "true"}
    ).content.decode()
    assert "<html" in boosted and "<html" not in fragment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CONTENT_BLOCK": "not a block"}, "is not a block name"),
        ({"BASE_TEMPLATE": 'demo/base.html" %}', "CONTENT_BLOCK": "main"}, "not a template name"),
    ],
)
def test_base_template_refuses_values_it_cannot_write_into_a_template(settings, changes, message):
    from django.core.exceptions import ImproperlyConfigured

    from activityui.views.common import base_template

    settings.ACTIVITYUI = {**settings.ACTIVITYUI, **changes}
    with pytest.raises(ImproperlyConfigured, match=message):
        base_template()

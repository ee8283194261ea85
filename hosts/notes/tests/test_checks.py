"""System checks for the mistakes a host makes, and settings that do what they promise."""

from __future__ import annotations

import re

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from activityui.checks import check_base_template, check_login_url, check_values

SETTINGS = {
    "BASE_TEMPLATE": "notes/base.html",
    "CONTENT_BLOCK": "main",
    "DEFAULT_FEED": "notebooks",
}


def ids(problems):
    return [problem.id for problem in problems]


def aui(**changes):
    return override_settings(ACTIVITYUI={**SETTINGS, **changes})


# the model checks ask each database what it supports (JSONField): the replica too
@pytest.mark.django_db(databases=["default", "replica"])
def test_the_host_as_set_up_passes_every_check():
    assert [
        p for p in run_checks(include_deployment_checks=False) if p.id.startswith("activityui")
    ] == []


def test_missing_base_template_is_an_error():
    with aui(BASE_TEMPLATE="nowhere/base.html"):
        assert ids(check_base_template()) == ["activityui.E010"]


def test_base_template_without_the_content_block_is_an_error():
    with aui(CONTENT_BLOCK="content"):  # the host's block is called "main"
        problems = check_base_template()
    assert ids(problems) == ["activityui.E012"]
    assert "main" in problems[0].hint


def test_blocks_of_the_templates_a_base_extends_count():
    with aui(BASE_TEMPLATE="notes/broken/child.html", CONTENT_BLOCK="inner"):
        assert check_base_template() == []
    with aui(BASE_TEMPLATE="notes/broken/child.html", CONTENT_BLOCK="main"):
        assert check_base_template() == []  # main is the parent's


def test_content_block_that_is_not_a_name_is_an_error():
    with aui(CONTENT_BLOCK="main %}{% evil"):
        assert ids(check_base_template()) == ["activityui.E011"]


@pytest.mark.parametrize("login_url", ["/nowhere/", "sign_in", "app.views.sign_in"])
def test_login_url_that_leads_nowhere_is_a_warning(login_url):
    with override_settings(LOGIN_URL=login_url):
        assert ids(check_login_url()) == ["activityui.W005"]


@pytest.mark.parametrize(
    "login_url", ["/accounts/login/", "login", "admin:login", "https://sso.example.com/"]
)
def test_login_url_that_leads_somewhere_passes(login_url):
    with override_settings(LOGIN_URL=login_url):
        assert check_login_url() == []


def test_theme_and_htmx_config_values_are_checked():
    with aui(THEME="purple"):
        assert ids(check_values()) == ["activityui.E013"]
    with aui(HTMX_CONFIG="no"):
        assert ids(check_values()) == ["activityui.E014"]


def test_activityui_middleware_needs_authentication_middleware_somewhere():
    from django.conf import settings

    without = [m for m in settings.MIDDLEWARE if "AuthenticationMiddleware" not in m]
    with override_settings(MIDDLEWARE=without):
        assert ids(check_values()) == ["activityui.W006"]


def test_activityui_middleware_first_works(client, world):
    """The docs ask for no order: placed first, the user still becomes the actor and a
    signed-out htmx request of activityui still goes to the sign-in page."""
    from django.conf import settings

    from activityui.checks import check_setup
    from hosts.notes.notes.models import Note

    first = ["activityui.middleware.ActivityUIMiddleware"] + [
        m for m in settings.MIDDLEWARE if m != "activityui.middleware.ActivityUIMiddleware"
    ]
    with override_settings(MIDDLEWARE=first):
        assert [p for p in check_setup() + check_values() if p.id.startswith("activityui")] == []
        poll = client.get("/activity/", headers={"HX-Request": "true"})
        assert poll["HX-Redirect"].startswith("/accounts/login/")
        client.force_login(world["ben"])
        from django.urls import path  # noqa: F401

        response = client.post(f"/test-capture/{world['first'].pk}/", {"title": "Renamed"})
    assert response.status_code == 200
    from actstream.models import Action

    newest = Action.objects.order_by("-id").first()
    assert newest.verb == "updated" and newest.actor == world["ben"]
    assert Note.objects.get(pk=world["first"].pk).title == "Renamed"


def test_content_block_setting_fills_the_named_block(client, world):
    client.force_login(world["ann"])
    with aui(BASE_TEMPLATE="notes/broken/child.html", CONTENT_BLOCK="inner"):
        html = client.get("/activity/").content.decode()
    assert re.search(r'<div class="wrapped">\s*<section class="aui aui-feed"', html)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_setting_marks_every_activityui_element(client, world, theme):
    client.force_login(world["ann"])
    with aui(THEME=theme):
        html = client.get("/activity/").content.decode()
        page = client.get(f"/notes/{world['first'].pk}/").content.decode()
    assert f'<section class="aui aui-feed" data-aui-theme="{theme}"' in html
    assert f'data-aui-theme="{theme}" id="timeline"' in page


def test_theme_auto_leaves_it_to_the_os(client, world):
    client.force_login(world["ann"])
    assert "data-aui-theme" not in client.get("/activity/").content.decode()


def test_host_may_keep_its_own_htmx_config(client, world):
    client.force_login(world["ann"])
    assert 'name="htmx-config"' in client.get("/activity/").content.decode()
    with aui(HTMX_CONFIG=None):
        assert 'name="htmx-config"' not in client.get("/activity/").content.decode()

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from activityui.checks import check_default_feed, check_setup, check_values


def test_demo_settings_pass_the_setup_checks():
    assert check_setup() == []
    assert check_default_feed() == []


@override_settings(ACTIVITYUI={"DEFAULT_FEED": "tema"})
def test_unregistered_default_feed_is_a_warning():
    (message,) = check_default_feed()
    assert message.id == "activityui.W002"
    assert "'tema'" in message.msg
    assert "'team'" in message.hint and "'following'" in message.hint


@override_settings(ACTIVITYUI={})
def test_default_following_feed_is_registered():
    assert check_default_feed() == []


@pytest.mark.django_db
def test_database_check_passes_on_the_databases_of_the_test_run():
    # `check --database default` runs the database checks against the real connection
    from django.core.management import call_command

    call_command("check", "--database", "default", "--fail-level", "WARNING")


def test_database_check_warns_of_a_database_without_the_indexes():
    from activityui.checks import database_problems

    problems = database_problems({"default": "sqlite", "replica": "mysql"})
    assert [(p.id, "'replica'" in p.msg) for p in problems] == [("activityui.W007", True)]
    assert database_problems({"default": "postgresql"}) == []


def ids(problems) -> list[str]:
    return [problem.id for problem in problems]


def without(items, name):
    assert name in items
    return [item for item in items if item != name]


def test_missing_app_is_an_error_naming_it():
    with override_settings(INSTALLED_APPS=without(settings.INSTALLED_APPS, "django_filters")):
        problems = check_setup()
    assert ids(problems) == ["activityui.E001"]
    assert "'django_filters'" in problems[0].msg


def test_missing_htmx_middleware_is_an_error():
    middleware = without(settings.MIDDLEWARE, "django_htmx.middleware.HtmxMiddleware")
    with override_settings(MIDDLEWARE=middleware):
        assert ids(check_setup()) == ["activityui.E003"]


def test_missing_activityui_middleware_is_a_warning():
    middleware = without(settings.MIDDLEWARE, "activityui.middleware.ActivityUIMiddleware")
    with override_settings(MIDDLEWARE=middleware):
        assert ids(check_setup()) == ["activityui.W001"]
        # the authentication check is about activityui's middleware: not in the list, no W006
        assert check_values() == []

from __future__ import annotations

import pytest
from django.test import override_settings

from activityui.checks import check_default_feed, check_setup


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

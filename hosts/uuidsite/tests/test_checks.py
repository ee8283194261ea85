"""System checks for hosts that are not the demo: the shapes activityui cannot serve, the system
actor of an email login; and silence for the shapes it can (this host's)."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from activityui import capture
from activityui.checks import check_model_shapes, check_system_actor


def activityui_ids(messages) -> list[str]:
    return [m.id for m in messages if (m.id or "").startswith("activityui.")]


@pytest.fixture
def tracked_for_a_test():
    """Restore the tracking registry after a test tracks models of its own."""
    before = dict(capture._tracked)
    yield capture.track
    capture._tracked.clear()
    capture._tracked.update(before)


def test_this_host_passes_every_check(db):
    assert activityui_ids(checks.run_checks(include_deployment_checks=False)) == []


def test_email_login_without_a_system_actor_function_is_an_error(settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "SYSTEM_ACTOR_FUNCTION": None}
    errors = check_system_actor()
    assert activityui_ids(errors) == ["activityui.E006"]
    assert "'system'" in errors[0].msg and "uuidsite.Member.email" in errors[0].msg
    assert "SYSTEM_ACTOR_FUNCTION" in errors[0].hint


def test_a_valid_email_as_system_actor_passes(settings):
    settings.ACTIVITYUI = {
        **settings.ACTIVITYUI,
        "SYSTEM_ACTOR_FUNCTION": None,
        "SYSTEM_ACTOR": "robot@notebooks.example",
    }
    assert check_system_actor() == []


def test_a_system_actor_function_that_does_not_import_is_an_error(settings):
    settings.ACTIVITYUI = {**settings.ACTIVITYUI, "SYSTEM_ACTOR_FUNCTION": "hosts.nowhere.bot"}
    assert activityui_ids(check_system_actor()) == ["activityui.E005"]


@isolate_apps("hosts.uuidsite")
def test_a_tracked_model_with_a_composite_key_is_an_error(tracked_for_a_test):
    class Reaction(models.Model):  # noqa: DJ008
        pk = models.CompositePrimaryKey("note_id", "emoji")
        note_id = models.UUIDField()
        emoji = models.CharField(max_length=8)

    assert check_model_shapes() == []
    tracked_for_a_test(Reaction)
    errors = check_model_shapes()
    assert activityui_ids(errors) == ["activityui.E007"]
    assert "composite primary key" in errors[0].msg and errors[0].obj is Reaction


@isolate_apps("hosts.uuidsite")
def test_a_string_key_longer_than_actstream_ids_is_an_error(tracked_for_a_test):
    class Document(models.Model):  # noqa: DJ008
        path = models.CharField(primary_key=True, max_length=400)

    tracked_for_a_test(Document)
    errors = check_model_shapes()
    assert activityui_ids(errors) == ["activityui.E008"]
    assert "400 characters" in errors[0].msg


@isolate_apps("hosts.uuidsite")
def test_a_key_without_a_sql_text_form_is_a_warning(tracked_for_a_test):
    class Day(models.Model):  # noqa: DJ008
        date = models.DateField(primary_key=True)

    tracked_for_a_test(Day)
    assert activityui_ids(check_model_shapes()) == ["activityui.W003"]


@isolate_apps("hosts.uuidsite")
def test_every_key_activityui_compares_in_sql_passes(tracked_for_a_test):
    class Small(models.Model):  # noqa: DJ008
        id = models.SmallAutoField(primary_key=True)

    class Parent(models.Model):  # noqa: DJ008
        id = models.UUIDField(primary_key=True)

    class Child(Parent):  # multi-table inheritance: the key is a link to a UUID  # noqa: DJ008
        pass

    class Slugged(models.Model):  # noqa: DJ008
        slug = models.SlugField(primary_key=True, max_length=255)

    for model in (Small, Parent, Child, Slugged):
        tracked_for_a_test(model)
    assert check_model_shapes() == []

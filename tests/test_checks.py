from __future__ import annotations

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

from __future__ import annotations

import pytest
from django.test import override_settings

from activityui.checks import check_setup
from activityui.conf import DEFAULTS, app_settings


def test_conf_defaults_apply():
    assert DEFAULTS["PAGE_SIZE"] == app_settings.PAGE_SIZE


def test_conf_reads_lazily_with_override_settings():
    with override_settings(ACTIVITYUI={"PAGE_SIZE": 7}):
        assert app_settings.PAGE_SIZE == 7
    assert DEFAULTS["PAGE_SIZE"] == app_settings.PAGE_SIZE


def test_conf_unknown_attribute_raises():
    with pytest.raises(AttributeError):
        app_settings.NOT_A_SETTING  # noqa: B018


def test_conf_setting_cannot_be_assigned():
    with pytest.raises(AttributeError):
        app_settings.PAGE_SIZE = 7


def test_conf_value_is_the_raw_setting():
    with override_settings(ACTIVITYUI={"HTMX_CONFIG": "nonsense"}):
        assert app_settings.value("HTMX_CONFIG") == "nonsense"
    with pytest.raises(AttributeError):
        app_settings.value("NOT_A_SETTING")


def test_checks_reject_unknown_keys():
    with override_settings(ACTIVITYUI={"PAGE_SIZ": 7}):
        ids = {m.id for m in check_setup()}
    assert "activityui.E004" in ids


def test_checks_require_jsonfield():
    with override_settings(ACTSTREAM_SETTINGS={"USE_JSONFIELD": False}):
        ids = {m.id for m in check_setup()}
    assert "activityui.E002" in ids


def test_checks_pass_on_demo_settings():
    assert check_setup() == []

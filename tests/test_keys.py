"""The one parser of "app_label.model_name" keys."""

from __future__ import annotations

from activityui.keys import model_for_key
from demo_site.demo.models import Project


def test_model_for_key_of_a_malformed_or_unknown_key_is_none():
    assert model_for_key("demo.project") is Project
    assert model_for_key("demo.nothing") is None
    assert model_for_key("no dot") is None

"""The verb registry: phrase, icon, template; unknown verbs render plainly."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from activityui import verbs
from activityui.capture import record
from activityui.presenters import present
from activityui.verbs import get_verb, register_verb, registered_verbs
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def registry():
    """Verbs registered by a test are gone after it."""
    saved = dict(verbs._registry)
    yield
    verbs._registry.clear()
    verbs._registry.update(saved)


def test_register_verb_keeps_phrase_and_icon(registry):
    verb = register_verb("approved", gettext_lazy("approved"), icon="check")
    assert get_verb("approved") is verb
    assert verb.icon == "check"
    assert isinstance(verb.phrase, Promise)  # translated when shown, not when registered
    assert verb in registered_verbs()


def test_register_verb_promises_no_template(registry):
    # a richer body per verb was documented but never rendered: the keyword is gone, so a
    # host that passes it learns at once instead of waiting for a template that never shows
    with pytest.raises(TypeError):
        register_verb("approved", "approved", template="yourapp/approved.html")
    assert not hasattr(get_verb("approved"), "template")


def test_register_verb_replaces_previous(registry):
    register_verb("approved", "approved")
    register_verb("approved", "signed off", icon="check")
    assert str(get_verb("approved").phrase) == "signed off"
    assert [v.key for v in registered_verbs()].count("approved") == 1


def test_register_verb_rejects_empty_or_long_keys(registry):
    for key in ("", "   ", "x" * 256):
        with pytest.raises(ValueError, match="verb key"):
            register_verb(key, "nothing")


def test_builtin_phrase_follows_active_language():
    with translation.override("fr"):
        assert str(get_verb("created").phrase) == "a créé"
    with translation.override("en"):
        assert str(get_verb("created").phrase) == "created"


def test_get_verb_unknown_is_plain():
    verb = get_verb("frobnicated")
    assert (verb.key, verb.phrase, verb.icon) == ("frobnicated", "frobnicated", "dot")
    assert verb not in registered_verbs()


def test_registered_verbs_are_sorted():
    keys = [v.key for v in registered_verbs()]
    assert keys == sorted(keys)
    assert {"created", "updated", "deleted", "commented"} <= set(keys)


def test_present_unknown_verb_renders_plainly(db):
    alice = UserFactory(username="alice")
    team = TeamFactory(name="Apollo")
    action = record(alice, "frobnicated", team)
    entry = present([action])[0]
    assert (entry.verb, entry.phrase, entry.icon) == ("frobnicated", "frobnicated", "dot")
    assert entry.action_object.label == "Apollo"


def test_present_registered_verb_uses_phrase_and_icon(db, registry):
    register_verb("approved", gettext_lazy("approved"), icon="check")
    action = record(UserFactory(username="alice"), "approved", TeamFactory(name="Apollo"))
    entry = present([action])[0]
    assert (entry.phrase, entry.icon) == ("approved", "check")

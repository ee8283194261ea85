"""Rendering of field changes: word diffs, choices, foreign keys, None, dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from activityui.diffs import DiffPart, condense_diff, word_diff
from activityui.presenters import display_value, present_changes
from demo_site.demo.models import Task, Team


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def ops(parts):
    return [(p.op, p.text) for p in parts]


# --------------------------------------------------------------------------- word_diff


def test_word_diff_marks_a_replaced_word():
    assert ops(word_diff("the quick fox", "the slow fox")) == [
        ("equal", "the "),
        ("delete", "quick"),
        ("insert", "slow"),
        ("equal", " fox"),
    ]


def test_word_diff_merges_neighbouring_edits_into_one_run():
    assert ops(word_diff("the quick brown fox", "the slow red fox")) == [
        ("equal", "the "),
        ("delete", "quick brown"),
        ("insert", "slow red"),
        ("equal", " fox"),
    ]


def test_word_diff_pure_insertion_and_deletion():
    assert ops(word_diff("fix login", "fix login today")) == [
        ("equal", "fix login"),
        ("insert", " today"),
    ]
    assert ops(word_diff("fix the login", "fix login")) == [
        ("equal", "fix "),
        ("delete", "the "),
        ("equal", "login"),
    ]


def test_word_diff_keeps_all_text_of_both_sides():
    old = "Users cannot sign in when the password contains spaces or tabs."
    new = "Users can sign in again, even when the password contains spaces."
    parts = word_diff(old, new)
    assert "".join(p.text for p in parts if p.op != "insert") == old
    assert "".join(p.text for p in parts if p.op != "delete") == new


def test_word_diff_of_equal_texts_is_one_equal_run():
    assert ops(word_diff("same text", "same text")) == [("equal", "same text")]


def test_word_diff_of_empty_old_text_is_an_insertion():
    assert ops(word_diff("", "brand new")) == [("insert", "brand new")]


def test_condense_diff_shortens_long_unchanged_runs():
    words = " ".join(f"w{i}" for i in range(40))
    parts = (
        DiffPart("equal", words + " "),
        DiffPart("delete", "old"),
        DiffPart("insert", "new"),
        DiffPart("equal", " " + words),
    )
    condensed = condense_diff(parts, context=3)
    assert condensed[0] == DiffPart("equal", "… w37 w38 w39 ")
    assert condensed[1:3] == parts[1:3]
    assert condensed[3] == DiffPart("equal", " w0 w1 w2 … ")


def test_condense_diff_leaves_short_runs_alone():
    parts = word_diff("one two three", "one 2 three")
    assert condense_diff(parts, context=3) == parts


# --------------------------------------------------------------------------- display_value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        ("", "—"),
        (True, "yes"),
        (False, "no"),
        (3, "3"),
        ({"value": "review", "label": "Review"}, "Review"),
        ({"pk": 4, "label": "Alice Martin"}, "Alice Martin"),
        ([{"pk": 1, "label": "alice"}, {"pk": 2, "label": "bob"}], "alice, bob"),
    ],
)
def test_display_value(value, shown):
    assert display_value(value) == shown


# --------------------------------------------------------------------------- present_changes


def test_present_changes_choices_show_their_labels():
    (change,) = present_changes(
        Task,
        {"status": [{"value": "review", "label": "Review"}, {"value": "done", "label": "Done"}]},
    )
    assert (change.field, change.name, change.old, change.new) == (
        "status",
        "status",
        "Review",
        "Done",
    )
    assert not change.is_text_diff


def test_present_changes_foreign_keys_show_labels_and_none_as_dash():
    (change,) = present_changes(Task, {"assignee": [None, {"pk": 1, "label": "alice"}]})
    assert (change.old, change.new) == ("—", "alice")


def test_present_changes_foreign_key_to_a_vanished_object_shows_its_pk():
    (change,) = present_changes(Task, {"assignee": [{"pk": 7, "label": None}, None]})
    assert (change.old, change.new) == ("#7", "—")


def test_present_changes_dates_in_the_active_locale():
    (change,) = present_changes(Task, {"due_date": [None, "2026-12-24"]})
    assert (change.name, change.old, change.new) == ("due date", "—", "Dec. 24, 2026")
    with translation.override("fr"):
        (french,) = present_changes(Task, {"due_date": ["2026-12-24", None]})
    assert french.old == "24 décembre 2026"


def test_present_changes_datetimes_in_the_current_time_zone(settings):
    moment = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC).isoformat()
    (change,) = present_changes(get_user_model(), {"last_login": [None, moment]})
    assert change.new == "Nov. 27, 2026, 9:30 a.m."  # Europe/Paris


def test_present_changes_unparsable_date_is_shown_as_stored():
    (change,) = present_changes(Task, {"due_date": ["someday", None]})
    assert change.old == "someday"


def test_present_changes_short_text_is_old_and_new():
    (change,) = present_changes(Task, {"title": ["Fix login bug", "Fix login"]})
    assert (change.old, change.new, change.diff) == ("Fix login bug", "Fix login", ())


def test_present_changes_long_text_is_a_word_diff():
    old = "The login form rejects valid passwords when they contain spaces at the end."
    new = "The login form rejects valid passwords when they contain unicode at the end."
    (change,) = present_changes(Task, {"description": [old, new]})
    assert change.is_text_diff
    assert [p for p in change.diff if p.op != "equal"] == [
        DiffPart("delete", "spaces"),
        DiffPart("insert", "unicode"),
    ]


def test_present_changes_many_to_many():
    (change,) = present_changes(
        Team, {"members": {"added": [{"pk": 1, "label": "alice"}], "removed": []}}
    )
    assert change.is_m2m
    assert (change.added, change.removed) == (("alice",), ())


def test_present_changes_unknown_field_and_model_fall_back_to_the_name():
    (change,) = present_changes(None, {"due_at": [None, "2026-12-24"]})
    assert (change.name, change.new) == ("due at", "2026-12-24")


def test_present_changes_ignores_malformed_values():
    assert present_changes(Task, {"status": "done", "title": [1, 2, 3]}) == ()
    assert present_changes(Task, ["status"]) == ()

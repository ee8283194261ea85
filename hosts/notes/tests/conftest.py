from __future__ import annotations

import pytest

from tests.common_fixtures import (  # noqa: F401 (fixtures and a hook, found by pytest by name)
    _default_language,
    _empty_caches,
    _fast_password_hashing,
    _no_console_errors,
    browser_type_launch_args,
    console_errors,
    pytest_configure,
    pytest_sessionfinish,
)


@pytest.fixture(autouse=True)
def _close_the_replica():
    """The "replica" alias (settings.py) is a test mirror: a connection of its own to the test
    database. Closed after each test, or PostgreSQL refuses to drop that database at the end
    of the run (it is in use)."""
    yield
    from django.db import connections

    connections["replica"].close()


@pytest.fixture
def world(db):
    """Two groups: ann and ben write in "Research"; cat alone in "Finance"."""
    from django.contrib.auth.models import Group, User

    from hosts.notes.notes.models import Note, Notebook

    research = Group.objects.create(name="Research")
    finance = Group.objects.create(name="Finance")
    ann = User.objects.create_user("ann", password="pw", first_name="Ann")
    ben = User.objects.create_user("ben", password="pw", first_name="Ben")
    cat = User.objects.create_user("cat", password="pw", first_name="Cat")
    ann.groups.add(research)
    ben.groups.add(research)
    cat.groups.add(finance)
    import activityui

    with activityui.acting_as(ann):
        lab = Notebook.objects.create(name="Lab book", group=research)
        first = Note.objects.create(notebook=lab, title="First results", body="…")
    with activityui.acting_as(ben):
        second = Note.objects.create(notebook=lab, title="Second thoughts")
        first.status = Note.Status.PUBLISHED
        first.save()
    with activityui.acting_as(cat):
        ledger = Notebook.objects.create(name="Ledger", group=finance)
        secret = Note.objects.create(notebook=ledger, title="Secret budget")
    return {
        "ann": ann,
        "ben": ben,
        "cat": cat,
        "lab": lab,
        "ledger": ledger,
        "first": first,
        "second": second,
        "secret": secret,
    }

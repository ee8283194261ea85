"""Fixtures of the notebooks host: a small world with every kind of key."""

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

#: a string key that needs quoting in a URL (space, "&", "%", "?", "#", ":" and an accent)
PAGE_KEY = "Q&A: 50% off? #1 été"


@pytest.fixture
def world(db):
    """Members alice and bob (workspace Atlas), carol (workspace Borealis), staff sam; in each
    workspace a notebook, a note, a tag, a comment and a page, created by a member."""
    from activityui.capture import acting_as
    from hosts.uuidsite.models import Comment, Member, Note, Notebook, Page, Tag, Workspace

    people = {
        "alice": Member.objects.create_user(
            "alice@notebooks.example", "pw", display_name="Alice Moreau"
        ),
        "bob": Member.objects.create_user(
            "bob@notebooks.example", "pw", display_name="Bob Laurent"
        ),
        "carol": Member.objects.create_user(
            "carol@notebooks.example", "pw", display_name="Carol Diaz"
        ),
        "sam": Member.objects.create_superuser(
            "sam@notebooks.example", "pw", display_name="Sam Staff"
        ),
    }
    found = {"people": people}
    for name, (maker, members, key) in {
        "atlas": ("alice", ["alice", "bob"], PAGE_KEY),
        "borealis": ("carol", ["carol"], "Borealis: 100% private?"),
    }.items():
        with acting_as(people[maker]):
            workspace = Workspace.objects.create(name=name.capitalize())
            workspace.members.set([people[m] for m in members])
            notebook = Notebook.objects.create(workspace=workspace, title=f"{name} notebook")
            note = Note.objects.create(notebook=notebook, title=f"{name} note", body="first")
            tag = Tag.objects.create(workspace=workspace, name=f"{name}-tag")
            comment = Comment.objects.create(note=note, text=f"{name} comment")
            page = Page.objects.create(key=key, workspace=workspace, text="v1")
        found[name] = {
            "workspace": workspace,
            "notebook": notebook,
            "uuid": note,
            "auto": tag,
            "bigauto": comment,
            "string": page,
        }
    return found

from __future__ import annotations

import re
from pathlib import Path

import pytest

from activityui.conf import DEFAULTS
from tests.test_wheel import SETTINGS, URLS

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_settings_reference_documents_every_setting(key):
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{key}` \| ", text, re.M), f"{key} is missing from docs/settings.md"


def test_settings_reference_documents_only_settings_that_exist():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    # the rows of the tables of activityui's own keys (the last table is other apps' settings)
    own = text.split("## Settings of other apps")[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \| ", own, re.M))
    assert documented == set(DEFAULTS)


def test_quickstart_shows_the_settings_the_wheel_test_installs():
    quickstart = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    wanted = [
        line.strip() for line in SETTINGS.splitlines() if '"' in line and "ACTIVITYUI" not in line
    ]
    wanted.append('path("activity/", include("activityui.urls")),')
    assert 'include("activityui.urls")' in URLS
    missing = [line for line in wanted if line not in quickstart]
    assert not missing


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("name", ["quickstart.md", "settings.md", "recipes.md", "comparison.md"])
def test_doc_links_point_to_existing_docs_and_headings(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([\w.-]+\.md)?(?:#([\w-]+))?\)", text):
        path = DOCS / (target or name)
        assert path.exists(), f"{name} links to missing {target}"
        if anchor:
            assert anchor in anchors(path), f"{name} links to missing #{anchor} in {path.name}"

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


# --- every setting and public name the docs mention exists ---

ROOT = DOCS.parent
DOC_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SETTING_KEY = re.compile(r"""ACTIVITYUI\[["']([A-Za-z_][A-Za-z0-9_]*)["']\]""")
DICT_KEY = re.compile(r"""["']([A-Z][A-Z0-9_]*)["']\s*:""")
DOTTED_NAME = re.compile(r"\bactivityui(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
FROM_IMPORT = re.compile(r"^\s*from (activityui[\w.]*) import ([\w, ]+)$", re.M)
CHECK_ID = re.compile(r"^activityui\.[EW]\d{3}$")
STATIC_FILE = re.compile(r"^activityui\.(css|js)$")  # activityui.css, activityui.js: files


def _settings_dicts(text: str) -> list[str]:
    """The text of each ``ACTIVITYUI = {...}`` in ``text``, up to its closing brace."""
    found = []
    for start in (m.end() - 1 for m in re.finditer(r"ACTIVITYUI = \{", text)):
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                found.append(text[start : end + 1])
                break
    return found


def settings_named_in_docs() -> set[tuple[str, str]]:
    named = set()
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        named.update((path.name, key) for key in SETTING_KEY.findall(text))
        for block in _settings_dicts(text):
            named.update((path.name, key) for key in DICT_KEY.findall(block))
    return named


def names_in_docs() -> set[tuple[str, str]]:
    named = set()
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        named.update((path.name, name) for name in DOTTED_NAME.findall(text))
        for module, names in FROM_IMPORT.findall(text):
            named.update((path.name, f"{module}.{name.strip()}") for name in names.split(","))
    return named


def _resolves(dotted: str) -> bool:
    """``dotted`` is a module of activityui or an attribute of one."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def test_docs_name_settings_at_all():
    # the checks below would pass on nothing: the docs do name settings and public names
    assert {key for _doc, key in settings_named_in_docs()} >= {"BASE_TEMPLATE", "DEFAULT_FEED"}
    assert {name for _doc, name in names_in_docs()} >= {"activityui.track", "activityui.E001"}
    assert _resolves("activityui.ids.stored_ids") and _resolves("activityui.middleware")
    assert not _resolves("activityui.nothing") and not _resolves("activityui.ids.nothing")


def test_every_setting_the_docs_name_exists():
    unknown = sorted((doc, key) for doc, key in settings_named_in_docs() if key not in DEFAULTS)
    assert unknown == []


def test_every_public_name_the_docs_name_exists():
    from activityui import checks
    from activityui.visibility import STAFF_PERMISSION

    check_ids = set(re.findall(r'id="(activityui\.[EW]\d{3})"', Path(checks.__file__).read_text()))
    static = ROOT / "activityui" / "static" / "activityui"
    missing = []
    for doc, name in sorted(names_in_docs()):
        if CHECK_ID.match(name):
            ok = name in check_ids
        elif STATIC_FILE.match(name):
            ok = (static / name).exists()
        elif name == STAFF_PERMISSION:  # a permission, "app_label.codename"
            ok = True
        else:
            ok = _resolves(name)
        if not ok:
            missing.append((doc, name))
    assert missing == []

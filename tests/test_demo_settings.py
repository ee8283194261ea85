"""The demo's settings as a careless operator would run them: no environment at all.

DEBUG is off (no traceback reaches a visitor), and the secret key is not in the repository:
made for the checkout on first use, kept in a git-ignored file, the same for every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_http import ROOT, Session, demo_server

READ_SETTINGS = "import json, demo_site.settings as s; print(json.dumps([s.DEBUG, s.SECRET_KEY]))"


def _settings_without_environment(key_file: Path) -> tuple[bool, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL"}
    }
    env["DJANGO_SECRET_KEY_FILE"] = str(key_file)
    out = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], cwd=ROOT, env=env, capture_output=True, check=True
    )
    debug, key = json.loads(out.stdout)
    return debug, key


def test_debug_is_off_unless_asked_for(tmp_path):
    debug, _key = _settings_without_environment(tmp_path / "key")
    assert debug is False


def test_the_secret_key_is_made_for_the_checkout_and_kept(tmp_path):
    key_file = tmp_path / "key"
    _debug, key = _settings_without_environment(key_file)
    assert len(key) >= 50 and len(set(key)) >= 5
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert _settings_without_environment(key_file)[1] == key  # every process, every start
    tracked = subprocess.run(
        ["git", "grep", "-c", "-F", key], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout == ""
    assert ".demo-secret-key" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.django_db(transaction=True)
def test_a_server_error_shows_no_traceback_by_default(tmp_path):
    # a database that cannot be opened: the session lookup fails with a 500
    broken = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"
    env = {"DATABASE_URL": broken}
    with demo_server(**env) as base:
        session = Session(base)
        session.set_cookie("sessionid", "x" * 32)
        status, body = session.request("GET", "/")
    assert status == 500
    assert "Something went wrong" in body
    for detail in ("Traceback", "OperationalError", "SECRET_KEY", "settings"):
        assert detail not in body

"""Sessions end everywhere: signing out in one server process ends the session in every other.

Two gunicorn processes serve the demo on the same test database, as two workers (or two
machines) of one site would. A cookie signed in through one works in both; after signing out
through one, the other refuses it at once (with per-process caches in front of the sessions,
the other process kept answering from its own memory for up to two weeks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from tests.live_http import ROOT, Session, demo_server

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(base: str) -> Session:
    from django.test import Client

    user = get_user_model().objects.create(username="alice")
    client = Client()
    client.force_login(user)  # a session row in the database, as the login form makes
    session = Session(base)
    session.set_cookie("sessionid", client.cookies["sessionid"].value)
    return session


def test_signing_out_in_one_process_ends_the_session_in_the_other():
    with demo_server() as first, demo_server() as second:
        session = _signed_in(first)
        assert session.request("GET", "/")[0] == 200
        assert session.request("GET", "/", base=second)[0] == 200  # both know the session now
        cookie = session.cookie("sessionid")
        assert session.request("POST", "/logout/")[0] == 302
        for base in (second, first):
            # the same cookie again (this browser dropped it; a copy of it would not)
            session.set_cookie("sessionid", cookie)
            status, _body = session.request("GET", "/", base=base)
            assert status == 302, base  # to the sign-in page: the session has ended there


READ_SETTINGS = (
    "import json, demo_site.settings as s; "
    "print(json.dumps([s.SESSION_ENGINE, getattr(s, 'CACHES', None)]))"
)


@pytest.mark.parametrize(
    ("redis_url", "engine", "cache"),
    [
        # no shared cache: the database, which every process reads
        (None, "django.contrib.sessions.backends.db", None),  # no CACHES: Django's local memory
        # a shared cache (Redis) in front of the database
        (
            "redis://127.0.0.1:6379/1",
            "django.contrib.sessions.backends.cached_db",
            "activityui.cache.RedisCache",
        ),
    ],
)
def test_the_demo_keeps_sessions_where_every_process_reads_them(tmp_path, redis_url, engine, cache):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env["DJANGO_SECRET_KEY_FILE"] = str(tmp_path / "key")
    if redis_url:
        env["REDIS_URL"] = redis_url
    out = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], cwd=ROOT, env=env, capture_output=True, check=True
    )
    session_engine, caches = json.loads(out.stdout)
    assert session_engine == engine
    assert (caches and caches["default"]["BACKEND"]) == cache

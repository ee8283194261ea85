"""Sessions end everywhere: signing out in one server process ends the session in every other.

Two gunicorn processes serve the demo on the same test database, as two workers (or two
machines) of one site would. A cookie signed in through one works in both; after signing out
through one, the other refuses it at once (with per-process caches in front of the sessions,
the other process kept answering from its own memory for up to two weeks)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.live_http import Session, demo_server

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


def test_the_demo_keeps_sessions_where_every_process_reads_them():
    from demo_site import settings as demo_settings

    engine = demo_settings.SESSION_ENGINE
    cache = demo_settings.CACHES["default"]["BACKEND"] if hasattr(demo_settings, "CACHES") else ""
    local = not cache or cache.endswith("LocMemCache")
    assert engine == "django.contrib.sessions.backends.db" or (
        engine.endswith("cached_db") and not local
    )

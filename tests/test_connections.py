"""Persistent connections survive a database restart: CONN_HEALTH_CHECKS.

The demo keeps a connection across requests (conn_max_age). When the server ends it (a
restart, a failover: here pg_terminate_backend between two requests), the next request must
check the connection, reconnect and succeed, not answer a 500 once per worker."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from tests.common_fixtures import only_on
from tests.live_http import Session, demo_server

pytestmark = [pytest.mark.django_db(transaction=True), only_on("postgresql")]


def _server_backends() -> list[int]:
    """The server processes' connections to the test database (not this test's own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_request_after_the_connection_was_terminated_succeeds():
    user = get_user_model().objects.create(username="alice")
    client = Client()
    client.force_login(user)
    with demo_server() as base:
        session = Session(base)
        session.set_cookie("sessionid", client.cookies["sessionid"].value)
        assert session.request("GET", "/")[0] == 200
        backends = _server_backends()
        assert backends  # the worker kept its connection (conn_max_age)
        with connection.cursor() as cursor:
            for pid in backends:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        status, body = session.request("GET", "/")
        assert status == 200, body[:300]

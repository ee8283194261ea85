"""Real HTTP for the tests that need more than the test client: a browser-like session (its
own cookies, CSRF token from the cookie, redirects not followed) and the demo served by a
gunicorn process of its own against the test database."""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a 302 is the answer the tests check


@dataclass
class Session:
    """One browser-like visitor of ``base`` (another base can be set per request)."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def set_cookie(self, name: str, value: str) -> None:
        host = urllib.parse.urlsplit(self.base).hostname or ""
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0,
                name,
                value,
                None,
                False,
                host,
                False,
                False,
                "/",
                True,
                False,
                None,
                True,
                None,
                None,
                {},
            )
        )

    def request(
        self, method: str, path: str, data: dict[str, str] | None = None, *, base: str = ""
    ) -> tuple[int, str]:
        url = (base or self.base) + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method)
        if method == "POST":
            request.add_header("X-CSRFToken", self.cookie("csrftoken"))
        try:
            with self.opener.open(request, timeout=60) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def sign_in(self, username: str, password: str = "demo") -> None:
        assert self.request("GET", "/login/")[0] == 200
        status, _body = self.request(
            "POST", "/login/", {"username": username, "password": password}
        )
        assert status == 302, status


def database_url() -> str:
    """The test database, as a DATABASE_URL for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":  # a file (demo_site.settings), not shared memory
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def demo_server(**env: str) -> Iterator[str]:
    """The demo site served by one gunicorn process (one sync worker: one connection that
    persists across requests, as in production) on the test database; yields its base URL."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}  # as shipped
    environment = {
        **inherited,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # sessions signed in here work there
        **env,
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "demo_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the demo server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)

"""Fixtures every test suite of this repository shares: the demo's (tests/) and each test
host's (hosts/<name>/). Imported by their conftest.py files."""

from __future__ import annotations

import os
import re

import pytest

# Sync Playwright keeps an asyncio event loop running in the test thread, so Django would
# refuse ORM calls made from a test with SynchronousOnlyOperation. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Debian's Chromium (apt-get install chromium); Playwright's own download is not available here.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no outside network: stop Chromium phoning home
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


DATABASE_SPECIFIC = "(database-specific)"


def only_on(vendor: str) -> pytest.MarkDecorator:
    """A test of one database's behaviour: a visible skip on the other database (the only skip
    `make test` accepts, since the same run on the other database executes it)."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    return pytest.mark.skipif(
        not engine.endswith(vendor), reason=f"runs on {vendor} only {DATABASE_SPECIFIC}"
    )


def plan_of(queryset) -> str:
    """The database's plan of ``queryset`` (PostgreSQL's EXPLAIN, SQLite's EXPLAIN QUERY PLAN)."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _skip_reason(report) -> str:
    longrepr = getattr(report, "longrepr", None)
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""


def pytest_sessionfinish(session, exitstatus):
    # `make test` sets AUI_REQUIRE_BROWSER: a skipped test (e.g. no browser) fails the run,
    # except a database-specific one on the other database (`only_on`).
    if not os.environ.get("AUI_REQUIRE_BROWSER"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reports = reporter.stats.get("skipped", []) if reporter else []
    skipped = len([r for r in reports if DATABASE_SPECIFIC not in _skip_reason(r)])
    if skipped:
        reporter.write_line(f"{skipped} test(s) were skipped; every test must run here.", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 (1M iterations) costs about a second per demo user, most of the `demo` fixture;
    # no test needs a strong hash. PBKDF2 stays second: it still checks the passwords of users
    # made by broader-scoped fixtures before this one applies.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _empty_caches():
    # polls remember "nothing new" in the cache (polls.remember_quiet) and sessions live
    # there too (cached_db): no test may see what an earlier one left in this process
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # LocaleMiddleware activates a request's language in the thread and nothing deactivates
    # it after a test client request: a French request must not make the next test French
    yield
    from django.utils import translation

    translation.deactivate()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "console_errors_expected(*patterns): console errors matching these regular expressions "
        "are part of the test (e.g. a server error it provokes); any other one fails it",
    )


@pytest.fixture(autouse=True)
def _no_console_errors(request):
    """Every browser test fails on a console error or an uncaught page error (checked when the
    test ends), except those its ``console_errors_expected`` marker names."""
    if "page" not in request.fixturenames:
        yield []
        return
    page = request.getfixturevalue("page")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.node.aui_console_errors = errors
    yield errors
    marker = request.node.get_closest_marker("console_errors_expected")
    patterns = [re.compile(p) for p in (marker.args if marker else ())]
    unexpected = [e for e in errors if not any(p.search(e) for p in patterns)]
    assert unexpected == [], f"console errors: {unexpected}"


@pytest.fixture
def console_errors(request, _no_console_errors):
    """The console errors and uncaught page errors so far (tests may assert on them early)."""
    return _no_console_errors

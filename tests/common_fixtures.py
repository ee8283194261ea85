"""Fixtures every test suite of this repository shares: the demo's (tests/) and each test
host's (hosts/<name>/). Imported by their conftest.py files."""

from __future__ import annotations

import os

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


def pytest_sessionfinish(session, exitstatus):
    # `make test` sets AUI_REQUIRE_BROWSER: a skipped test (e.g. no browser) fails the run.
    if not os.environ.get("AUI_REQUIRE_BROWSER"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
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
    # polls remember "nothing new" in the cache (selectors.remember_quiet) and sessions live
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

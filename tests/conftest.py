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


@pytest.fixture(autouse=True)
def _sessions_in_a_shared_cache(settings):
    """In-process tests read sessions through the cache, as a site with a shared cache does
    (the demo with REDIS_URL: cached_db over Redis): one process here, so local memory is as
    shared, and the query budgets are those of that setup. Without REDIS_URL the demo keeps
    sessions in the database (one primary-key lookup more per request) so that signing out
    holds in every process: tests/test_sessions.py checks that with two server processes,
    which read the demo's own settings."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def demo(db):
    """The seeded demo world (users alice, bob, carol, staff; teams Apollo and Zephyr)."""
    from demo_site.demo import seed

    seed.seed(tasks=20)
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    return users

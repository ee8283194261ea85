from __future__ import annotations

import pytest

from tests.common_fixtures import (  # noqa: F401 (fixtures and a hook, found by pytest by name)
    _default_language,
    _empty_caches,
    _fast_password_hashing,
    browser_type_launch_args,
    pytest_sessionfinish,
)


@pytest.fixture
def demo(db):
    """The seeded demo world (users alice, bob, carol, staff; teams Apollo and Zephyr)."""
    from demo_site.demo import seed

    seed.seed(tasks=20)
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    return users

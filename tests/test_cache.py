"""activityui.cache.RedisCache: Django's Redis backend with one client per pool, against the
Redis of these machines (REDIS_URL, else 127.0.0.1:6379 db 1, as `make test` uses)."""

from __future__ import annotations

import os
import threading

from django.core.cache.backends.redis import RedisCache as DjangosRedisCache

from activityui.cache import RedisCache

URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"


def backend(cls=RedisCache):
    return cls(URL, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})


def test_one_client_per_pool_where_django_builds_one_per_call():
    ours, djangos = backend(), backend(DjangosRedisCache)
    assert ours._cache.get_client() is ours._cache.get_client(write=True)
    assert djangos._cache.get_client() is not djangos._cache.get_client()


def test_it_is_djangos_cache_otherwise():
    cache = backend()
    cache.set("aui-test:a", {"rows": ["<p>1</p>"]}, 30)
    cache.set_many({"aui-test:b": "two", "aui-test:c": 3}, 30)
    assert cache.get("aui-test:a") == {"rows": ["<p>1</p>"]}
    assert cache.get_many(["aui-test:b", "aui-test:c", "aui-test:none"]) == {
        "aui-test:b": "two",
        "aui-test:c": 3,
    }
    assert cache.add("aui-test:b", "again", 30) is False
    assert cache.incr("aui-test:c") == 4
    cache.delete_many(["aui-test:a", "aui-test:b", "aui-test:c"])
    assert cache.get_many(["aui-test:a", "aui-test:b", "aui-test:c"]) == {}


def test_threads_share_the_client():
    cache = backend()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                key = f"aui-test:t{n}:{i}"
                cache.set(key, (n, i), 30)
                assert cache.get(key) == (n, i)
                cache.delete(key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache._cache._clients) == 1

"""Django's Redis cache backend, with one Redis client per connection pool.

Django's ``RedisCache`` builds a new ``redis.Redis`` object for every cache operation (its
``get_client()``), and redis-py's constructor is not cheap: it fills a table of ~600 response
callbacks each time. A warm feed page asks the cache three or four times (the session, the
rows, the menus, the badge), so that was ~0.5 ms of CPU per page on the benchmarks' machine.
A ``redis.Redis`` is safe to share between threads (each command takes a connection from the
pool), so this backend keeps one per pool. Everything else is Django's: same ``LOCATION``,
``OPTIONS`` and behaviour. Use it in ``CACHES`` in place of
``django.core.cache.backends.redis.RedisCache``::

    CACHES = {"default": {"BACKEND": "activityui.cache.RedisCache", "LOCATION": "redis://…"}}
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClients(RedisCacheClient):
    """Django's client, handing out one ``redis.Redis`` per connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with :class:`ReusedClients`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClients

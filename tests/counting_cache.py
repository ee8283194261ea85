"""A real cache that also tells what it was asked: Django's local-memory cache, recording the
name of each operation, so a test can count the round trips a shared cache (Redis) would take."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

_MISSING = object()


class CountingCache(LocMemCache):
    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self.asked: list[str] = []

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        self.asked.append("get")
        return super().get(key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        self.asked.append("get_many")  # one round trip (LocMemCache's calls get() per key)
        found = {}
        for key in keys:
            value = super().get(key, _MISSING, version)
            if value is not _MISSING:
                found[key] = value
        return found

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self.asked.append("set")
        super().set(key, value, timeout, version)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        self.asked.append("set_many")
        for key, value in data.items():
            super().set(key, value, timeout, version)
        return []

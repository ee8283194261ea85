"""The poll cache: the site's signature and the remembered "nothing new" answers of polls."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.db.models import Subquery

from activityui.conf import app_settings
from activityui.cursors import Cursor
from activityui.selectors import _plain
from activityui.visibility import as_person

if TYPE_CHECKING:
    from activityui.visibility import Viewer

Signature = tuple[Any, int, int]  # the newest action's (timestamp, id), and the highest id
log = logging.getLogger("activityui")


def site_signature() -> Signature | None:
    """The newest action's (timestamp, id) and the highest action id on the site, in one
    query of two index probes (None on an empty table). Ids only grow, so any new action
    changes the signature, even one written with an older timestamp."""
    top_id = _plain().order_by("-pk").values("pk")[:1]
    row = (
        _plain()
        .order_by("-timestamp", "-id")
        .annotate(_aui_top=Subquery(top_id))
        .values_list("timestamp", "id", "_aui_top")
        .first()
    )
    return (row[0], row[1], row[2]) if row else None


def newer_than_cursor(signature: Signature | None, after: Cursor) -> bool:
    """Is the site's newest action (from :func:`site_signature`) newer than ``after``?"""
    return signature is not None and (signature[0], signature[1]) > (after.timestamp, after.id)


def _poll_cache() -> Any:
    alias = app_settings.POLL_CACHE
    return caches[alias] if alias else None


def quiet_key(*, user: Viewer, feed: str, query: str, after: Cursor) -> str:
    person = as_person(user)
    who = f"{person._meta.label_lower}:{person.pk}"
    raw = f"{who}|{feed}|{query}|{after.timestamp.isoformat()}|{after.id}"
    return "activityui:quiet:" + hashlib.sha256(raw.encode()).hexdigest()


def known_quiet(key: str, signature: Signature | None) -> bool:
    """Did a full check find nothing new for this poll (``key``: user, feed, filters, cursor)
    while the site was at ``signature``? Then nothing new can have appeared since. A cached
    answer can only be "nothing new": it never shows anything the full check would hide."""
    if signature is None or not app_settings.POLL_CACHE:
        return False
    try:
        return bool(_poll_cache().get(key) == _signature_value(signature))
    except Exception:  # a cache that is down is a miss, not an error page
        log.warning("activityui: the poll cache could not be read", exc_info=True)
        return False


def remember_quiet(key: str, signature: Signature | None, *, timeout: int = 600) -> None:
    """Record that the full check for ``key`` found nothing new at ``signature``."""
    if signature is None or not app_settings.POLL_CACHE:
        return
    try:
        _poll_cache().set(key, _signature_value(signature), timeout)
    except Exception:
        log.warning("activityui: the poll cache could not be written", exc_info=True)


def _signature_value(signature: Signature) -> str:
    timestamp, newest_id, top_id = signature
    return f"{timestamp.isoformat()}|{newest_id}|{top_id}"

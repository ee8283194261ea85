"""The poll cache: the site's signature and what is remembered under it -- the "nothing new"
answers of polls, the menus (:func:`activityui.menus.seen_remembered`) and the unread counts
(:func:`unread_count_remembered`)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.db.models import Subquery

from activityui.conf import app_settings
from activityui.cursors import Cursor
from activityui.feeds import get_feed
from activityui.selectors import _plain, read_marker_for, unread_since
from activityui.visibility import as_person

if TYPE_CHECKING:
    from activityui.visibility import Viewer

Signature = tuple[Any, int, int]  # the newest action's (timestamp, id), and the highest id
log = logging.getLogger("activityui")


_SIGNATURE_ATTR = "_activityui_signature"
# how long a count or a menu remembered under a signature may lag a change it cannot see (a
# viewer's new team, a renamed person): a new action anywhere renews it at once
REMEMBER_SECONDS = 60


def site_signature(request: Any = None) -> Signature | None:
    """The newest action's (timestamp, id) and the highest action id on the site, in one
    query of two index probes (None on an empty table). Ids only grow, so any new action
    changes the signature, even one written with an older timestamp. With ``request``: read
    once per request, shared by all that asks during it (the menus, the unread badge)."""
    if request is None:
        return _read_signature()
    try:
        known: Signature | None = getattr(request, _SIGNATURE_ATTR)
    except AttributeError:
        known = _read_signature()
        setattr(request, _SIGNATURE_ATTR, known)
    return known


def read_marker_and_signature(request: Any, *, user: Viewer, feed: str) -> Cursor | None:
    """The user's read marker of ``feed`` (:func:`selectors.read_marker_for`), with the site's
    signature read in the same query and kept for the rest of the request
    (:func:`site_signature`): a feed page needs both, one round trip fewer."""
    from activityui.models import ReadMarker

    marker = ReadMarker.objects.filter(user_id=user.pk, feed=feed).order_by("pk")
    if (
        not getattr(user, "is_authenticated", False)
        or hasattr(request, _SIGNATURE_ATTR)
        # the marker where it is read on its own: not from a replica (READ_DATABASE), which
        # may not have the marker just moved yet, nor from another database (a router)
        or _plain().db != marker.db
    ):
        return read_marker_for(user=user, feed=feed)
    row = (
        _signature_query()
        .annotate(
            _aui_marker_at=Subquery(marker.values("timestamp")[:1]),
            _aui_marker_id=Subquery(marker.values("action_id")[:1]),
        )
        .values_list("timestamp", "id", "_aui_top", "_aui_marker_at", "_aui_marker_id")
        .first()
    )
    if row is None:  # no action on the site: no signature, and the marker read on its own
        setattr(request, _SIGNATURE_ATTR, None)
        return read_marker_for(user=user, feed=feed)
    setattr(request, _SIGNATURE_ATTR, (row[0], row[1], row[2]))
    return Cursor(timestamp=row[3], id=row[4]) if row[3] is not None else None


def _signature_query() -> Any:
    """The newest action (by timestamp, id) with the highest id on the site as ``_aui_top``."""
    top_id = _plain().order_by("-pk").values("pk")[:1]
    return _plain().order_by("-timestamp", "-id").annotate(_aui_top=Subquery(top_id))


def _read_signature() -> Signature | None:
    row = _signature_query().values_list("timestamp", "id", "_aui_top").first()
    return (row[0], row[1], row[2]) if row else None


def newer_than_cursor(signature: Signature | None, after: Cursor) -> bool:
    """Is the site's newest action (from :func:`site_signature`) newer than ``after``?"""
    return signature is not None and (signature[0], signature[1]) > (after.timestamp, after.id)


def _poll_cache() -> Any:
    alias = app_settings.POLL_CACHE
    return caches[alias] if alias else None


def quiet_key(*, user: Viewer, feed: str, query: str, after: Cursor) -> str:
    raw = f"{viewer_key(user)}|{feed}|{query}|{after.timestamp.isoformat()}|{after.id}"
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


def viewer_key(user: Viewer) -> str:
    """Who a remembered answer is for (never served to another viewer)."""
    person = as_person(user)
    return f"{person._meta.label_lower}:{person.pk}"


def remembered[T](
    kind: str, parts: str, signature: Signature | None, compute: Callable[[], T], *, valid: Any
) -> T:
    """``compute()``, remembered in the ``POLL_CACHE`` cache under ``kind`` and ``parts`` (which
    name the viewer and everything else the answer depends on) while the site is at
    ``signature``, for at most :data:`REMEMBER_SECONDS`. ``valid(value)`` says whether a
    cached value has the right shape. No cache, no signature (an empty site) or a failing
    cache: computed every time."""
    alias = app_settings.POLL_CACHE
    if not alias or signature is None:
        return compute()
    raw = f"{parts}|{_signature_value(signature)}"
    key = f"activityui:{kind}:" + hashlib.sha256(raw.encode()).hexdigest()
    try:
        hit = caches[alias].get(key)
    except Exception:
        log.warning("activityui: the %s could not be read from the cache", kind, exc_info=True)
        hit = None
    if hit is not None and valid(hit):
        cached: T = hit
        return cached
    value = compute()
    try:
        caches[alias].set(key, value, REMEMBER_SECONDS)
    except Exception:
        log.warning("activityui: the %s could not be written to the cache", kind, exc_info=True)
    return value


def unread_count_remembered(
    *,
    request: Any,
    user: Viewer | None,
    feed: str,
    limit: int,
    marker: Any = None,
    count: Callable[[], int] | None = None,
) -> int:
    """How many actions of ``feed`` are new for ``user`` (:func:`selectors.unread_count`),
    remembered per viewer, feed, read marker and cap while the site is at the same signature
    (:func:`remembered`): the host's unread badge on every page costs the marker and the
    request's signature, not the feed's scope, visibility and COUNT. Moving the marker or any
    new action gives a new key; a change of what the viewer may see shows within
    :data:`REMEMBER_SECONDS`. ``marker``, ``count``: the caller has read the marker already
    and knows how to count (the feed's first page, :func:`selectors.unread_on_first_page`)."""
    if user is None or not user.is_authenticated or get_feed(feed) is None:
        return 0
    if count is None:
        marker = read_marker_for(user=user, feed=feed)

        def count() -> int:
            return unread_since(user=user, feed=feed, marker=marker, limit=limit)

    at = f"{marker.timestamp.isoformat()}|{marker.id}" if marker is not None else "-"
    return remembered(
        "unread",
        f"{viewer_key(user)}|{feed}|{at}|{limit}",
        site_signature(request),
        count,
        valid=lambda value: type(value) is int,
    )

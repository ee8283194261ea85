"""Keyset cursors: an opaque, URL-safe token for a (timestamp, id) position in a stream."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

MAX_CURSOR_LENGTH = 200


class InvalidCursor(ValueError):
    """The cursor is not one this app made."""


@dataclass(frozen=True, order=True)
class Cursor:
    timestamp: dt.datetime
    id: int


def encode_cursor(timestamp: dt.datetime, pk: int) -> str:
    raw = f"{timestamp.astimezone(dt.UTC).isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Parse a token from :func:`encode_cursor`; raise :class:`InvalidCursor` otherwise."""
    if not token or len(token) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        stamp, pk = raw.split("|")
        timestamp = dt.datetime.fromisoformat(stamp)
        number = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(str(exc)) from exc
    if timestamp.tzinfo is None or number < 0 or number > 2**63 - 1:
        raise InvalidCursor("not a position")
    # Python accepts offsets up to ±23:59:59.999999, PostgreSQL only up to ±15:59:59 ("time
    # zone displacement out of range", a 500): the position is the instant, kept in UTC
    try:
        timestamp = timestamp.astimezone(dt.UTC)
    except OverflowError as exc:
        raise InvalidCursor("not a position") from exc
    # years 1 and 9999 overflow when shifted to the local time zone (a 500)
    if not 2 <= timestamp.year <= 9998:
        raise InvalidCursor("not a position")
    return Cursor(timestamp=timestamp, id=number)

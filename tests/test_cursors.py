"""Cursors: any token a visitor can send is a position (normalised to UTC) or a 400.

A hypothesis property sends arbitrary cursor strings, and well-formed cursors with every time
zone offset Python accepts (±23:59:59.999999, where PostgreSQL stops at ±15:59:59), to every
endpoint that takes a cursor: only 200, 204 or 400, never a 500, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from activityui.cursors import InvalidCursor, decode_cursor, encode_cursor
from tests.hardening import World, b64, property_settings, seeded_world

pytestmark = pytest.mark.django_db

PROPERTY = property_settings(30)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


def _token(when: dt.datetime, number: int) -> str:
    """A cursor as a visitor may forge it: the offset kept as written."""
    return b64(f"{when.isoformat()}|{number}")


DAY = dt.timedelta(hours=24)
offsets = st.timedeltas(min_value=-DAY + dt.timedelta(microseconds=1), max_value=DAY).filter(
    lambda delta: abs(delta) < DAY
)
aware = st.builds(
    lambda naive, offset: naive.replace(tzinfo=dt.timezone(offset)),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    offsets,
)
forged = st.builds(_token, aware, st.integers(min_value=-1, max_value=2**63))
cursor_text = st.one_of(
    forged,
    st.builds(b64, st.text(max_size=60)),
    st.text(max_size=60),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=80
    ),
)

FAR_EAST = _token(dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=23))), 5)
FAR_WEST = _token(
    dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(-dt.timedelta(hours=16, minutes=1))), 5
)
YEAR_EDGE = _token(dt.datetime(9998, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=20))), 1)


HX = {"HX-Request": "true"}
BANNER = {"HX-Request": "true", "HX-Target": "feed-banner"}


def _timeline(world: World) -> str:
    return f"/activity/objects/demo.task/{world.apollo_comment_task.pk}/"


@dataclass(frozen=True)
class CursorUse:
    """One endpoint and the parameter that carries a cursor there."""

    name: str
    user: str
    path: Callable[[World], str]
    param: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"

    def call(self, world: World, token: str):
        client = world.client(self.user)
        if self.method == "POST":  # mark-read: the newest entry the page has shown
            data = {"feed": "team", self.param: token}
            return client.post(self.path(world), data, headers=self.headers)
        return client.get(self.path(world), {self.param: token}, headers=self.headers)


USES = [
    CursorUse("feed-before", "alice", lambda w: "/activity/", "before"),
    CursorUse("feed-before-htmx", "alice", lambda w: "/activity/", "before", HX),
    CursorUse("feed-seen", "alice", lambda w: "/activity/", "seen"),
    CursorUse("feed-poll", "alice", lambda w: "/activity/", "after", BANNER),
    CursorUse("feed-new", "alice", lambda w: "/activity/", "after", HX),
    CursorUse("following-before", "alice", lambda w: "/activity/following/", "before"),
    CursorUse("following-poll", "alice", lambda w: "/activity/following/", "after", BANNER),
    CursorUse("following-new", "alice", lambda w: "/activity/following/", "after", HX),
    CursorUse("timeline-before", "alice", _timeline, "before"),
    CursorUse("timeline-before-htmx", "staff", _timeline, "before", HX),
    CursorUse("staff-before", "staff", lambda w: "/activity/staff/", "before"),
    CursorUse("staff-before-htmx", "staff", lambda w: "/activity/staff/", "before", HX),
    CursorUse("mark-read", "alice", lambda w: "/activity/read/", "cursor", HX, "POST"),
]


@pytest.mark.parametrize("use", USES, ids=lambda u: u.name)
def test_no_cursor_breaks_an_endpoint(world: World, use: CursorUse):
    @PROPERTY
    @given(token=cursor_text)
    @example(token=FAR_EAST)
    @example(token=FAR_WEST)
    @example(token=YEAR_EDGE)
    def run(token: str) -> None:
        response = use.call(world, token)
        assert response.status_code in (200, 204, 400), (token, response.status_code)

    run()


@pytest.mark.parametrize("token", [FAR_EAST, FAR_WEST])
def test_an_offset_beyond_postgresql_range_is_read_as_its_instant(token: str):
    cursor = decode_cursor(token)
    assert cursor.timestamp.utcoffset() == dt.timedelta(0)
    assert encode_cursor(cursor.timestamp, cursor.id) == encode_cursor(
        cursor.timestamp.astimezone(dt.timezone(dt.timedelta(hours=5))), cursor.id
    )


def test_a_cursor_past_the_last_year_in_utc_is_invalid():
    with pytest.raises(InvalidCursor):
        decode_cursor(_token(dt.datetime(9998, 12, 31, 23, tzinfo=dt.timezone(-DAY / 2)), 1))


def test_a_far_offset_pages_like_the_same_instant_in_utc(world: World):
    client = world.client("alice")
    when = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    shifted = when.astimezone(dt.timezone(dt.timedelta(hours=23, minutes=30)))
    utc = client.get("/activity/", {"before": encode_cursor(when, 2**40)})
    far = client.get("/activity/", {"before": _token(shifted, 2**40)})
    assert far.status_code == utc.status_code == 200
    ids = [a.pk for a in far.context["page"].actions]
    assert ids and ids == [a.pk for a in utc.context["page"].actions]

"""Compiled queries reused: a stream page's SQL built once per shape, run with new parameters.

Building a page of a feed from querysets (one filtered, ordered, LIMITed arm per branch, their
UNION, the outer query) and compiling it costs far more Python time than the database spends
answering it. Yet two requests of one feed differ only in their values: which ids, which
cursor. So the query is compiled once per *shape* -- the structure of its conditions with the
values left out (lookups, connectors, the length of each ``__in`` list, the types of the
values) -- with a distinct stand-in ("sentinel") value in every place a value goes; the
compiled parameters then say which value goes where, and the next request of that shape only
fills them in. Anything the shape cannot describe (a subquery among the values, an expression,
a filter from a FilterSet) is compiled the ordinary way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models import Q, QuerySet

MAX_SHAPES = 512  # compiled shapes kept per process (least recently built go first)
_INT_BASE = 1_900_000_000  # sentinel ints: inside every integer column's range
_DT_BASE = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)


class Unshaped(Exception):
    """The conditions hold something a shape cannot describe."""


@dataclass(frozen=True)
class Compiled:
    sql: str
    # per parameter: (leaf index, how to convert) or (-1, the constant itself)
    slots: tuple[tuple[int, Any], ...]


_compiled: dict[Any, Compiled | None] = {}
_lock = threading.Lock()
# how many pages were read through a compiled shape, and how many shapes were compiled
stats = {"runs": 0, "compiled": 0}


def _shape_of(value: Any, leaves: list[Any]) -> Any:
    if value is None or isinstance(value, bool):
        return ("c", value)
    if isinstance(value, Q | list | tuple):
        return _container_shape(value, leaves)
    return _leaf_shape(value, leaves)


def _container_shape(value: Q | list[Any] | tuple[Any, ...], leaves: list[Any]) -> Any:
    """A Q, a (lookup, value) pair or a list of values: their structure, values as leaves."""
    if isinstance(value, Q):
        children = tuple(_shape_of(child, leaves) for child in value.children)
        return ("q", value.connector, value.negated, children)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return ("t", value[0], _shape_of(value[1], leaves))
    return ("l", len(value), tuple(_shape_of(item, leaves) for item in value))


_LEAF_KINDS: tuple[tuple[type, str], ...] = ((int, "i"), (str, "s"), (dt.datetime, "d"))


def _leaf_shape(value: Any, leaves: list[Any]) -> Any:
    """One value: its kind in the shape, the value itself (or a model's pk) in ``leaves``."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise Unshaped("naive datetime")
    for kind, code in _LEAF_KINDS:
        if isinstance(value, kind):
            leaves.append(value)
            return code
    if isinstance(value, models.Model) and not isinstance(value, type):
        if value.pk is None:
            raise Unshaped("unsaved instance")
        leaves.append(value.pk)
        return ("m", value._meta.label_lower, type(value.pk).__name__)
    raise Unshaped(type(value).__name__)


def shape(conditions: Sequence[Sequence[Q]]) -> tuple[Any, list[Any]]:
    """The shape of ``conditions`` (one sequence of Qs per arm) and its values in order."""
    leaves: list[Any] = []
    key = tuple(tuple(_shape_of(q, leaves) for q in arm) for arm in conditions)
    return key, leaves


def _with_sentinels(value: Any, counter: list[int], out: list[Any]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Q):
        clone = Q()
        clone.connector, clone.negated = value.connector, value.negated
        clone.children = [_with_sentinels(child, counter, out) for child in value.children]
        return clone
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return (value[0], _with_sentinels(value[1], counter, out))
    if isinstance(value, list | tuple):
        return [_with_sentinels(item, counter, out) for item in value]
    counter[0] += 1
    number = counter[0]
    if isinstance(value, int):
        sentinel: Any = _INT_BASE + number
    elif isinstance(value, str):
        sentinel = f"\x01aui{number}\x01"
    elif isinstance(value, dt.datetime):
        sentinel = _DT_BASE + dt.timedelta(microseconds=number)
    else:  # a model instance: the query uses its primary key
        stand_in = type(value)()
        pk = value.pk
        stand_in.pk = _INT_BASE + number if isinstance(pk, int) else f"\x01aui{number}\x01"
        out.append(stand_in.pk)
        return stand_in
    out.append(sentinel)
    return sentinel


def _converters(sentinels: list[Any], connection: Any) -> dict[tuple[type, Any], Any]:
    from actstream.models import Action

    timestamp = Action._meta.get_field("timestamp")
    found: dict[tuple[type, Any], Any] = {}
    for index, value in enumerate(sentinels):
        if isinstance(value, dt.datetime):
            converted = timestamp.get_db_prep_value(value, connection, prepared=False)
            found[(type(converted), converted)] = (index, "d")
        elif isinstance(value, int):
            found[(int, value)] = (index, "i")
            found[(str, str(value))] = (index, "s")
        else:
            found[(str, value)] = (index, "i")
    return found


def compiled_page(
    key: Any,
    leaves: list[Any],
    conditions: Sequence[Sequence[Q]],
    build: Callable[[Sequence[Sequence[Q]]], QuerySet[Any]],
) -> Compiled | None:
    """The compiled query of shape ``key``: ``build(conditions)`` compiled once with sentinel
    values in place of ``leaves`` (None: this shape compiles differently with other values,
    so it is not reused)."""
    if key in _compiled:
        return _compiled[key]
    stats["compiled"] += 1
    counter = [0]
    sentinels: list[Any] = []
    stand_ins = [[_with_sentinels(q, counter, sentinels) for q in arm] for arm in conditions]
    result: Compiled | None = None
    try:
        queryset = build(stand_ins)
        connection = connections[queryset.db]
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
        known = _converters(sentinels, connection)
        slots: list[tuple[int, Any]] = []
        used: set[int] = set()
        for param in params:
            slot = known.get((type(param), param))
            if slot is None:
                if isinstance(param, str) and "\x01aui" in param:
                    raise Unshaped("a value changed on its way into the SQL")
                slots.append((-1, param))
            else:
                slots.append(slot)
                used.add(slot[0])
        if len(used) == len(sentinels) == len(leaves):
            result = Compiled(sql=sql, slots=tuple(slots))
    except Exception:  # EmptyResultSet and the like: this shape is left to the ORM
        result = None
    with _lock:
        if len(_compiled) >= MAX_SHAPES:
            _compiled.pop(next(iter(_compiled)))
        _compiled[key] = result
    return result


def parameters(compiled: Compiled, leaves: list[Any], connection: Any) -> list[Any]:
    from actstream.models import Action

    params = []
    for index, how in compiled.slots:
        if index < 0:
            params.append(how)
            continue
        value = leaves[index]
        if how == "s":
            value = str(value)
        elif how == "d":
            value = Action._meta.get_field("timestamp").get_db_prep_value(
                value, connection, prepared=False
            )
        params.append(value)
    return params


def run(compiled: Compiled, leaves: list[Any], *, using: str) -> list[Any]:
    """The actions the compiled query returns with ``leaves`` as its values."""
    from actstream.models import Action

    connection = connections[using]
    stats["runs"] += 1
    raw = Action._base_manager.db_manager(using).raw(
        compiled.sql, parameters(compiled, leaves, connection)
    )
    return list(raw)


def forget() -> None:
    """Drop every compiled shape (tests; settings that change the SQL)."""
    with _lock:
        _compiled.clear()

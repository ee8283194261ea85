"""The query-branch planner: a scope's ``Q`` as OR-terms, each an equality one index serves."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

MAX_SPLIT = 24  # an ``<role>_object_id__in`` list up to this long becomes one branch per id


def _or_terms(q: Q) -> list[Q]:
    if q.connector == Q.OR and not q.negated:
        terms = []
        for child in q.children:
            terms.extend(_or_terms(child) if isinstance(child, Q) else [Q(child)])
        return terms
    return [q]


def _values_of(value: Any, cache: dict[int, list[Any] | None]) -> list[Any] | None:
    """The values of an ``__in`` right-hand side, if there are few (None: keep it as it is)."""
    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        return values if len(values) <= MAX_SPLIT else None
    if not isinstance(value, QuerySet):
        return None
    if id(value) not in cache:
        rows = list(value[: MAX_SPLIT + 1])
        found: list[Any] = []
        readable = True
        for row in rows:
            if isinstance(row, dict) and len(row) == 1:
                found.append(next(iter(row.values())))
            elif isinstance(row, str | int):
                found.append(row)
            else:
                readable = False
                break
        cache[id(value)] = found if readable and len(rows) <= MAX_SPLIT else None
    return cache[id(value)]


def split_branches(scope: Q) -> tuple[Q, ...]:
    """The OR-terms of ``scope``; a term ``<role>_object_id__in=<few ids>`` becomes one term
    per id (an ``__in`` subquery is read for that: one query). Empty terms are dropped."""
    cache: dict[int, list[Any] | None] = {}
    branches: list[Q] = []
    for term in _or_terms(scope):
        if term.negated or term.connector != Q.AND:
            branches.append(term)
            continue
        fixed: list[Any] = []
        split: tuple[str, list[Any]] | None = None
        empty = False
        for child in term.children:
            if isinstance(child, tuple) and child[0].endswith("__in") and split is None:
                values = _values_of(child[1], cache)
                if values is not None and not values:
                    empty = True
                    break
                if values is not None and child[0].endswith("_object_id__in"):
                    split = (child[0].removesuffix("__in"), values)
                    continue
            fixed.append(child)
        if empty:
            continue
        if split is None:
            branches.append(term)
            continue
        name, values = split
        for value in dict.fromkeys(str(v) for v in values):
            branches.append(Q(*fixed, **{name: value}))
    return tuple(branches)

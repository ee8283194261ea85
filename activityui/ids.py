"""The one text form of an object id, as actstream stores it, and the SQL that produces it.

actstream keeps the ids of an action's actor, object and target (and of a ``Follow``'s object)
in text columns. activityui writes ``str(pk)`` of the primary key's Python value: ``"42"``, a
UUID with dashes in lower case (``"0f8fad5b-d9cb-469f-a165-70867728950e"``), a string key as it
is. Everything that writes or compares such an id goes through this module, so SQLite and
PostgreSQL agree: on SQLite a ``UUIDField`` is 32 hex digits without dashes, and a plain
``Cast(pk, CharField())`` of it never equals the dashed text.

For hosts (feed scopes, visibility rules)::

    from activityui.ids import stored_ids

    Q(target_content_type=..., target_object_id__in=stored_ids(Project.objects.filter(...)))

:func:`stored_ids` is a subquery producing the stored text of each primary key (no cast of the
action table's indexed text column, no cast in the ``WHERE`` of the model's own table): text is
compared with text and the action table's ``(content type, object id)`` indexes are used.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Expression, F, Func, QuerySet
from django.db.models.functions import Cast
from django.db.models.sql.compiler import SQLCompiler

__all__ = [
    "IdText",
    "id_kind",
    "id_text",
    "id_of",
    "stored_ids",
]

#: actstream's object id columns hold up to this many characters
MAX_ID_LENGTH = 255

IdKind = Literal["integer", "uuid", "text", "other", "composite"]

_INTEGER = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)
_TEXT = (models.CharField, models.TextField)  # SlugField, EmailField... are CharFields


def key_field(model: type[models.Model]) -> Any:
    """The field whose values the primary key holds (through a parent link or a foreign key
    used as primary key, e.g. multi-table inheritance)."""
    field: Any = model._meta.pk
    while field is not None and field.is_relation and getattr(field, "target_field", None):
        field = field.target_field
    return field


def id_kind(model: type[models.Model]) -> IdKind:
    """How ``model``'s primary key becomes text: in SQL (integer, uuid, text), in Python only
    (other), or not at all (composite)."""
    if isinstance(model._meta.pk, models.CompositePrimaryKey):
        return "composite"
    field = key_field(model)
    if isinstance(field, models.UUIDField):
        return "uuid"
    if isinstance(field, _INTEGER):
        return "integer"
    if isinstance(field, _TEXT):
        return "text"
    return "other"


def id_text(model: type[models.Model], value: Any) -> str:
    """The stored text of the primary key value ``value`` of ``model`` (``"7"``, a dashed UUID,
    a string key as is). Raises ``ValidationError`` when ``value`` is not a valid key."""
    if isinstance(model._meta.pk, models.CompositePrimaryKey):
        raise TypeError(f"{model._meta.label} has a composite primary key: activityui cannot id it")
    python = model._meta.pk.to_python(value)
    return str(python)


def id_of(obj: models.Model) -> str:
    """The stored text of ``obj``'s primary key: what actstream's ``*_object_id`` columns hold
    for it."""
    return id_text(obj._meta.model, obj.pk)  # not type(obj): request.user is a lazy object


class IdText(Func):
    """SQL for the stored text of a primary key column: ``IdText("pk", model=Project)``.

    Integer keys are cast to text; UUIDs are cast where the database has a uuid type
    (PostgreSQL) and rebuilt with dashes from the 32 stored hex digits where it has not
    (SQLite, MySQL); text keys are used as they are.
    """

    output_field = CharField()
    arity = 1

    def __init__(self, expression: Any, *, model: type[models.Model]) -> None:
        kind = id_kind(model)
        if kind not in {"integer", "uuid", "text"}:
            raise TypeError(
                f"{model._meta.label}'s primary key has no SQL text form here ({kind}); "
                "use activityui.ids.stored_ids(), which reads such ids in Python"
            )
        self.kind = kind
        super().__init__(expression)

    def as_sql(  # type: ignore[override]
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        column: Expression = self.get_source_expressions()[0]
        if self.kind == "text":
            sql, params = compiler.compile(column)
            return sql, list(params)
        if self.kind == "uuid" and not connection.features.has_native_uuid_field:
            sql, params = compiler.compile(column)
            # the 32 hex digits Django stores, lower case, dashed as str(uuid) is
            parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
            pieces = [f"SUBSTR({sql}, {start}, {length})" for start, length in parts]
            if connection.vendor == "mysql":
                return f"LOWER(CONCAT_WS('-', {', '.join(pieces)}))", list(params) * len(parts)
            dashed = " || '-' || ".join(pieces)
            return f"LOWER({dashed})", list(params) * len(parts)
        sql, params = compiler.compile(Cast(column, CharField()))
        return sql, list(params)


def stored_ids(queryset: QuerySet[Any]) -> QuerySet[Any] | list[str]:
    """The ids of ``queryset``'s objects as actstream stores them, for ``*_object_id__in``.

    A one-column subquery (no query runs until the outer one does) for integer, UUID and text
    keys; for other key types (a ``DateField`` key...) a list read now, in Python.
    """
    model = queryset.model
    kind = id_kind(model)
    if kind == "composite":
        raise TypeError(f"{model._meta.label} has a composite primary key: activityui cannot id it")
    if kind == "other":
        return [id_text(model, pk) for pk in queryset.order_by().values_list("pk", flat=True)]
    if kind == "text":
        plain: QuerySet[Any] = queryset.order_by().values("pk")
        return plain
    ids: QuerySet[Any] = (
        queryset.order_by().annotate(_aui_id=IdText(F("pk"), model=model)).values("_aui_id")
    )
    return ids

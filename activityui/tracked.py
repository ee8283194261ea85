"""The registry of tracked models: what ``track()`` asked to record for each model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from activityui.values import FieldT

TargetSpec = str | Callable[[Any], models.Model | None] | None


@dataclass
class Tracking:
    model: type[models.Model]
    fields: list[FieldT]
    m2m_fields: list[FieldT]
    target: TargetSpec
    verbs: dict[str, str] = field(default_factory=dict)

    def verb(self, event: str) -> str:
        return self.verbs.get(event, event)

    def target_of(self, instance: models.Model) -> models.Model | None:
        if self.target is None:
            return None
        if callable(self.target):
            return self.target(instance)
        target: models.Model | None = getattr(instance, self.target)
        return target

    def target_field(self) -> FieldT | None:
        """The foreign key named as target, if the target is one."""
        if not isinstance(self.target, str):
            return None
        try:
            model_field = self.model._meta.get_field(self.target)
        except Exception:
            return None
        return model_field if model_field.many_to_one or model_field.one_to_one else None


_tracked: dict[type[models.Model], Tracking] = {}
_m2m_through: dict[type[models.Model], tuple[type[models.Model], str]] = {}


def tracking_for(model: type[models.Model]) -> Tracking | None:
    return _tracked.get(model)


def tracked_models() -> list[type[models.Model]]:
    return list(_tracked)

"""``stored_ids()`` keeps the action table's indexes usable on both databases: the text it
produces is compared with actstream's text column as it is (no cast of that column)."""

from __future__ import annotations

import pytest
from actstream.models import Action
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from activityui.ids import stored_ids
from hosts.uuidsite.models import Comment, Note, Page, Tag
from tests.common_fixtures import plan_of

MODELS = {"uuid": Note, "auto": Tag, "bigauto": Comment, "string": Page}


def probes_the_action_index(plan: str) -> bool:
    """Whether the plan looks actions up by content type *and* object id on an index."""
    if connection.vendor == "postgresql":
        lines = plan.splitlines()
        return any(
            "Index Cond" in line and "target_object_id" in line and "target_content_type_id" in line
            for line in lines
        )
    return "aui_action_target_ts (target_content_type_id=? AND target_object_id=?)" in plan


@pytest.fixture
def many_actions(world):
    """Enough actions in other objects of each type that a planner would rather probe the
    index by (type, id) than read every action of the type."""
    user_type = ContentType.objects.get_for_model(world["people"]["bob"])
    Action.objects.bulk_create(
        Action(
            actor_content_type=user_type,
            actor_object_id=str(n),
            verb="noise",
            target_content_type=ContentType.objects.get_for_model(model),
            target_object_id=f"other-{n}",
            data={},
        )
        for model in MODELS.values()
        for n in range(1_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "ANALYZE actstream_action")


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_target_ids_from_stored_ids_are_looked_up_on_the_action_index(world, many_actions, kind):
    model = MODELS[kind]
    queryset = Action.objects.filter(
        target_content_type=ContentType.objects.get_for_model(model),
        target_object_id__in=stored_ids(model.objects.filter(pk=world["atlas"][kind].pk)),
    )
    plan = plan_of(queryset)
    assert probes_the_action_index(plan), plan
    # actstream's column is never cast: the comparison is text with text
    sql = str(queryset.query).lower()
    assert 'cast("actstream_action"."target_object_id"' not in sql
    assert '"actstream_action"."target_object_id"::' not in sql

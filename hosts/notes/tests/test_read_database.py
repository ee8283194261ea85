"""ACTIVITYUI["READ_DATABASE"]: the reading surfaces (feeds, timelines, the staff console)
query that alias; writes (follows, read markers) stay on the default database. "replica" is a
test mirror of the default database (hosts/notes/settings.py): a connection of its own, which
sees what the default connection has committed (hence transactional tests)."""

from __future__ import annotations

import pytest
from actstream.models import Action, Follow
from django.contrib.auth.models import User
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from activityui.cursors import encode_cursor
from activityui.models import ReadMarker

HOST = {"BASE_TEMPLATE": "notes/base.html", "CONTENT_BLOCK": "main", "DEFAULT_FEED": "notebooks"}
REPLICA = override_settings(ACTIVITYUI={**HOST, "READ_DATABASE": "replica"})
HX = {"HX-Request": "true"}
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def request_on_each(client, method, url, **kwargs):
    """The response, and the SQL the request sent to each database."""
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = getattr(client, method)(url, **kwargs)
    return response, [q["sql"] for q in default], [q["sql"] for q in replica]


def touching(queries, table):
    return [sql for sql in queries if f'"{table}"' in sql]


def reading_urls(world):
    newest = Action.objects.order_by("-timestamp", "-pk").first()
    after = encode_cursor(newest.timestamp, newest.pk)
    note = world["first"]
    return {
        "feed page": ("/activity/", {}),
        "named feed": ("/activity/mine/", {}),
        "load more": (f"/activity/?before={after}", HX),
        "poll": (f"/activity/?after={after}", HX),
        "timeline": (f"/activity/objects/notes.note/{note.pk}/", {}),
    }


@pytest.mark.parametrize("surface", ["feed page", "named feed", "load more", "poll", "timeline"])
def test_reading_surfaces_read_actions_on_the_read_database(client, world, surface):
    url, headers = reading_urls(world)[surface]
    client.force_login(world["ann"])
    with REPLICA:
        response, default, replica = request_on_each(client, "get", url, headers=headers)
    assert response.status_code in {200, 204}
    assert touching(replica, "actstream_action")
    assert touching(default, "actstream_action") == []


def test_staff_console_reads_actions_on_the_read_database(client, world):
    client.force_login(User.objects.create_superuser("root", password="pw"))
    with REPLICA:
        response, default, replica = request_on_each(client, "get", "/activity/staff/")
    assert response.status_code == 200
    assert "Secret budget" in response.content.decode()
    assert touching(replica, "actstream_action")
    assert touching(default, "actstream_action") == []


def test_feed_on_the_read_database_shows_what_the_default_database_committed(client, world):
    client.force_login(world["ann"])
    with REPLICA:
        response = client.get("/activity/")
    html = response.content.decode()
    assert "First results" in html
    assert "Secret budget" not in html  # cat's notebook: the visibility rules apply there too


def test_follow_is_written_to_the_default_database(client, world):
    client.force_login(world["ann"])
    url = f"/activity/follow/notes.note/{world['second'].pk}/"
    with REPLICA:
        response, default, replica = request_on_each(client, "post", url, headers=HX)
    assert response.status_code == 200
    assert any(sql.startswith("INSERT") for sql in touching(default, "actstream_follow"))
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in replica)
    assert Follow.objects.using("default").filter(user=world["ann"]).count() == 1


def test_read_marker_is_written_to_the_default_database(client, world):
    client.force_login(world["ann"])
    newest = Action.objects.order_by("-timestamp", "-pk").first()
    data = {"feed": "notebooks", "cursor": encode_cursor(newest.timestamp, newest.pk)}
    with REPLICA:
        response, default, replica = request_on_each(
            client, "post", "/activity/read/", data=data, headers=HX
        )
    assert response.status_code == 200
    assert any(
        sql.startswith(("INSERT", "UPDATE")) for sql in touching(default, "activityui_readmarker")
    )
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in replica)
    assert ReadMarker.objects.using("default").filter(user=world["ann"]).count() == 1


def test_without_read_database_nothing_is_read_from_the_other_alias(client, world):
    client.force_login(world["ann"])
    with override_settings(ACTIVITYUI=HOST):
        response, default, replica = request_on_each(client, "get", "/activity/")
    assert response.status_code == 200
    assert touching(default, "actstream_action")
    assert replica == []


def test_the_read_marker_is_read_on_the_default_database(client, world):
    # a marker just moved (a POST on the default database) may not have reached a replica:
    # the feed reads it where it is written, not with the actions' signature on the replica
    client.force_login(world["ann"])
    with REPLICA:
        response, default, replica = request_on_each(client, "get", "/activity/")
    assert response.status_code == 200
    assert touching(default, "activityui_readmarker")
    assert touching(replica, "activityui_readmarker") == []

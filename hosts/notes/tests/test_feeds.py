"""Feeds as an extension point, in a host whose feeds are its own (notes/notes/activity.py)."""

from __future__ import annotations

import re

import pytest
from actstream.models import Action
from django.test import override_settings

import activityui
from activityui.cursors import encode_cursor
from activityui.feeds import unregister_feed
from activityui.models import ReadMarker

HX = {"HX-Request": "true"}


def tabs(html):
    nav = re.search(r'<nav class="aui-feedswitch".*?</nav>', html, re.S)
    assert nav, "no feed tabs"
    return re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(0))


def test_three_feeds_have_pages_and_tabs_in_registration_order(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/").content.decode()
    assert [(url, label) for url, _current, label in tabs(html)] == [
        ("/activity/", "Notebooks"),
        ("/activity/mine/", "My notes"),
        ("/activity/following/", "Following"),
    ]
    for url, title in [
        ("/activity/", "All notebooks"),
        ("/activity/notebooks/", "All notebooks"),  # the default feed is at its key too
        ("/activity/mine/", "My notes"),
        ("/activity/following/", "Following"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert f'<h1 id="aui-feed-title">{title}</h1>' in page
        current = [label for _url, is_current, label in tabs(page) if is_current]
        assert len(current) == 1


def test_unknown_feed_is_a_404(client, world):
    client.force_login(world["ann"])
    assert client.get("/activity/billing/").status_code == 404


def test_each_feed_shows_its_own_actions(client, world):
    client.force_login(world["ann"])
    mine = client.get("/activity/mine/").content.decode()
    assert "First results" in mine and "Second thoughts" not in mine  # ben wrote that one
    notebooks = client.get("/activity/").content.decode()
    assert "Lab book" in notebooks and "Second thoughts" in notebooks
    assert "Secret budget" not in notebooks


def test_each_feed_has_its_own_empty_text(client, world):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("dan"))
    assert (
        "Nothing has happened in your notebooks yet." in client.get("/activity/").content.decode()
    )
    assert "You have not written anything yet." in client.get("/activity/mine/").content.decode()
    following = client.get("/activity/following/").content.decode()
    assert "Follow something to see its activity in this feed." in following


def test_a_feed_registered_by_the_host_needs_no_url_of_its_own(client, world):
    from django.db.models import Q

    activityui.register_feed(
        "drafts", "Drafts", lambda user: Q(verb="created"), tab_label="Drafts", order=5
    )
    activityui.register_feed("hidden", "Hidden", lambda user: Q(verb="updated"), tab=False)
    try:
        client.force_login(world["ann"])
        html = client.get("/activity/drafts/").content.decode()
        assert '<h1 id="aui-feed-title">Drafts</h1>' in html
        labels = [label for _url, _current, label in tabs(html)]
        assert labels == ["Notebooks", "Drafts", "My notes", "Following"]
        hidden = client.get("/activity/hidden/")
        assert hidden.status_code == 200
        assert "Hidden" not in [label for _u, _c, label in tabs(hidden.content.decode())]
    finally:
        unregister_feed("drafts")
        unregister_feed("hidden")


@pytest.mark.parametrize("name", ["staff", "read", "has space", "", "x" * 65])
def test_feed_names_that_cannot_have_a_page_are_refused(name):
    from django.db.models import Q

    with pytest.raises(ValueError):
        activityui.register_feed(name, "No", lambda user: Q())


def test_load_more_and_poll_stay_in_their_feed(client, world):
    client.force_login(world["ben"])
    with override_settings(
        ACTIVITYUI={"BASE_TEMPLATE": "notes/base.html", "CONTENT_BLOCK": "main", "PAGE_SIZE": 1}
    ):
        html = client.get("/activity/mine/").content.decode()
        more = re.search(r'hx-get="(/activity/mine/\?before=[^"]+)"', html)
        assert more, "load more points at this feed's own URL"
        older = client.get(more.group(1).replace("&amp;", "&"), headers=HX)
        assert older.status_code == 200
    newest = Action.objects.order_by("-timestamp", "-id").first()
    after = encode_cursor(newest.timestamp, newest.pk)
    poll = client.get(f"/activity/mine/?after={after}", headers={**HX, "HX-Target": "feed-banner"})
    assert poll.status_code == 204
    with activityui.acting_as(world["ben"]):
        world["second"].title = "Second thoughts, revised"
        world["second"].save()
    poll = client.get(f"/activity/mine/?after={after}", headers={**HX, "HX-Target": "feed-banner"})
    assert poll.status_code == 200 and "1 new activity" in poll.content.decode()
    # ann's own feed has nothing new from ben
    client.force_login(world["ann"])
    poll = client.get(f"/activity/mine/?after={after}", headers={**HX, "HX-Target": "feed-banner"})
    assert poll.status_code == 204


def test_read_marker_is_kept_per_feed(client, world):
    client.force_login(world["ann"])
    newest = Action.objects.order_by("-timestamp", "-id").first()
    cursor = encode_cursor(newest.timestamp, newest.pk)
    response = client.post("/activity/read/", {"feed": "mine", "cursor": cursor})
    assert response.status_code == 302 and response["Location"] == "/activity/mine/"
    assert list(ReadMarker.objects.values_list("feed", flat=True)) == ["mine"]
    assert client.post("/activity/read/", {"feed": "nope", "cursor": cursor}).status_code == 404


def test_filters_work_in_every_feed(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/mine/?verb=created").content.decode()
    assert "First results" in html
    response = client.get("/activity/mine/?verb=created", headers=HX)
    assert response["HX-Push-Url"] == "/activity/mine/?verb=created"


def test_pages_fill_the_hosts_own_content_block(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/").content.decode()
    main = re.search(r'<main id="content">(.*?)</main>', html, re.S)
    assert main and 'class="aui aui-feed"' in main.group(1)
    assert html.count('class="aui aui-feed"') == 1


def test_host_navigation_lists_the_feeds_from_the_registry(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/mine/").content.decode()
    links = re.findall(
        r'<a class="site-tab" href="([^"]+)"( aria-current="page")?>([^<]+)</a>', html
    )
    assert links == [
        ("/activity/", "", "Notebooks"),
        ("/activity/mine/", ' aria-current="page"', "My notes"),
        ("/activity/following/", "", "Following"),
    ]

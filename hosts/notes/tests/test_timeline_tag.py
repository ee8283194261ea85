"""{% object_timeline %} on host pages: silent for who may not see the object, any number of
timelines per page with ids of their own."""

from __future__ import annotations

import re

from django.template import Context, Template
from django.test import RequestFactory

HX = {"HX-Request": "true"}


def test_anonymous_visitor_of_a_public_page_gets_no_timeline(client, world):
    html = client.get(f"/notes/{world['first'].pk}/public/").content.decode()
    assert "First results" in html  # the page itself is public
    assert "aui-timeline" not in html
    assert "/activity/" not in html  # no loader, no link to a page that sends them away


def test_signed_in_visitor_who_may_not_see_the_object_gets_no_timeline(client, world):
    client.force_login(world["cat"])  # not in the notebook's group
    html = client.get(f"/notes/{world['first'].pk}/public/").content.decode()
    assert "First results" in html
    assert "aui-timeline" not in html and "/activity/objects/" not in html


def test_member_gets_the_lazy_timeline(client, world):
    client.force_login(world["ann"])
    html = client.get(f"/notes/{world['first'].pk}/public/").content.decode()
    url = f"/activity/objects/notes.note/{world['first'].pk}/"
    assert f'hx-get="{url}" hx-trigger="load"' in html
    assert client.get(url, headers=HX).status_code == 200


def test_host_may_offer_a_sign_in_link_instead(world):
    request = RequestFactory().get("/notes/1/public/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = Template("{% load activityui %}{% object_timeline note sign_in=True %}").render(
        Context({"note": world["first"], "request": request})
    )
    assert 'href="/accounts/login/?next=/notes/1/public/"' in html
    assert "hx-get" not in html


def test_a_lazy_request_never_takes_the_window_away(client, world):
    # the session ended between the page and its lazy part: no HX-Redirect to the login page
    url = f"/activity/objects/notes.note/{world['first'].pk}/"
    headers = {**HX, "X-Activityui-Lazy": "true", "HX-Current-URL": "http://testserver/n/"}
    response = client.get(url, headers=headers)
    assert response.status_code == 204
    assert "HX-Redirect" not in response
    # a feed poll, on a page only signed-in people see, still goes to the sign-in page
    poll = client.get("/activity/", headers={**HX, "HX-Current-URL": "http://testserver/"})
    assert poll["HX-Redirect"].startswith("/accounts/login/")


def test_two_timelines_on_one_page_have_ids_of_their_own(client, world):
    client.force_login(world["ann"])
    html = client.get(f"/notebooks/{world['lab'].pk}/").content.decode()
    ids = re.findall(r'<section class="aui aui-timeline[^"]*" id="([^"]+)"', html)
    assert ids == ["timeline", "aui-tl-2"]
    second = f"/activity/objects/notes.note/{world['second'].pk}/?tl=aui-tl-2"
    assert f'hx-get="{second}"' in html
    headers = {**HX, "HX-Current-URL": "http://testserver/notebooks/1/"}
    fragment = client.get(second, headers=headers).content.decode()
    assert '<section class="aui aui-timeline" id="aui-tl-2"' in fragment
    assert 'hx-target="#aui-tl-2"' in fragment
    assert 'id="aui-tl-2-items"' in fragment and 'id="aui-tl-2-verb"' in fragment
    assert '<input type="hidden" name="tl" value="aui-tl-2">' in fragment
    assert 'id="timeline' not in fragment
    # its filters answer with the same ids
    filtered = client.get(second + "&verb=created", headers=headers).content.decode()
    assert 'id="aui-tl-2"' in filtered and 'id="timeline"' not in filtered
    items = client.get(second, headers={**headers, "HX-Target": "aui-tl-2-items"})
    assert "<form" not in items.content.decode()


def test_a_forged_timeline_id_falls_back_to_the_default(client, world):
    client.force_login(world["ann"])
    url = f"/activity/objects/notes.note/{world['first'].pk}/?tl=%22%3E%3Cscript%3E"
    html = client.get(url, headers=HX).content.decode()
    assert 'id="timeline"' in html and "<script>" not in html

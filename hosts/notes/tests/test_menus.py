"""The feed's menus list what occurs in what the viewer may see, in a host without a
visibility rule for its user model."""

from __future__ import annotations

import re


def options(html, name):
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def test_person_menu_lists_who_acted_in_what_the_viewer_sees(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/").content.decode()
    assert options(html, "actor") == ["ann", "ben"]  # not cat: nothing of hers is visible


def test_person_filter_accepts_a_colleague(client, world):
    client.force_login(world["ann"])
    response = client.get("/activity/?actor=ben")
    assert response.status_code == 200
    html = response.content.decode()
    assert "not one of the available choices" not in html
    assert "Second thoughts" in html
    assert len(re.findall(r'id="aui-action-\d+"', html)) == 2  # ben's two, none of ann's


def test_person_filter_refuses_someone_the_viewer_has_no_trace_of(client, world):
    client.force_login(world["ann"])
    html = client.get("/activity/?actor=cat").content.decode()
    assert "Secret budget" not in html
    assert 'aria-invalid="true"' in html


def test_verb_menu_lists_only_verbs_that_occur(client, world):
    import activityui

    activityui.record(world["cat"], "signed in")  # recorded, but in nothing ann may see
    client.force_login(world["ann"])
    html = client.get("/activity/").content.decode()
    assert options(html, "verb") == ["created", "updated"]
    assert "joined" not in html and "commented on" not in html and "signed in" not in html

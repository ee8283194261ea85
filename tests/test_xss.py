"""XSS and injection: hostile labels, comments, verbs, data values and URLs render escaped,
bounded and bidi-isolated on every surface; exports defuse spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from actstream.models import Action, Follow
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

import activityui
from activityui.capture import acting_as
from tests.hardening import World, response_text, seeded_world
from tests.test_csp import elements

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
ATTR = '"><img src=x onerror=alert(1)>'
QUOTES = "'\"`"
RTL = "\u202egnp.exe"
LONG = "W" * 5000
FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
BAD_URLS = ["javascript:alert(1)", "//evil.example/", "/\\evil.example/", "/\t/evil.example/"]
CSS = Path(__file__).resolve().parent.parent / "activityui/static/activityui/activityui.css"


def make_hostile(world: World) -> dict[str, object]:
    from demo_site.demo.models import Comment, Project, Task

    alice = world.users["alice"]
    mallory = get_user_model().objects.create(username="mallory", first_name=SCRIPT, last_name=RTL)
    with acting_as(mallory):
        world.apollo_team.members.add(mallory)
        project = Project.objects.create(
            team=world.apollo_team, name=f"P {SCRIPT}{ATTR}", description=SCRIPT
        )
        task = Task.objects.create(
            project=project, title=f"{SCRIPT} {ATTR} {QUOTES} {RTL}", description=LONG
        )
        task.title = FORMULAS[0]
        task.description = LONG + SCRIPT
        task.save()
        for formula in FORMULAS[1:]:
            Task.objects.create(project=project, title=formula)
        body = f"{SCRIPT}\n{'C' * 5000}{RTL}"
        Comment.objects.create(task=task, author=mallory, body=body)
        activityui.record(mallory, "commented", task, project, comment=body)
        activityui.record(mallory, SCRIPT, task, project, note=SCRIPT, link=BAD_URLS[0])
        activityui.record(mallory, FORMULAS[1], task, project)
    task_ct = ContentType.objects.get_for_model(Task)
    project_ct = ContentType.objects.get_for_model(Project)
    user_ct = ContentType.objects.get_for_model(mallory)
    for url in BAD_URLS:  # a host whose get_absolute_url returns anything
        Action.objects.create(
            actor_content_type=user_ct,
            actor_object_id=str(mallory.pk),
            verb="updated",
            action_object_content_type=task_ct,
            action_object_object_id=str(task.pk),
            target_content_type=project_ct,
            target_object_id=str(project.pk),
            data={
                "snapshot": {
                    "actor": {"label": "mallory", "url": url},
                    "action_object": {"label": "linked", "url": url},
                    "target": {"label": "linked", "url": url},
                },
                "changes": {"title": [{"label": SCRIPT}, {"value": ATTR}]},
            },
        )
    Follow.objects.create(
        user=alice,
        content_type=project_ct,
        object_id=str(project.pk),
        flag="",
        actor_only=False,
    )
    actions = list(
        Action.objects.filter(target_object_id=str(project.pk), target_content_type=project_ct)
    )
    return {"project": project, "task": task, "actions": actions}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    for built in seeded_world(django_db_blocker):
        built.hostile = make_hostile(built)
        yield built


def surfaces(world: World) -> list[tuple[str, str, dict[str, str]]]:
    task, project = world.hostile["task"], world.hostile["project"]
    hx = {"HX-Request": "true"}
    pages = [
        ("alice", "/activity/", {}),
        ("alice", "/activity/", hx),
        ("alice", "/activity/following/", {}),
        ("alice", "/activity/?q=script", {}),
        ("alice", f"/activity/?after={world.old_cursor}", {**hx, "HX-Target": "feed-banner"}),
        ("alice", f"/activity/?after={world.old_cursor}", hx),
        ("alice", f"/activity/objects/demo.task/{task.pk}/", {}),
        ("alice", f"/activity/objects/demo.task/{task.pk}/", {**hx, "HX-Target": "timeline"}),
        ("alice", f"/activity/objects/demo.project/{project.pk}/", {}),
        ("alice", f"/tasks/{task.pk}/", {}),
        ("alice", f"/projects/{project.pk}/", {}),
        ("alice", "/projects/", {}),
        ("alice", "/", {}),
        ("staff", "/activity/staff/", {}),
        ("staff", "/activity/staff/?q=script", hx),
    ]
    pages += [("staff", f"/activity/staff/actions/{a.pk}/", {}) for a in world.hostile["actions"]]
    return pages


class Texts(HTMLParser):
    """Text nodes with the classes and tags of the elements around them."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str], bool]] = []
        self.texts: list[tuple[str, list[tuple[str, set[str], bool]]]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        self.stack.append((tag, classes, "dir" in attributes))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.texts.append((data, list(self.stack)))


def isolating_selectors() -> set[str]:
    """Selectors (".class" or ".class tag") that activityui.css isolates from the direction
    of the surrounding text."""
    found = set()
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if re.search(r"unicode-bidi:\s*(isolate|plaintext)", body):
            found |= {" ".join(s.split()) for s in selectors.split(",")}
    return found


def is_isolated(stack: list[tuple[str, set[str], bool]], selectors: set[str]) -> bool:
    tag, classes, has_dir = stack[-1]
    if has_dir or tag in ("bdi", "pre", "code", "td", "dd", "title", "textarea", "option"):
        return True
    if any(f".{c}" in selectors for c in classes) or "aui-visually-hidden" in classes:
        return True  # isolated, or not shown at all
    if tag == "a" and any(f".{c}" in selectors for c in stack[-2][1]):
        return True  # <span class="aui-object"><a>label</a></span>
    outer = {c for _t, cs, _d in stack[:-1] for c in cs}
    return any(f".{c} {tag}" in selectors for c in outer)


def test_the_hostile_data_reached_every_surface(world: World):
    for user, url, headers in surfaces(world):
        response = world.client(user).get(url, headers=headers)
        assert response.status_code == 200, url
        if headers.get("HX-Target") == "feed-banner":
            continue  # a count of new items, no labels
        html = response.content.decode()
        assert "&lt;script&gt;" in html, url  # the hostile script, escaped, on every surface


def unsafe_markup(html: str) -> list[tuple[str, str, str]]:
    """Markup that runs script or leaves the site: what escaping must prevent."""
    found = []
    if "<script>alert" in html or "<img" in html:
        found.append(("raw", "", html[html.find("<script>alert") :][:40]))
    for tag, attrs in elements(html):
        if tag == "script" and not (
            attrs.get("src", "").startswith("/static/") and attrs.get("nonce")
        ):
            found.append((tag, "src", attrs.get("src", "")))
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append((tag, name, value))
            if name in ("href", "src", "action", "formaction", "hx-get", "hx-post") and (
                value.strip().lower().startswith(("javascript:", "data:"))
                or value.startswith(("//", "/\\"))
                or re.search(r"[\x00-\x1f]", value)
            ):
                found.append((tag, name, value))
    return found


def test_hostile_text_is_escaped_everywhere(world: World):
    found = {}
    for user, url, headers in surfaces(world):
        html = world.client(user).get(url, headers=headers).content.decode()
        if unsafe := unsafe_markup(html):
            found[f"{user} {url} {headers}"] = unsafe
    assert found == {}


def test_unsafe_markup_check_catches_what_escaping_prevents():
    assert unsafe_markup(f"<p>{SCRIPT}</p>")
    assert unsafe_markup('<a href="javascript:alert(1)">x</a>')
    assert unsafe_markup('<a href="//evil.example/">x</a>')
    assert unsafe_markup('<p onclick="x()">x</p>')
    assert not unsafe_markup("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")


def test_every_surface_is_bounded(world: World):
    for user, url, headers in surfaces(world):
        if url.startswith(("/tasks/", "/projects/")):
            continue  # the host's own pages show the task's full description
        body = response_text(world.client(user).get(url, headers=headers))
        assert len(body) < 1_000_000, url
        longest = max((len(m) for m in re.findall(r"W+|C+", body)), default=0)
        assert longest <= 2000, (url, longest)


def test_feed_cuts_long_comments_and_labels(world: World):
    html = world.client("alice").get("/activity/").content.decode()
    assert "C" * 500 not in html
    assert "C" * 400 in html  # the comment is there, cut


def test_right_to_left_text_is_isolated(world: World):
    selectors = isolating_selectors()
    assert {".aui-object", ".aui-comment"} <= selectors
    for user, url, headers in surfaces(world):
        if not url.startswith("/activity/"):
            continue
        parser = Texts()
        parser.feed(world.client(user).get(url, headers=headers).content.decode())
        for text, stack in parser.texts:
            if "\u202e" in text:
                assert is_isolated(stack, selectors), (url, stack[-1], text[:40])


def test_bad_snapshot_urls_are_not_links(world: World):
    html = world.client("alice").get("/activity/").content.decode()
    hrefs = [a.get("href", "") for t, a in elements(html) if t == "a"]
    assert "linked" in html
    assert not [h for h in hrefs if "evil.example" in h or h.startswith("javascript")]


def test_csv_export_defuses_formulas(world: World):
    response = world.client("staff").get("/activity/staff/export.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))] == []
    for formula in FORMULAS:
        assert any(cell.startswith("'" + formula) for cell in cells), formula


def test_json_export_is_data_not_a_page(world: World):
    response = world.client("staff").get("/activity/staff/export.json")
    assert response.status_code == 200
    assert "html" not in response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    lines = b"".join(response.streaming_content).decode().splitlines()
    items = [json.loads(line) for line in lines]
    assert any(item["verb"] == SCRIPT for item in items)


def test_hostile_search_is_echoed_escaped(world: World):
    for url in ("/activity/", "/activity/staff/", "/activity/objects/demo.task/{pk}/"):
        user = "staff" if "staff" in url else "alice"
        url = url.format(pk=world.hostile["task"].pk)
        html = world.client(user).get(url, {"q": ATTR[:40], "actor": SCRIPT}).content.decode()
        assert "<img" not in html and "<script>alert" not in html

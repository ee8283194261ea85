"""The built wheel works in a brand-new project: nothing from this repository but the wheel.

Builds the wheel, installs it (dependencies from the package index) in a fresh virtual
environment, creates a project with ``django-admin startproject``, adds the settings the
quickstart documents, migrates, and renders /activity/ with that environment's Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# What docs/quickstart.md tells people to add to settings.py and urls.py.
SETTINGS = """
INSTALLED_APPS += [
    "django_htmx",
    "django_filters",
    "actstream",
    "activityui",
]
MIDDLEWARE += [
    "django_htmx.middleware.HtmxMiddleware",
    "activityui.middleware.ActivityUIMiddleware",
]
ACTSTREAM_SETTINGS = {"USE_JSONFIELD": True}
ACTIVITYUI = {}
"""

URLS = """
from django.urls import include
urlpatterns += [
    path("accounts/", include("django.contrib.auth.urls")),
    path("activity/", include("activityui.urls")),
]
"""

PROBE = """
import json, os
import django

os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
django.setup()

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

import activityui

call_command("migrate", verbosity=0)
call_command("check", fail_level="WARNING")
setup_test_environment()
user = get_user_model().objects.create_user("ann", password="not-used")
client = Client()
client.force_login(user)
response = client.get("/activity/")
french = client.get("/activity/", headers={"accept-language": "fr"})
print(json.dumps({
    "status": response.status_code,
    "body": response.content.decode(),
    "french_status": french.status_code,
    "templates": sorted({t.origin.name for t in response.templates if t.origin}),
    "css": finders.find("activityui/activityui.css"),
    "package": activityui.__file__,
}))
"""


def run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, clean_env) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, REPO], out, clean_env)
    (path,) = out.glob("activityui-*.whl")
    return path


def test_wheel_carries_templates_static_files_and_types(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in [
        "activityui/py.typed",
        "activityui/templates/activityui/base.html",
        "activityui/templates/activityui/feed.html",
        "activityui/templates/activityui/admin/change_form.html",
        "activityui/static/activityui/activityui.css",
        "activityui/static/activityui/icons.svg",
        "activityui/migrations/0001_initial.py",
        "activityui/management/commands/prune_activity.py",
        "activityui/locale/fr/LC_MESSAGES/django.mo",
    ]:
        assert name in names, name
    assert not any(n.startswith(("demo_site/", "tests/", "templates/demo")) for n in names)


def test_wheel_serves_activity_in_a_new_project(wheel, tmp_path, clean_env):
    venv = tmp_path / "venv"
    # a bare environment (no pip of its own: faster), filled by this interpreter's pip
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, clean_env)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel]
    run(pip, tmp_path, clean_env)
    site = tmp_path / "site"
    site.mkdir()
    run([venv / "bin" / "django-admin", "startproject", "mysite", site], site, clean_env)
    with (site / "mysite" / "settings.py").open("a") as settings:
        settings.write(SETTINGS)
    with (site / "mysite" / "urls.py").open("a") as urls:
        urls.write(URLS)
    (site / "probe.py").write_text(textwrap.dedent(PROBE))

    report = json.loads(run([python, "probe.py"], site, clean_env).splitlines()[-1])

    installed = str(venv / "lib")
    assert report["status"] == 200
    assert report["french_status"] == 200
    assert report["package"].startswith(installed)
    assert report["css"] and report["css"].startswith(installed)
    assert report["templates"], "no template was rendered"
    assert all(name.startswith(installed) for name in report["templates"]), report["templates"]
    assert any(name.endswith("activityui/feed.html") for name in report["templates"])
    assert "/static/activityui/activityui.css" in report["body"]
    assert 'class="aui aui-feed"' in report["body"]
    assert str(REPO) not in json.dumps(report)

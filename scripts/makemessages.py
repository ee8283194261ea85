"""Update and compile activityui's message catalogs (development only: needs GNU gettext).

    .venv/bin/python scripts/makemessages.py          # extract into activityui/locale/*/django.po
    .venv/bin/python scripts/makemessages.py compile  # compile every django.po to django.mo

The app's strings live in two trees, activityui/ (Python) and templates/activityui/ (templates,
shipped inside the package by the wheel), so this runs Django's makemessages from the
repository root with activityui/locale as the only locale path. The compiled .mo files are
committed: sites that install the wheel need no gettext.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "activityui"
LOCALE = PACKAGE / "locale"
LANGUAGES = ["fr"]
# everything outside activityui/ and templates/activityui/
IGNORE = [
    ".*",
    "benchmarks",
    "build",
    "demo_site",
    "dist",
    "docs",
    "node_modules",
    "scripts",
    "static",
    "staticfiles",
    "templates/demo",
    "templates/registration",
    "tests",
    "activityui/migrations",
]


def main(argv: list[str]) -> None:
    settings.configure(LOCALE_PATHS=[str(LOCALE)], USE_I18N=True, INSTALLED_APPS=[])
    django.setup()
    if argv[1:] == ["compile"]:
        os.chdir(PACKAGE)  # compilemessages compiles every locale/ dir below the current one
        call_command("compilemessages", locale=LANGUAGES, verbosity=1)
        return
    for language in LANGUAGES:
        (LOCALE / language / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
    call_command(
        "makemessages",
        locale=LANGUAGES,
        domain="django",
        extensions=["html", "txt", "py"],
        ignore_patterns=IGNORE,
        no_obsolete=True,
        add_location="file",
        verbosity=1,
    )


if __name__ == "__main__":
    os.chdir(ROOT)
    main(sys.argv)

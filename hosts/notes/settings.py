"""A host of the tests' own, made like a fresh ``startproject`` then set up from the quickstart:
the default user model, a ``notes`` app (notebooks owned by a group, notes with a status), its
own base template whose content block is called ``main``, and Django's own login page."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "notes-host-tests-only-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # from the quickstart
    "django_htmx",
    "django_filters",
    "actstream",
    "activityui",
    "hosts.notes.notes",
]

# startproject's list, then the quickstart's two lines; the CSP middleware as a careful host has
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "activityui.middleware.ActivityUIMiddleware",
]

ROOT_URLCONF = "hosts.notes.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # a file, not shared memory: the live server's thread and the test wait on each other
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
# a read replica for ACTIVITYUI["READ_DATABASE"] (tests/test_read_database.py), as in
# docs/recipes.md: in tests a mirror of the default database, reached by a connection of its own
DATABASES["replica"] = {
    **DATABASES["default"],
    "ATOMIC_REQUESTS": False,
    "TEST": {**DATABASES["default"].get("TEST", {}), "MIRROR": "default"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# Django's own login page (django.contrib.auth.urls under accounts/): the default LOGIN_URL
LOGIN_REDIRECT_URL = "/"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

ACTSTREAM_SETTINGS = {"USE_JSONFIELD": True}

ACTIVITYUI = {
    "BASE_TEMPLATE": "notes/base.html",
    "CONTENT_BLOCK": "main",
    "DEFAULT_FEED": "notebooks",
}

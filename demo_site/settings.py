"""Settings of the Teamboard demo site (and of the test suite)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def _demo_secret_key() -> str:
    """DJANGO_SECRET_KEY, else a key made for this checkout on first use and kept in a
    git-ignored file (DJANGO_SECRET_KEY_FILE, default .demo-secret-key): never in the repository."""
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    path = Path(os.environ.get("DJANGO_SECRET_KEY_FILE", BASE_DIR / ".demo-secret-key"))
    try:
        # O_EXCL: of several processes starting at once, one writes and the others read
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _attempt in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)  # another process is writing it
        raise ImproperlyConfigured(f"{path} is empty: delete it or set DJANGO_SECRET_KEY") from None
    key = get_random_secret_key()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


SECRET_KEY = _demo_secret_key()
# off unless asked for (DJANGO_DEBUG=1): a visitor never gets a traceback, only templates/500.html
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "actstream",
    "activityui",
    "demo_site.demo",
]

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

ROOT_URLCONF = "demo_site.urls"

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

WSGI_APPLICATION = "demo_site.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        # a connection kept across requests is checked before reuse: after a database restart
        # (or a failover) the first request reconnects instead of failing with a 500
        conn_health_checks=True,
    )
}
# every request is one transaction: a change and its action commit or roll back together
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked": every
    # transaction takes the write lock when it begins (a deferred one that read first cannot
    # upgrade its lock while another writes, and fails at once), a busy timeout bounds the
    # wait, and WAL lets readers go on during a write (docs/security.md: Settings)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests on SQLite use a file, not the shared in-memory database: with shared cache, a
    # request still running in the live server's thread makes other connections fail at once
    # with "database table is locked"; a file database waits (busy timeout) instead.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}

# Django's cache: local memory (one per process) unless REDIS_URL names a Redis, then Django's
# own Redis backend (`pip install activityui[redis]`), shared by every worker: the poll memo,
# the rendered rows and cached sessions. Short socket timeouts: a Redis that is down costs a
# miss, not a hung request (activityui treats a failing cache as a miss).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "activityui.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

# Sessions live where every process reads them, so signing out ends a session in every worker:
# the database, or the cache in front of it only when that cache is shared (REDIS_URL). A
# per-process cache (local memory) would keep a signed-out session alive in the other workers.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if os.environ.get("REDIS_URL")
    else "django.contrib.sessions.backends.db"
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Django's ModelBackend with a user's permissions read in one query instead of two (the
# navigation asks for the staff console's permission on every page)
AUTHENTICATION_BACKENDS = ["demo_site.demo.auth.ModelBackendOneQuery"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

ACTSTREAM_SETTINGS = {
    "USE_JSONFIELD": True,
    "FETCH_RELATIONS": True,
}

ACTIVITYUI = {
    "BASE_TEMPLATE": "demo/base.html",
    "DEFAULT_FEED": "team",
    "POLL_INTERVAL": int(os.environ.get("ACTIVITYUI_POLL_INTERVAL", "10")),
}

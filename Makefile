# activityui: the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/activityui
# `make test` runs with Django's Redis cache (REDIS_URL) when a Redis answers at 127.0.0.1:6379:
# the poll memo, the rendered rows and cached sessions then go through Redis, as with several
# workers. This database number is emptied by the tests (FLUSHDB, never FLUSHALL): not 0.
REDIS_TEST_DB ?= 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test test-sqlite test-postgres test-django60 lint typecheck messages install browser clean

help:
	@echo "make demo   - install, migrate and seed a SQLite database, serve http://127.0.0.1:8000/"
	@echo "make test   - ruff, mypy --strict, then every test on SQLite and on PostgreSQL, under a"
	@echo "              floor of branch coverage of activityui/ (pyproject.toml: fail_under)"

# A Python >= 3.12: on the PATH first, then under pyenv.
$(PY):
	@py=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
	$(PY) -m pip install -q --disable-pip-version-check -e . --group dev
	@touch $(STAMP)

install: $(STAMP)

# Django 6.0, the older supported version, in a virtualenv of its own
VENV60 := .venv-django60
STAMP60 := $(VENV60)/.installed
$(STAMP60): pyproject.toml
	@py=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV60) with $$py (Django 6.0)"; \
	"$$py" -m venv $(VENV60)
	$(VENV60)/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
	$(VENV60)/bin/python -m pip install -q --disable-pip-version-check -e . --group dev "django>=6.0,<6.1"
	@touch $(STAMP60)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@if [ ! -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

demo: $(STAMP)
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo --if-empty
	@echo
	@echo "  Teamboard demo: http://127.0.0.1:8000/"
	@echo "  Sign in as alice, bob (team Apollo), carol (team Zephyr) or staff; password: demo"
	@echo
	@# DEBUG stays off (no traceback to a visitor; DJANGO_DEBUG=1 make demo turns it on):
	@# --insecure serves the static files all the same
	$(PY) manage.py runserver --insecure 127.0.0.1:8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy --strict with django-stubs on activityui/ (configured in pyproject.toml)
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# extract activityui's strings into activityui/locale/fr/LC_MESSAGES/django.po and compile the
# .mo file with Django's own commands, run inside the package (needs GNU gettext: apt-get install
# gettext; the .mo files are committed, so sites that install the wheel need no gettext)
messages: $(STAMP)
	cd activityui && ../$(VENV)/bin/django-admin makemessages -l fr --no-obsolete \
	  --add-location file -e html,txt,py -i migrations
	cd activityui && ../$(VENV)/bin/django-admin compilemessages -l fr

# test hosts of the tests' own (hosts/<name>/, each with its own settings): see hosts/__init__.py
HOSTS := notes uuidsite
# every pytest run under coverage (branch, parallel: [tool.coverage] in pyproject.toml); `make
# test` joins the runs' data and fails below the floor (fail_under) when both databases ran
PYTEST := $(VENV)/bin/coverage run -m pytest
COVERAGE := $(VENV)/bin/coverage

test-sqlite: $(STAMP) browser
	@echo "=== pytest on SQLite ==="
	env -u DATABASE_URL AUI_REQUIRE_BROWSER=1 $(PYTEST)
	@set -e; for host in $(HOSTS); do \
	  echo "=== pytest: host $$host on SQLite ==="; \
	  env -u DATABASE_URL AUI_REQUIRE_BROWSER=1 $(PYTEST) hosts/$$host --ds=hosts.$$host.settings; \
	done

test-postgres: $(STAMP) browser
	@url="$${TEST_DATABASE_URL:-$(PG_URL)}"; \
	echo "=== pytest on PostgreSQL ($${url%%@*}@…) ==="; \
	DATABASE_URL="$$url" AUI_REQUIRE_BROWSER=1 $(PYTEST) || exit 1; \
	for host in $(HOSTS); do \
	  echo "=== pytest: host $$host on PostgreSQL ==="; \
	  DATABASE_URL="$$url" AUI_REQUIRE_BROWSER=1 $(PYTEST) hosts/$$host --ds=hosts.$$host.settings || exit 1; \
	done

test: $(STAMP) browser lint typecheck
	@$(COVERAGE) erase
	@if [ -z "$$REDIS_URL" ] && $(PY) scripts/redis_ready.py; then \
	  export REDIS_URL=redis://127.0.0.1:6379/$(REDIS_TEST_DB); \
	fi; \
	echo "=== cache: $${REDIS_URL:-local memory (no Redis at 127.0.0.1:6379)} ==="; \
	$(MAKE) --no-print-directory test-sqlite || exit 1; \
	$(MAKE) --no-print-directory test-django60 || exit 1; \
	floor=; \
	if [ -n "$$TEST_DATABASE_URL" ] || $(PY) scripts/pg_ready.py; then \
	  $(MAKE) --no-print-directory test-postgres || exit 1; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
	  echo "PostgreSQL is required (REQUIRE_POSTGRES) but none answers at 127.0.0.1:5432"; exit 1; \
	else \
	  echo "No PostgreSQL at 127.0.0.1:5432 and no TEST_DATABASE_URL: the PostgreSQL run is left out"; \
	  echo "(the coverage floor needs both databases: reported, not enforced)"; \
	  floor=--fail-under=0; \
	fi; \
	echo "=== branch coverage of activityui/, every run combined ==="; \
	$(COVERAGE) combine -q && $(COVERAGE) report $$floor

# the suite once more with Django 6.0, on SQLite; the browser tests run with 6.1 only
test-django60: $(STAMP60)
	@echo "=== pytest on SQLite with Django $$($(VENV60)/bin/python -m django --version) (browser tests: 6.1 only) ==="
	env -u DATABASE_URL $(VENV60)/bin/pytest tests --ignore=tests/browser -q

clean:
	rm -rf $(VENV) $(VENV60) db.sqlite3 build dist .pytest_cache .coverage .coverage.*

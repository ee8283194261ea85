"""Test hosts: small Django sites of the tests' own (not the demo) that use activityui the way a
host site would. Each hosts/<name>/ has its own settings, models, base template and login page,
and its tests run with ``pytest hosts/<name> --ds=hosts.<name>.settings`` (``make test`` runs
every one listed in the Makefile's HOSTS, on SQLite and on PostgreSQL)."""

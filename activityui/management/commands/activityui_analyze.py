"""Refresh the query planner's statistics of actstream's tables.

SQLite keeps no statistics until ANALYZE runs, and without them it may read a feed through a
single-column index and sort, instead of walking a composite (type, id, timestamp, id) index:
run this after a bulk import and from time to time (a cron job, a deploy step). PostgreSQL's
autovacuum usually keeps them fresh; the command is then only needed right after a bulk load.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

TABLES = ("actstream_action", "actstream_follow")
SQLITE_ANALYSIS_LIMIT = 2000  # rows sampled per index: seconds become milliseconds at 1M rows


class Command(BaseCommand):
    help = "Refresh the planner statistics of actstream's action and follow tables (ANALYZE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--full",
            action="store_true",
            help="SQLite: read every row instead of a sample (slower, rarely better)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        started = time.monotonic()
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                limit = 0 if options["full"] else SQLITE_ANALYSIS_LIMIT
                cursor.execute(f"PRAGMA analysis_limit = {int(limit)}")
            for table in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        elapsed = time.monotonic() - started
        self.stdout.write(f"Analyzed {', '.join(TABLES)} in {elapsed:.2f} s.")

"""``manage.py activityui_reindex``: fill the text index with actions it does not hold yet.

Actions written by ``bulk_create``, raw SQL or before the index existed are not indexed by
capture. This walks the action ids in ranges, each range in its own transaction, and indexes
what is missing, with a progress bar. Interrupted, it resumes: run it again (ranges already
done are skipped after one read of the index), or start at the id it printed
(``--start-id``). ``--rebuild`` rewrites every action's words (after a change of the rule).
"""

from __future__ import annotations

import time
from typing import Any

from actstream.models import Action
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Max, Min

from activityui import search


class Command(BaseCommand):
    help = "Index the words of actions missing from the text index (resumable, by id range)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument("--start-id", type=int, default=None, help="resume at this id")
        parser.add_argument(
            "--rebuild", action="store_true", help="rewrite the words of every action"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        batch = options["batch_size"]
        if batch <= 0:
            raise CommandError("--batch-size must be greater than zero.")
        if not search.supported(alias):
            raise CommandError("This database has no text index (PostgreSQL or SQLite only).")
        bounds = Action.objects.using(alias).aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            self.stdout.write("No actions to index.")
            return
        low = max(bounds["low"], options["start_id"] or bounds["low"])
        high = bounds["high"] + 1
        total_span = max(high - low, 1)
        written = 0
        started = time.monotonic()
        show = not options["no_progress"]
        start = low
        while start < high:
            end = min(start + batch, high)
            with transaction.atomic(using=alias):
                written += search.reindex_range(alias, start, end, rebuild=options["rebuild"])
            start = end
            if show:
                self._progress((start - low) / total_span, written, start, started)
        if show:
            self.stderr.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(f"Indexed {written} actions in {elapsed:.1f} s.")

    def _progress(self, fraction: float, written: int, next_id: int, started: float) -> None:
        width = 30
        filled = int(width * fraction)
        bar = "#" * filled + "-" * (width - filled)
        rate = written / max(time.monotonic() - started, 1e-6)
        self.stderr.write(
            f"\r[{bar}] {fraction:6.1%}  {written} indexed  {rate:,.0f}/s  "
            f"(resume: --start-id {next_id})",
            ending="",
        )
        self.stderr.flush()

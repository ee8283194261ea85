from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from demo_site.demo import seed


class Command(BaseCommand):
    help = "Create the Teamboard demo users, teams, projects, tasks and a year of history."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="random seed (deterministic)")
        parser.add_argument("--tasks", type=int, default=seed.DEFAULT_TASKS)
        parser.add_argument(
            "--actions",
            type=int,
            default=0,
            help="bulk-insert synthetic actions until this many exist (e.g. 1000000)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the demo is already seeded"
        )

    def handle(self, *args, **options):
        if options["actions"] < 0 or options["tasks"] < 1:
            raise CommandError("--actions must be >= 0 and --tasks >= 1")
        started = time.monotonic()
        if seed.is_seeded():
            self.stdout.write("The demo is already seeded.")
            if options["if_empty"] and not options["actions"]:
                return
        else:
            made = seed.seed(seed_value=options["seed"], tasks=options["tasks"])
            self.stdout.write(f"Seeded the demo: {made} actions through the capture path.")
        if options["actions"]:
            added = seed.bulk_actions(
                options["actions"], seed_value=options["seed"], progress=self._progress(started)
            )
            self.stdout.write(f"Bulk-inserted {added} actions.")
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # as autovacuum would have by the time a live site holds this many actions: a
                # bulk-loaded table has no visibility map, so every count (the staff console's,
                # a day filter's) reads the heap (10M: 11 s here; a day's count 16 → 2 ms)
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM (ANALYZE)")
            elif connection.vendor in {"sqlite", "postgresql"}:  # (VACUUM needs no transaction)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")

    def _progress(self, started: float):
        def report(done: int, missing: int) -> None:
            self.stdout.write(
                f"  {done:,} / {missing:,} actions ({100 * done // missing}%), "
                f"{time.monotonic() - started:.0f} s"
            )
            large = missing > seed.REBUILD_INDEXES_OVER
            if done == missing and large and connection.vendor == "postgresql":
                self.stdout.write("  building the indexes again (a few minutes at 10M)…")

        return report

"""``manage.py prune_activity``: delete old actions in small batches; follows are kept."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from actstream.models import Action
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from activityui.conf import app_settings

DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> dt.timedelta:
    """``"400d"``, ``"12w"``, ``"36h"`` as a timedelta; anything else is a CommandError."""
    match = DURATION.match(value or "")
    if match is None:
        raise CommandError(
            f"--older-than {value!r} is not a duration: use a whole number followed by "
            "h (hours), d (days) or w (weeks), e.g. 400d, 12w or 36h."
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise CommandError(f"--older-than {value!r} must be greater than zero.")
    try:
        return dt.timedelta(**{UNITS[unit]: amount})
    except OverflowError as exc:
        raise CommandError(f"--older-than {value!r} is too large.") from exc


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise CommandError(f"--batch-size {value!r} must be a whole number greater than zero.")
    return number


class Command(BaseCommand):
    help = (
        "Delete activity (actstream actions) older than a given age, in batches by primary "
        "key so the table is never locked for long. Follows are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            metavar="AGE",
            help="Age of the actions to delete, e.g. 400d, 12w, 36h "
            "(default: ACTIVITYUI['RETENTION_DAYS'] days).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be deleted, delete nothing.",
        )
        parser.add_argument(
            "--batch-size",
            default="1000",
            metavar="N",
            help="Actions deleted per statement and transaction (default 1000).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias to prune (default: 'default'; never a read replica).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        age = self.age(options["older_than"])
        batch_size = positive_int(str(options["batch_size"]))
        using: str = options["database"]
        try:
            cutoff = timezone.now() - age
        except OverflowError as exc:
            raise CommandError(f"--older-than {options['older_than']!r} is too large.") from exc
        old = Action.objects.using(using).filter(timestamp__lt=cutoff)
        summary = old.aggregate(count=Count("pk"), oldest=Min("timestamp"), newest=Max("timestamp"))
        total: int = summary["count"]
        when = f"older than {self.describe(age)} (before {cutoff:%Y-%m-%d %H:%M %Z})"
        if not total:
            self.stdout.write(f"No actions {when}.")
            return
        by_verb = old.order_by().values("verb").annotate(n=Count("pk")).order_by("-n", "verb")
        breakdown = ", ".join(f"{row['n']} {row['verb']!r}" for row in by_verb)
        span = f"{summary['oldest']:%Y-%m-%d} to {summary['newest']:%Y-%m-%d}"
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: would delete {total} action(s) {when}, from {span}: {breakdown}. "
                "Nothing was deleted."
            )
            return
        deleted, batches = self.delete_in_batches(old, batch_size, using)
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {deleted} action(s) {when}, from {span}, in {batches} batch(es): "
                f"{breakdown}. Follows were kept."
            )
        )

    def age(self, value: str | None) -> dt.timedelta:
        if value is not None:
            return parse_duration(value)
        days = app_settings.RETENTION_DAYS
        if not days:
            raise CommandError(
                "Give --older-than (e.g. 400d): ACTIVITYUI['RETENTION_DAYS'] is not set."
            )
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise CommandError(
                f"ACTIVITYUI['RETENTION_DAYS'] must be a whole number of days, not {days!r}."
            )
        return dt.timedelta(days=days)

    def describe(self, age: dt.timedelta) -> str:
        if age.seconds == 0:
            return f"{age.days} days"
        return f"{int(age.total_seconds() // 3600)} hours"

    def delete_in_batches(self, old: Any, batch_size: int, using: str) -> tuple[int, int]:
        """Delete ``old`` in primary-key ranges of at most ``batch_size`` rows.

        Each batch is one short transaction: find the next ``batch_size`` keys (index scan),
        then delete that key range. New actions are never touched: the age filter stays on.
        """
        deleted = batches = 0
        last_pk: int | None = None
        while True:
            keys = old.order_by("pk")
            if last_pk is not None:
                keys = keys.filter(pk__gt=last_pk)
            ids = list(keys.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted, batches
            with transaction.atomic(using=using):
                # only("pk"): actstream's global pre_delete receiver makes Django load the
                # rows before deleting them; their (large) data column need not come along
                batch = old.filter(pk__gte=ids[0], pk__lte=ids[-1]).only("pk")
                _, per_model = batch.delete()
            count = per_model.get(Action._meta.label, 0)
            deleted += count
            batches += 1
            last_pk = ids[-1]
            if self.verbosity >= 2:
                self.stdout.write(f"  batch {batches}: deleted {count} (ids {ids[0]}–{ids[-1]})")

"""`readerfund reconcile --newsroom SLUG [--since YYYY-MM-DD | --all] [--quiet]`: bring the ledger in line
with Stripe, reading only what is new or may still change; progress on stderr, what changed on stdout."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.reconcile import ReconcileScope, ledger_reconcile


def _day(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day as YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)  # Stripe's times are UTC


class Command(BaseCommand):
    help = (
        "Compare the ledger with Stripe and repair what lost webhooks and lost answers left out. Reads what "
        "was created since the last run and what may still change; --since or --all read settled history too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--newsroom", required=True, help="The newsroom's slug.")
        history = parser.add_mutually_exclusive_group()
        history.add_argument(
            "--since", type=_day, metavar="YYYY-MM-DD", help="Re-read everything created since this day (UTC)."
        )
        history.add_argument(
            "--all", action="store_true", dest="everything", help="Re-read all of the account's history."
        )
        parser.add_argument(
            "--quiet", action="store_true", help="No progress lines (as -v 0); the changes and summary still print."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        newsroom = Newsroom.objects.filter(slug=options["newsroom"]).first()
        if newsroom is None:
            raise CommandError(f"There is no newsroom {options['newsroom']!r}.")
        scope = ReconcileScope(since=options["since"], everything=options["everything"])
        quiet = options["quiet"] or options["verbosity"] == 0
        report = ledger_reconcile(newsroom=newsroom, scope=scope, progress=None if quiet else self._progress)
        for line in report.changes:
            self.stdout.write(line)
        if not report.changes:
            self.stdout.write(f"{newsroom.slug}: nothing to repair ({report.checked} Stripe objects checked).")
        else:
            self.stdout.write(f"{newsroom.slug}: {len(report.changes)} change(s) from {report.checked} Stripe objects.")
        for label, tally in report.tallies.items():
            if tally.read:
                self.stdout.write(f"  {tally.line(label)}")
        for line in report.errors:
            self.stderr.write(f"could not check {line}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} object(s) could not be checked; run it again later.")

    def _progress(self, line: str) -> None:
        # Plain, not in the error colour Django gives stderr: progress is not trouble.
        self.stderr.write(line, style_func=str)
        self.stderr.flush()

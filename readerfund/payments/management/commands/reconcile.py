"""`readerfund reconcile --newsroom SLUG`: bring the ledger in line with Stripe, print what changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.reconcile import ledger_reconcile


class Command(BaseCommand):
    help = "Compare the ledger with Stripe and repair what lost webhooks left out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--newsroom", required=True, help="The newsroom's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        newsroom = Newsroom.objects.filter(slug=options["newsroom"]).first()
        if newsroom is None:
            raise CommandError(f"There is no newsroom {options['newsroom']!r}.")
        report = ledger_reconcile(newsroom=newsroom)
        for line in report.changes:
            self.stdout.write(line)
        if not report.changes:
            self.stdout.write(f"{newsroom.slug}: nothing to repair ({report.checked} Stripe objects checked).")
        else:
            self.stdout.write(f"{newsroom.slug}: {len(report.changes)} change(s) from {report.checked} Stripe objects.")
        for line in report.errors:
            self.stderr.write(f"could not check {line}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} object(s) could not be checked; run it again later.")

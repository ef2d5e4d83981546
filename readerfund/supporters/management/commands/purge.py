"""`readerfund purge --newsroom SLUG [--dry-run]`: erase the supporters who lapsed longer ago than the newsroom's
retention period. Prints their references and a count, never an address or a name."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.newsrooms.models import Newsroom
from readerfund.supporters.retention import supporters_lapsed_purge


class Command(BaseCommand):
    help = (
        "Erase the e-mail address, name and look-up hash of supporters with nothing running and nothing newer "
        "than the newsroom's retention period. The worker runs it daily for every newsroom."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--newsroom", required=True, help="The newsroom's slug.")
        parser.add_argument("--dry-run", action="store_true", help="Say who would be erased; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        newsroom = Newsroom.objects.filter(slug=options["newsroom"]).first()
        if newsroom is None:
            raise CommandError(f"There is no newsroom {options['newsroom']!r}.")
        report = supporters_lapsed_purge(newsroom=newsroom, dry_run=options["dry_run"])
        verb = "would erase" if report.dry_run else "erased"
        for reference in report.references:
            self.stdout.write(f"{verb} {reference}")
        self.stdout.write(
            f"{newsroom.slug}: {verb} {len(report.references)} supporter(s) with nothing since "
            f"{report.cutoff:%Y-%m-%d} ({newsroom.retention_months} months)."
        )

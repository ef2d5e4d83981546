"""`readerfund export payments --newsroom SLUG --format csv [--with-emails --as-user OWNER]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.export import ExportRefused, export_emails_check, payments_export_csv


class _Stdout:
    """csv.writer writes whole rows; Django's OutputWrapper would add a second line ending."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, ending="")
        return len(text)


class Command(BaseCommand):
    help = "Write the ledger's payments as CSV to stdout. No e-mail addresses unless an owner asks for them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["payments"], help="What to export.")
        parser.add_argument("--newsroom", required=True, help="The newsroom's slug.")
        parser.add_argument("--format", choices=["csv"], default="csv", dest="output_format")
        parser.add_argument(
            "--with-emails", action="store_true", help="Add supporters' e-mail addresses (owners only)."
        )
        parser.add_argument("--as-user", default="", help="Your user name; must be an owner for --with-emails.")

    def handle(self, *args: Any, **options: Any) -> None:
        newsroom = Newsroom.objects.filter(slug=options["newsroom"]).first()
        if newsroom is None:
            raise CommandError(f"There is no newsroom {options['newsroom']!r}.")
        with_emails = bool(options["with_emails"])
        if with_emails:
            try:
                export_emails_check(newsroom=newsroom, username=options["as_user"])
            except ExportRefused as exc:
                raise CommandError(str(exc)) from exc
        count = payments_export_csv(newsroom=newsroom, out=_Stdout(self.stdout), with_emails=with_emails)
        self.stderr.write(f"{count} payment(s) exported from {newsroom.slug}.")

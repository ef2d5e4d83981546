"""`readerfund export payments --newsroom SLUG --format csv [--as-of YYYY-MM-DD] [--with-emails --as-user OWNER]`."""

from __future__ import annotations

import re
from datetime import date
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


def _day(text: str) -> date:
    # Exactly YYYY-MM-DD: fromisoformat alone would also take 20260331 or a week date such as 2026-W13-2.
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise CommandError(
        f"--as-of takes a date as YYYY-MM-DD (the payments as they stood at the end of that day, UTC), "
        f"such as 2026-03-31; {text!r} is not one."
    )


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
        parser.add_argument(
            "--as-of",
            default="",
            metavar="YYYY-MM-DD",
            help="Each payment's status and amounts as they stood at the end of that day (UTC); default: now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _day(options["as_of"]) if options["as_of"] else None
        newsroom = Newsroom.objects.filter(slug=options["newsroom"]).first()
        if newsroom is None:
            raise CommandError(f"There is no newsroom {options['newsroom']!r}.")
        with_emails = bool(options["with_emails"])
        if with_emails:
            try:
                export_emails_check(newsroom=newsroom, username=options["as_user"])
            except ExportRefused as exc:
                raise CommandError(str(exc)) from exc
        count = payments_export_csv(newsroom=newsroom, out=_Stdout(self.stdout), with_emails=with_emails, as_of=as_of)
        when = f" as of the end of {as_of.isoformat()} (UTC)" if as_of else ""
        self.stderr.write(f"{count} payment(s) exported from {newsroom.slug}{when}.")

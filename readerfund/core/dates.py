"""Dates as a language writes them, in pages and e-mails: "15 December 2026", "15 декабря 2026 г."."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date


def date_long(day: date, locale: str) -> str:
    """The long form of CLDR (through Babel): what a reader of that language expects in a letter."""
    return format_date(day, format="long", locale="en_GB" if locale.startswith("en") else locale)

"""Reminder date rules. Pure: no Django, so they are tested with tables and hypothesis.

A reader picks a day, not a time: the e-mail goes out at SEND_HOUR on that day in the reader's own time
zone (the embed sends it; it is used for this and not stored), or in UTC when we don't know it.

The earliest day is tomorrow in the reader's own terms. Otherwise anyone could make us e-mail a
newsroom's name to an arbitrary address within seconds (pick today: it is due at once), which for a
newsroom's readers is itself a danger. Not knowing the reader's zone, their "today" is taken as the
latest date anywhere on Earth (UTC+14), so "tomorrow" is tomorrow for everyone. The latest day is a
year after the reader's today (the longest choice a campaign may offer is 365 days).

A day outside that window is moved to its nearest end, and the answer names the day it will be: the
embed shows the server's wording, and a reader whose clock is off still gets one reminder.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

SEND_HOUR = 9
# Kiribati's Line Islands: the first place on Earth where a day begins.
LATEST_UTC_OFFSET = timedelta(hours=14)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def remind_on_parse(text: str) -> date | None:
    """A YYYY-MM-DD date, or None for anything else (including 2027-02-30)."""
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def reader_today(*, now: datetime, zone: tzinfo | None) -> date:
    """The reader's date at `now`: in their zone, or the latest date on Earth when it is unknown."""
    if zone is None:
        return (now.astimezone(UTC) + LATEST_UTC_OFFSET).date()
    return now.astimezone(zone).date()


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def earliest_remind_on(today: date) -> date:
    """`today` is the reader's (reader_today): the earliest day is their tomorrow."""
    return today + timedelta(days=1)


def latest_remind_on(today: date) -> date:
    return one_year_after(today)


def remind_on_within(remind_on: date, *, today: date) -> date:
    """The chosen day, moved into [tomorrow, a year from today] of the reader's `today` if outside it."""
    return min(max(remind_on, earliest_remind_on(today)), latest_remind_on(today))


def send_at(remind_on: date, *, now: datetime, zone: tzinfo | None = None) -> datetime:
    """When the reminder becomes due: SEND_HOUR on the day in the reader's zone (UTC if unknown), or
    `now` if that has passed (which a day from remind_on_within never has)."""
    planned = datetime.combine(remind_on, time(SEND_HOUR), tzinfo=zone or UTC)
    return max(planned.astimezone(UTC), now.astimezone(UTC))

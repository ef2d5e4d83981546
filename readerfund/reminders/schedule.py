"""Reminder date rules. Pure: no Django, so they are tested with tables and hypothesis.

A reader picks a day, not a time: the e-mail goes out at SEND_HOUR_UTC on that day. "Today" is
the server's UTC date, but readers live from UTC-12 to UTC+14, so a reader late in the evening
west of Greenwich may pick their own today, which is already yesterday in UTC: one day of slack
before today is accepted (and then sent at the next scan). The same holds the other way: east of
Greenwich, after local midnight, the embed's "in 365 days" (the longest choice a campaign may
offer) is a year and a day after UTC's today, so one day of slack after a year too.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

SEND_HOUR_UTC = 9
PAST_SLACK_DAYS = 1
FUTURE_SLACK_DAYS = 1
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def remind_on_parse(text: str) -> date | None:
    """A YYYY-MM-DD date, or None for anything else (including 2027-02-30)."""
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def earliest_remind_on(today: date) -> date:
    return today - timedelta(days=PAST_SLACK_DAYS)


def latest_remind_on(today: date) -> date:
    return one_year_after(today) + timedelta(days=FUTURE_SLACK_DAYS)


def remind_on_problem(remind_on: date, *, today: date) -> str | None:
    """None when the date is acceptable, else 'date_in_past' or 'date_too_far'."""
    if remind_on < earliest_remind_on(today):
        return "date_in_past"
    if remind_on > latest_remind_on(today):
        return "date_too_far"
    return None


def send_at(remind_on: date, *, now: datetime) -> datetime:
    """When the reminder becomes due: SEND_HOUR_UTC on the day, or `now` if that has passed."""
    planned = datetime.combine(remind_on, time(SEND_HOUR_UTC), tzinfo=UTC)
    return max(planned, now.astimezone(UTC))

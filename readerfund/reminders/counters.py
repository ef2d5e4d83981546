"""Aggregate reminder counts, the only record kept once addresses are erased."""

from __future__ import annotations

from datetime import date

from readerfund.core.counting import counter_add
from readerfund.reminders.models import ReminderDailyCount

EVENTS = ("scheduled", "moved", "sent", "cancelled")


def reminder_count(*, newsroom_id: int, day: date, event: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown reminder event {event!r}")
    counter_add(ReminderDailyCount, key={"newsroom_id": newsroom_id, "day": day}, increments={event: 1})

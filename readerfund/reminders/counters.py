"""Aggregate reminder counts, the only record kept once addresses are erased."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from readerfund.reminders.models import ReminderDailyCount

EVENTS = ("scheduled", "moved", "sent", "cancelled")


def reminder_count(*, newsroom_id: int, day: date, event: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown reminder event {event!r}")
    rows = ReminderDailyCount.objects.filter(newsroom_id=newsroom_id, day=day)
    if rows.update(**{event: F(event) + 1}):
        return
    try:
        with transaction.atomic():
            ReminderDailyCount.objects.create(newsroom_id=newsroom_id, day=day, **{event: 1})
    except IntegrityError:
        rows.update(**{event: F(event) + 1})

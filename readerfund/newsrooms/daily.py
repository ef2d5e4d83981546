"""Work done once a day per newsroom, whichever of several workers scans first.

Each such job keeps the time of its last run in a field of the newsroom's row; a worker claims a
newsroom's day with one conditional UPDATE of that field, so two workers scanning at once never both
run it. The retention purge (supporters/retention.py) and the look at expiring cards
(payments/card_expiry.py) go through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from readerfund.newsrooms.models import Newsroom


def newsrooms_due(*, stamp: str, every: timedelta, now: datetime) -> Iterator[Newsroom]:
    """The newsrooms whose `stamp` field is older than `every`, each claimed (stamped `now`) before it is
    yielded: a newsroom another worker claimed meanwhile is skipped."""
    for newsroom in Newsroom.objects.order_by("id"):
        due = Newsroom.objects.filter(id=newsroom.id).exclude(**{f"{stamp}__gt": now - every})
        if due.update(**{stamp: now}):
            yield newsroom

"""Retention: erase the address and name of supporters who lapsed longer ago than the newsroom keeps them.

"Lapsed" is: no contribution active, past due, paused or pending, and nothing newer than the newsroom's
`retention_months` (the supporter's creation, a contribution's last change, a payment). Each is erased
as "Erase my data" erases (supporters/data.py supporter_lapsed_erase): the address, name and look-up
hash, the Customers at Stripe (which hold the address and the name on the card), the links to them,
the sign-ins; without an e-mail (an unasked message naming the outlet is a risk of its own), and
keeping a reminder they asked for. The references, amounts and dates stay for the newsroom's accounts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from readerfund.newsrooms.daily import newsrooms_due
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, Payment, Supporter
from readerfund.supporters.data import supporter_lapsed_erase

# These may still take money or need the reader: never erased under them.
# A paused plan resumes charging by itself on its date.
RUNNING = (
    Contribution.Status.ACTIVE,
    Contribution.Status.PAST_DUE,
    Contribution.Status.PENDING,
    Contribution.Status.PAUSED,
)
PURGE_EVERY = timedelta(days=1)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier, on the month's last day when it is shorter (31 March → 28 Feb)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class PurgeReport:
    newsroom: str
    cutoff: datetime
    dry_run: bool
    references: list[str] = field(default_factory=list)


def supporters_lapsed(*, newsroom: Newsroom, cutoff: datetime) -> QuerySet[Supporter]:
    running = Contribution.objects.filter(supporter=OuterRef("pk"), status__in=RUNNING)
    last_change = Contribution.objects.filter(supporter=OuterRef("pk")).order_by("-updated_at").values("updated_at")
    last_payment = Payment.objects.filter(contribution__supporter=OuterRef("pk")).order_by("-paid_at").values("paid_at")
    return (
        Supporter.objects.filter(newsroom=newsroom, erased_at__isnull=True)
        .exclude(Exists(running))
        .annotate(
            # GREATEST of a NULL is NULL on SQLite: each part falls back to the supporter's creation.
            last_activity=Greatest(
                F("created_at"),
                Coalesce(Subquery(last_change[:1]), F("created_at")),
                Coalesce(Subquery(last_payment[:1]), F("created_at")),
            )
        )
        .filter(last_activity__lt=cutoff)
        .order_by("id")
    )


def supporters_lapsed_purge(*, newsroom: Newsroom, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Erase every lapsed supporter of the newsroom, one at a time; idempotent."""
    now = now or timezone.now()
    cutoff = months_before(now, newsroom.retention_months)
    report = PurgeReport(newsroom=newsroom.slug, cutoff=cutoff, dry_run=dry_run)
    candidates = list(supporters_lapsed(newsroom=newsroom, cutoff=cutoff).values_list("id", "reference"))
    if dry_run:
        report.references = [reference for _, reference in candidates]
        return report
    for supporter_id, reference in candidates:
        # One supporter at a time: Stripe answers outside any transaction, the write is short, and the
        # supporter is checked again under a lock, so one who came back since the read keeps their data.
        still = supporters_lapsed(newsroom=newsroom, cutoff=cutoff).filter(id=supporter_id).exists
        if supporter_lapsed_erase(supporter=Supporter(id=supporter_id), still_lapsed=still, now=now):
            report.references.append(reference)
    return report


def supporters_lapsed_purge_due(*, now: datetime) -> int:
    """Periodic (readerfund worker): each newsroom's purge, once a day, whichever worker claims the day."""
    return sum(
        len(supporters_lapsed_purge(newsroom=newsroom, now=now).references)
        for newsroom in newsrooms_due(stamp="retention_purged_at", every=PURGE_EVERY, now=now)
    )

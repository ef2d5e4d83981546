"""Cards about to expire: a notice a month ahead, read from Stripe on the day (a periodic job of the worker).

The expiry is never stored: card updaters replace cards silently (a new expiry, or a new card), so a stored
date goes stale. Once a day per newsroom (the day claimed on its row, as the retention purge does), each
running plan's card is read from its own Customer; a card that stops within CARD_EXPIRY_NOTICE_DAYS gets one
notice, once per card and expiry (the outbox's message key `card-expiring-<card>-<yyyymm>`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from readerfund.newsrooms.daily import newsrooms_due
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Contribution, Frequency
from readerfund.payments.notices import card_expiring_notify
from readerfund.payments.provider import GatewayError
from readerfund.payments.retry_schedule import card_expiry_notice_due

logger = logging.getLogger(__name__)
CHECK_EVERY = timedelta(hours=23)
Status = Contribution.Status


def _running(newsroom: Newsroom) -> list[Contribution]:
    return list(
        Contribution.objects.select_related("newsroom", "supporter")
        .filter(
            newsroom=newsroom,
            frequency__in=[Frequency.MONTHLY, Frequency.ANNUAL],
            status__in=[Status.ACTIVE, Status.PAUSED],
            cancels_at__isnull=True,
            supporter__erased_at__isnull=True,
        )
        .exclude(provider_customer_id="")
        .order_by("id")
    )


def _manage_url(contribution: Contribution) -> str:
    slug = contribution.newsroom.slug
    return (
        settings.SITE_URL + reverse("supporters-signin", args=[slug]) + "?" + urlencode({"locale": contribution.locale})
    )


def cards_expiring_notify(*, newsroom: Newsroom, now: datetime | None = None) -> int:
    """Queue the notice for each running plan of the newsroom whose card, as Stripe has it now, expires soon."""
    today = (now or timezone.now()).date()
    queued = 0
    with gateway.account_use(account_for(newsroom)):
        for contribution in _running(newsroom):
            try:
                card_id = gateway.customer_default_payment_method_get(customer_id=contribution.provider_customer_id)
                card = gateway.payment_method_get(payment_method_id=card_id) if card_id else None
            except GatewayError as error:  # one unreadable customer must not stop the others
                logger.warning("card of contribution %s unreadable: %s", contribution.id, error.kind)
                continue
            if card is None or card.type != "card":
                continue
            due = card_expiry_notice_due(
                today=today,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
                ahead_days=settings.CARD_EXPIRY_NOTICE_DAYS,
            )
            if due and card_expiring_notify(
                contribution=contribution,
                card_id=card.id,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
                last4=card.last4,
                manage_url=_manage_url(contribution),
            ):
                queued += 1
    return queued


def cards_expiring_notify_due(*, now: datetime) -> int:
    """Periodic (readerfund worker): each newsroom's look at its cards, once a day, whichever worker claims it."""
    return sum(
        cards_expiring_notify(newsroom=newsroom, now=now)
        for newsroom in newsrooms_due(stamp="cards_checked_at", every=CHECK_EVERY, now=now)
    )

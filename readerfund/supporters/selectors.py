"""What the supporter's page reads: only the signed-in supporter's own rows, found by id or not at all.

Every look-up by an id from a URL or a form goes through here, scoped to the supporter: another person's
contribution or payment id answers 404, exactly as an id that does not exist (the page must not tell a
prober which ids are real).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from readerfund.core.money import Money
from readerfund.payments.models import Contribution, Frequency, Payment, Supporter

Status = Contribution.Status
# The statuses a supporter can still change something of (payments/changes.py decides the rest).
CHANGEABLE = (Status.ACTIVE, Status.PAUSED, Status.PAST_DUE)


def supporter_contribution(*, supporter: Supporter, contribution_id: int) -> Contribution:
    """The supporter's own contribution, or Http404."""
    return get_object_or_404(
        Contribution.objects.select_related("newsroom", "supporter"),
        id=contribution_id,
        supporter=supporter,
        newsroom=supporter.newsroom,
    )


def supporter_payment(*, supporter: Supporter, payment_id: int) -> Payment:
    """A payment of one of the supporter's own contributions, or Http404."""
    return get_object_or_404(
        Payment.objects.select_related("contribution", "newsroom"),
        id=payment_id,
        contribution__supporter=supporter,
        newsroom=supporter.newsroom,
    )


def supporter_contributions(*, supporter: Supporter) -> list[Contribution]:
    return list(supporter.contributions.order_by("-created_at", "-id"))


def supporter_payments(*, supporter: Supporter, year: int | None = None) -> list[Payment]:
    """The supporter's payments, newest first; of one calendar year (UTC) when `year` is given."""
    payments = Payment.objects.select_related("contribution").filter(
        contribution__supporter=supporter, newsroom=supporter.newsroom
    )
    if year is not None:
        payments = payments.filter(paid_at__year=year)
    return list(payments.order_by("-paid_at", "-id"))


def supporter_payment_years(*, supporter: Supporter) -> list[int]:
    dates = Payment.objects.filter(contribution__supporter=supporter).dates("paid_at", "year", order="DESC")
    return [day.year for day in dates]


def contribution_changeable(contribution: Contribution) -> bool:
    return contribution.frequency != Frequency.ONE_OFF and contribution.status in CHANGEABLE


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    paid: Money
    refunded: Money  # refunds and what lost disputes took back
    net: Money


def statement_totals(payments: list[Payment]) -> list[CurrencyTotal]:
    """Per currency, in alphabetical order: what was paid, what went back, what the newsroom kept."""
    by_currency: dict[str, tuple[int, int]] = {}
    for payment in payments:
        paid, back = by_currency.get(payment.currency, (0, 0))
        taken_back = min(payment.amount, payment.amount_refunded + payment.amount_disputed)
        by_currency[payment.currency] = (paid + payment.amount, back + taken_back)
    return [
        CurrencyTotal(currency, Money(paid, currency), Money(back, currency), Money(paid - back, currency))
        for currency, (paid, back) in sorted(by_currency.items())
    ]

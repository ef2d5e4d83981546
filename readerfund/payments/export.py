"""The ledger's payments as CSV for the newsroom's accounts, without personal data unless an owner asks.

Each row carries what a bank statement is reconciled against: what was refunded and when, what disputes
took back and their fee, the net, and Stripe's ids. `as_of` gives every payment as it stood at the end
of that day (UTC), from the dated refund and dispute rows, so exporting last month again gives the same
file however the payments changed since; without it, as they stand now.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone

from readerfund.core.money import Money
from readerfund.newsrooms.models import Membership, Newsroom
from readerfund.payments.ledger.refunds import payment_status_derive
from readerfund.payments.models import Dispute, Payment, Refund

HEADER = [
    "date",
    "supporter",
    "amount",
    "currency",
    "frequency",
    "campaign",
    "variant",
    "status",
    "refunded",
    "refunded_at",
    "disputed",
    "dispute_status",
    "dispute_fee",
    "dispute_fee_currency",
    "dispute_opened_at",
    "dispute_closed_at",
    "net",
    "provider_payment_id",
    "provider_charge_id",
    "provider_invoice_id",
]
# A spreadsheet runs a cell starting with one of these as a formula; campaign names are typed by staff.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_CLOSED = {Dispute.Status.WON, Dispute.Status.LOST, Dispute.Status.WARNING_CLOSED}
_INQUIRIES = {
    Dispute.Status.WARNING_NEEDS_RESPONSE,
    Dispute.Status.WARNING_UNDER_REVIEW,
    Dispute.Status.WARNING_CLOSED,
}
# The ledger keeps no history of a dispute's open phases (needs response, under review), only when it
# opened and when it closed: the export names the phase it can date, so one as-of date always reads alike.
OPEN, INQUIRY_OPEN, INQUIRY_CLOSED = "open", "inquiry_open", "inquiry_closed"


@dataclass(frozen=True, slots=True)
class RefundFacts:
    amount: int
    status: str
    created_at: datetime
    status_changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DisputeFacts:
    amount: int
    fee: int
    fee_currency: str
    status: str
    funds_withdrawn: bool
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Standing:
    """A payment as it stood at one moment; amounts in the payment's minor units (the fee in its own)."""

    status: str
    refunded: int
    refunded_at: datetime | None
    disputed: int
    dispute_status: str
    dispute_fee: Money | None  # in the currency Stripe charged it in, which may not be the payment's
    dispute_opened_at: datetime | None
    dispute_closed_at: datetime | None

    def net(self, amount: int) -> int:
        """What the newsroom kept (Payment.amount_net then): less refunds and disputes, before Stripe's fees."""
        return max(0, amount - self.refunded - self.disputed)


def export_cutoff(day: date) -> datetime:
    """The end of `day` in UTC: everything strictly before the next midnight happened by then."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def refund_counted_then(refund: RefundFacts, cutoff: datetime) -> bool:
    """Whether the refund counted against its payment just before `cutoff`."""
    if refund.created_at >= cutoff:
        return False
    if refund.status_changed_at is not None and refund.status_changed_at >= cutoff:
        # Its status changed later: until then it was pending or awaiting action (failed and canceled are
        # final), and those count. A refund that failed after the date still counted on it.
        return True
    return refund.status in Refund.COUNTED


def _dispute_closed_then(dispute: DisputeFacts, cutoff: datetime) -> bool:
    # A closed dispute always has closed_at (ledger/disputes.py); without one, it closed as it opened.
    return dispute.status in _CLOSED and (dispute.closed_at or dispute.created_at) < cutoff


def dispute_status_then(dispute: DisputeFacts, cutoff: datetime) -> str:
    inquiry = dispute.status in _INQUIRIES
    if not _dispute_closed_then(dispute, cutoff):
        return INQUIRY_OPEN if inquiry else OPEN
    return INQUIRY_CLOSED if inquiry else dispute.status


def dispute_withdrawn_then(dispute: DisputeFacts, cutoff: datetime) -> bool:
    """Whether the disputed amount was out of the newsroom's balance just before `cutoff`, as the ledger
    counts it (ledger/refunds.py payment_totals_write): taken by a lost dispute, or withdrawn by an open one."""
    if _dispute_closed_then(dispute, cutoff):
        return dispute.status == Dispute.Status.LOST or dispute.funds_withdrawn
    if dispute.status in _CLOSED:
        # Open then, closed since: Stripe withdraws a chargeback's amount when it opens, an inquiry's never.
        return dispute.status not in _INQUIRIES
    return dispute.funds_withdrawn


def _fee(disputes: list[DisputeFacts], currency: str) -> Money | None:
    fees = [Money(dispute.fee, dispute.fee_currency or currency) for dispute in disputes if dispute.fee]
    return sum(fees[1:], fees[0]) if fees else None


def payment_standing(
    *,
    amount: int,
    currency: str,
    refunds: Sequence[RefundFacts],
    disputes: Sequence[DisputeFacts],
    cutoff: datetime,
) -> Standing:
    """The payment's status and amounts just before `cutoff`, by the ledger's own rules applied to the
    refunds and disputes that existed then. At now, it is what payment_totals_write stored."""
    counted = [refund for refund in refunds if refund_counted_then(refund, cutoff)]
    refunded = sum(refund.amount for refund in counted)
    opened = sorted((dispute for dispute in disputes if dispute.created_at < cutoff), key=lambda d: d.created_at)
    statuses = [dispute_status_then(dispute, cutoff) for dispute in opened]
    withdrawn = [dispute for dispute in opened if dispute_withdrawn_then(dispute, cutoff)]
    latest = opened[-1] if opened else None
    return Standing(
        status=payment_status_derive(
            amount=amount, refunded=refunded, lost=Dispute.Status.LOST in statuses, disputed=OPEN in statuses
        ),
        refunded=min(refunded, amount),
        refunded_at=max((refund.created_at for refund in counted), default=None),
        disputed=min(sum(dispute.amount for dispute in withdrawn), amount),
        dispute_status=statuses[-1] if statuses else "",
        dispute_fee=_fee(withdrawn, currency),
        dispute_opened_at=latest.created_at if latest else None,
        dispute_closed_at=latest.closed_at if latest and _dispute_closed_then(latest, cutoff) else None,
    )


class TextSink(Protocol):
    def write(self, text: str, /) -> object: ...


class ExportRefused(Exception):
    """The caller may not export what they asked for; the message says why and what to do."""


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_emails_check(*, newsroom: Newsroom, username: str | None) -> None:
    """Only an owner of the newsroom may export supporters' e-mail addresses."""
    if not username:
        raise ExportRefused("--with-emails needs --as-user USERNAME, an owner of the newsroom.")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ExportRefused(f"There is no user {username!r}.")
    is_owner = Membership.objects.filter(newsroom=newsroom, user=user, role=Membership.Role.OWNER).exists()
    if not is_owner:
        raise ExportRefused(
            f"{username!r} is not an owner of {newsroom.slug!r}; only owners may export e-mail addresses."
        )


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT) if moment is not None else ""


def _standing(payment: Payment, cutoff: datetime) -> Standing:
    refunds = [
        RefundFacts(amount=r.amount, status=r.status, created_at=r.created_at, status_changed_at=r.status_changed_at)
        for r in payment.refunds.all()
    ]
    disputes = [
        DisputeFacts(
            amount=d.amount,
            fee=d.fee,
            fee_currency=d.fee_currency,
            status=d.status,
            funds_withdrawn=d.funds_withdrawn,
            created_at=d.created_at,
            closed_at=d.closed_at,
        )
        for d in payment.disputes.all()
    ]
    return payment_standing(
        amount=payment.amount, currency=payment.currency, refunds=refunds, disputes=disputes, cutoff=cutoff
    )


def _row(payment: Payment, standing: Standing) -> list[str]:
    contribution = payment.contribution
    money = Money(payment.amount, payment.currency)
    return [
        _time(payment.paid_at),
        contribution.supporter.reference,
        money.major_str(),
        payment.currency,
        contribution.frequency,
        _cell(contribution.campaign.name) if contribution.campaign else "",
        _cell(contribution.variant.key) if contribution.variant else "",
        standing.status,
        Money(standing.refunded, payment.currency).major_str(),
        _time(standing.refunded_at),
        Money(standing.disputed, payment.currency).major_str(),
        standing.dispute_status,
        standing.dispute_fee.major_str() if standing.dispute_fee else "",
        standing.dispute_fee.currency if standing.dispute_fee else "",
        _time(standing.dispute_opened_at),
        _time(standing.dispute_closed_at),
        Money(standing.net(payment.amount), payment.currency).major_str(),
        # Stripe's ids, from its API and events: not typed by staff, but a cell all the same.
        _cell(payment.provider_payment_id),
        _cell(payment.provider_charge_id),
        _cell(payment.provider_invoice_id),
    ]


def payments_export_rows(
    *, newsroom: Newsroom, with_emails: bool = False, as_of: date | None = None
) -> Iterator[list[str]]:
    """The header, then one row per payment paid by then, oldest first. `as_of`: as the payments stood at
    the end of that day (UTC); None: now."""
    yield [*HEADER, "email"] if with_emails else list(HEADER)
    cutoff = export_cutoff(as_of) if as_of is not None else timezone.now()
    payments = (
        Payment.objects.filter(newsroom=newsroom, paid_at__lt=cutoff)
        .select_related("contribution__supporter", "contribution__campaign", "contribution__variant")
        .prefetch_related(
            Prefetch("refunds", queryset=Refund.objects.filter(created_at__lt=cutoff)),
            Prefetch("disputes", queryset=Dispute.objects.filter(created_at__lt=cutoff).order_by("created_at", "id")),
        )
        .order_by("paid_at", "id")
    )
    for payment in payments.iterator(chunk_size=500):
        row = _row(payment, _standing(payment, cutoff))
        if with_emails:
            row.append(_cell(payment.contribution.supporter.email or ""))
        yield row


def payments_export_csv(
    *, newsroom: Newsroom, out: TextSink, with_emails: bool = False, as_of: date | None = None
) -> int:
    """Write the newsroom's payments to `out`; returns the number of payments written."""
    writer = csv.writer(out, lineterminator="\n")
    count = -1
    for row in payments_export_rows(newsroom=newsroom, with_emails=with_emails, as_of=as_of):
        writer.writerow(row)
        count += 1
    return count

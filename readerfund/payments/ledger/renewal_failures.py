"""A failed renewal's record (RenewalFailure), written by the ledger as the provider's state says.

Three moments, each called inside the ledger's transaction that wrote the status or the payment, so a
replayed or duplicated event finds the row and changes nothing:
- the first failure of a renewal invoice opens the record, schedules our first retry (unless the newsroom
  uses Stripe's Smart Retries) and e-mails the supporter a link to replace the card, once per invoice;
- a payment of that invoice afterwards makes it recovered, with the amount and the days it took;
- the plan ending while it is open closes it (the status writer calls it on every move to canceled): after
  the last retry with a polite e-mail, otherwise (the supporter canceled) quietly, since the supporter's
  own cancel has its confirmation.

The worker's retries, which call the provider, are in payments/dunning.py.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from readerfund.payments.ledger.records import when
from readerfund.payments.models import Contribution, ContributionChange, RenewalFailure
from readerfund.payments.notices import renewal_ended_notify, renewal_failed_notify
from readerfund.payments.provider import GatewayInvoice
from readerfund.payments.retry_schedule import days_between, retry_plan

Status = RenewalFailure.Status


def retry_days() -> tuple[int, ...]:
    return tuple(settings.RENEWAL_RETRY_DAYS)


def renewal_failure_open(
    *, contribution: Contribution, invoice: GatewayInvoice, now: datetime | None = None
) -> RenewalFailure:
    """The renewal invoice's failure record, made at its first failure (with the e-mail) and found after."""
    now = now or timezone.now()
    smart = contribution.newsroom.stripe_smart_retries
    plan = retry_plan(first_failed_at=now, retries_made=0, days=retry_days(), smart_retries=smart)
    failure, created = RenewalFailure.objects.get_or_create(
        newsroom_id=contribution.newsroom_id,
        provider_invoice_id=invoice.id,
        defaults={
            "contribution": contribution,
            "amount": invoice.amount_due or contribution.amount,
            "currency": (invoice.currency or contribution.currency).upper(),
            "first_failed_at": now,
            "next_retry_at": plan.next_retry_at,
        },
    )
    if created:
        renewal_failed_notify(contribution=contribution, failure=failure)
    return failure


def renewal_failure_recovered(
    *, contribution: Contribution, invoice: GatewayInvoice, paid_at: datetime | None
) -> RenewalFailure:
    """The invoice was paid after a failure: a recovery, counted once. A recovery heard of before its
    failure (events out of order, or a reconcile from nothing) is recorded from the invoice's own date."""
    paid_at = paid_at or timezone.now()
    failure, _ = RenewalFailure.objects.get_or_create(
        newsroom_id=contribution.newsroom_id,
        provider_invoice_id=invoice.id,
        defaults={
            "contribution": contribution,
            "amount": invoice.amount_due or invoice.amount_paid,
            "currency": invoice.currency.upper(),
            "first_failed_at": when(invoice.created) or paid_at,
        },
    )
    if failure.status == Status.RECOVERED:
        return failure
    failure.status = Status.RECOVERED
    failure.recovered_amount = invoice.amount_paid
    failure.recovered_at = paid_at
    failure.days_to_recover = days_between(failure.first_failed_at, paid_at)
    failure.next_retry_at = None
    failure.retry_claimed_until = None
    failure.closed_at = timezone.now()
    failure.save(
        update_fields=[
            "status",
            "recovered_amount",
            "recovered_at",
            "days_to_recover",
            "next_retry_at",
            "retry_claimed_until",
            "closed_at",
        ]
    )
    return failure


def _canceled_by_supporter(contribution: Contribution) -> bool:
    # Pending too: the supporter's cancel writes the status before it marks its change done.
    return contribution.changes.filter(
        kind=ContributionChange.Kind.CANCEL,
        status__in=[ContributionChange.Status.PENDING, ContributionChange.Status.DONE],
    ).exists()


def renewal_failures_close(*, contribution: Contribution) -> int:
    """The plan has ended: its open failures close. The polite e-mail goes once, and only when the plan
    ended for want of payment (our last retry failed, or Stripe's Smart Retries gave up)."""
    open_failures = list(
        RenewalFailure.objects.select_for_update().filter(contribution_id=contribution.id, status=Status.OPEN)
    )
    if not open_failures:
        return 0
    smart = contribution.newsroom.stripe_smart_retries
    exhausted = any(f.retries_made >= len(retry_days()) for f in open_failures)
    unpaid_end = (exhausted or smart) and not _canceled_by_supporter(contribution)
    now = timezone.now()
    RenewalFailure.objects.filter(id__in=[f.id for f in open_failures]).update(
        status=Status.CANCELED if unpaid_end else Status.CLOSED,
        next_retry_at=None,
        retry_claimed_until=None,
        closed_at=now,
    )
    if unpaid_end:
        renewal_ended_notify(contribution=contribution, failure=open_failures[0])
    return len(open_failures)

"""Our own retries of failed renewals, run by the worker (`renewal_retries_due`, a periodic job).

The policy is payments/retry_schedule.py: a newsroom on Stripe's Smart Retries is left to Stripe (its
failures get no `next_retry_at`); otherwise each open RenewalFailure is charged again on the days of
RENEWAL_RETRY_DAYS after its first failure (the emulator never retries, and a Stripe account without Smart
Retries may not either), and after the last failed retry the plan is canceled at Stripe and in the ledger,
which sends the polite e-mail (payments/ledger/renewal_failures.py).

Each step, and what a worker killed at it leaves behind:
1. claim    UPDATE … SET retry_claimed_until = now + lease WHERE due, open, not claimed, retries_made = n.
            One row updated: this worker owns retry n+1. Killed after: the lease runs out, another claims it.
2. read     The invoice as Stripe has it now: already paid (the supporter's new card, a late webhook), or
            voided, it is synced and nothing is charged.
3. pay      Invoice.pay, outside any transaction, idempotency key `<failure request key>:retry-<n+1>`:
            a repeat after a kill is the same request to Stripe (localstripe ignores the key, but step 2
            finds a paid invoice first, and a declined one declines again).
4. sync     The ledger reads the invoice: paid is a recovery; still unpaid, retries_made = n+1 and the
            next retry's time are written with the claim released, in one short transaction.
5. cancel   After the last retry: the subscription is canceled (`<request key>:cancel`) and synced, and the
            ledger closes the failure with the polite e-mail. A kill before it: the failure stays due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.ledger.renewal_failures import retry_days
from readerfund.payments.models import Contribution, RenewalFailure
from readerfund.payments.provider import GatewayError, GatewayNotFound, PaymentDeclined
from readerfund.payments.retry_schedule import retry_plan

logger = logging.getLogger(__name__)
Status = RenewalFailure.Status
# Longer than a retry's few Stripe calls take; a worker killed mid-retry holds it no longer than this.
RETRY_LEASE = timedelta(minutes=5)
ERROR_PAUSE = timedelta(hours=1)
BATCH = 100


def _claim(failure: RenewalFailure, now: datetime) -> bool:
    until = now + RETRY_LEASE
    claimed = bool(
        RenewalFailure.objects.filter(
            Q(retry_claimed_until__isnull=True) | Q(retry_claimed_until__lt=now),
            id=failure.id,
            status=Status.OPEN,
            next_retry_at__lte=now,
            retries_made=failure.retries_made,
        ).update(retry_claimed_until=until)
    )
    failure.retry_claimed_until = until
    return claimed


def _release(failure: RenewalFailure, *, later: datetime) -> None:
    # Not at the very next scan: a provider that keeps refusing must not be asked every few seconds.
    RenewalFailure.objects.filter(id=failure.id, status=Status.OPEN).update(
        retry_claimed_until=None, next_retry_at=later
    )


def _retry_failed(failure: RenewalFailure, now: datetime) -> bool:
    """Retry n+1 was made and the invoice is still unpaid: write it, with what is due next. Returns whether
    that was the last retry: the cancel is then due at once, and this worker keeps its claim to make it."""
    made = failure.retries_made + 1
    plan = retry_plan(
        first_failed_at=failure.first_failed_at, retries_made=made, days=retry_days(), smart_retries=False
    )
    with transaction.atomic():
        RenewalFailure.objects.filter(id=failure.id, status=Status.OPEN, retries_made=failure.retries_made).update(
            retries_made=made,
            next_retry_at=plan.next_retry_at or now,
            retry_claimed_until=failure.retry_claimed_until if plan.cancel_due else None,
        )
    failure.retries_made = made
    return plan.cancel_due


def _plan_cancel(failure: RenewalFailure) -> None:
    contribution = failure.contribution
    subscription_id = contribution.provider_subscription_id
    try:
        subscription = gateway.subscription_get(subscription_id=subscription_id)
        if subscription.status != "canceled":
            gateway.subscription_cancel(
                subscription_id=subscription_id, idempotency_key=f"{failure.request_key}:cancel"
            )
    except GatewayNotFound:
        pass  # gone at the provider already: the sync below ends it in the ledger
    ledger.subscription_sync(newsroom=failure.newsroom, subscription_id=subscription_id)


def _retry_pay(failure: RenewalFailure, now: datetime) -> bool:
    """Retry n+1; returns whether the plan is now to be canceled."""
    invoice = gateway.invoice_get(invoice_id=failure.provider_invoice_id)
    # Only a running plan is charged: not one the supporter canceled or paused in the meantime. (Active as well
    # as past due: localstripe leaves a subscription active after a declined renewal, where Stripe's is past due.)
    running = failure.contribution.status in (Contribution.Status.PAST_DUE, Contribution.Status.ACTIVE)
    if running and not invoice.paid and invoice.status == "open":
        try:
            gateway.invoice_pay(
                invoice_id=invoice.id, idempotency_key=f"{failure.request_key}:retry-{failure.retries_made + 1}"
            )
        except PaymentDeclined:
            logger.info("renewal retry %s of failure %s declined", failure.retries_made + 1, failure.id)
    ledger.invoice_sync(newsroom=failure.newsroom, invoice_id=invoice.id)
    failure.refresh_from_db()
    if failure.status != Status.OPEN:
        return False  # paid (a recovery) or closed by the sync
    invoice = gateway.invoice_get(invoice_id=invoice.id)
    if invoice.status != "open" or not running:
        # Voided or marked uncollectible at Stripe, or the plan is no longer past due: nothing for us to collect.
        RenewalFailure.objects.filter(id=failure.id, status=Status.OPEN).update(
            status=Status.CLOSED, next_retry_at=None, retry_claimed_until=None, closed_at=timezone.now()
        )
        return False
    return _retry_failed(failure, now)


def renewal_retry_run(*, failure_id: int, now: datetime | None = None) -> str:
    """Make the one due step of one failure (a retry, or the cancel after the last). Returns what happened:
    'skipped' (not due, or another worker has it), 'retried', 'canceled', or 'error'."""
    now = now or timezone.now()
    failure = RenewalFailure.objects.select_related("newsroom", "contribution").filter(id=failure_id).first()
    if failure is None or failure.newsroom.stripe_smart_retries or not _claim(failure, now):
        return "skipped"
    try:
        with gateway.account_use(account_for(failure.newsroom)):
            if failure.retries_made >= len(retry_days()):
                _plan_cancel(failure)
                return "canceled"
            if _retry_pay(failure, now):
                _plan_cancel(failure)
                return "canceled"
            return "retried"
    except GatewayError as error:
        # Stripe unreachable or refusing: the claim is released and the step is due again an hour later.
        logger.warning("renewal retry of failure %s failed: %s", failure.id, error.kind)
        _release(failure, later=now + ERROR_PAUSE)
        return "error"


def renewal_retries_due(*, now: datetime | None = None) -> int:
    """Periodic: every open failure whose retry (or final cancel) is due, one step each. Idempotent: a
    second worker scanning at the same moment loses each claim and does nothing."""
    now = now or timezone.now()
    due = (
        RenewalFailure.objects.filter(status=Status.OPEN, next_retry_at__lte=now, newsroom__stripe_smart_retries=False)
        .filter(Q(retry_claimed_until__isnull=True) | Q(retry_claimed_until__lt=now))
        .order_by("next_retry_at")
        .values_list("id", flat=True)[:BATCH]
    )
    done = 0
    for failure_id in list(due):
        if renewal_retry_run(failure_id=failure_id, now=now) != "skipped":
            done += 1
    return done

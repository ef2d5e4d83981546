"""Recurring contributions in a reconcile: subscriptions listed since the cursor, the running ones we
hold, and of each only the invoices not yet recorded."""

from __future__ import annotations

import functools

from django.db.models import Q

from readerfund.payments import gateway, ledger
from readerfund.payments.ledger.matching import contribution_for_subscription
from readerfund.payments.models import Contribution, Frequency, Payment, ReconcileCursor
from readerfund.payments.provider import GatewayError, GatewayInvoice, GatewayNotFound, GatewaySubscription
from readerfund.payments.reconcile.run import (
    INVOICES,
    SUBSCRIPTIONS,
    UNSETTLED,
    UNSETTLED_WINDOW,
    Run,
    error_note,
    listing,
    patiently,
    sync,
)

Status = Contribution.Status
# Our status and Stripe's subscription status that agree: with the latest invoice recorded (or unpaid),
# applying the subscription again would change nothing and cost the ledger its reads of that invoice.
_IN_STEP = {
    (Status.ACTIVE, "active"),
    (Status.ACTIVE, "trialing"),
    (Status.PAST_DUE, "past_due"),
    (Status.PAST_DUE, "unpaid"),
    # Paused by the supporter: the provider calls it active (emulator: or trialing) while it holds the charges.
    (Status.PAUSED, "active"),
    (Status.PAUSED, "trialing"),
    (Status.CANCELED, "canceled"),
    (Status.FAILED, "canceled"),
    (Status.FAILED, "incomplete_expired"),
}
# An open latest invoice is worth the ledger's look only while we have not heard of trouble with it.
_IN_GOOD_STANDING = (Status.PENDING, Status.REQUIRES_ACTION, Status.ACTIVE)


def _in_step(contribution: Contribution, subscription: GatewaySubscription) -> bool:
    if contribution.provider_subscription_id != subscription.id:
        return False
    if (contribution.status, subscription.status) not in _IN_STEP:
        return False
    if not subscription.latest_invoice:
        return True
    invoice = subscription.invoice
    if invoice is None:
        return False
    recorded = Payment.objects.filter(contribution=contribution, provider_invoice_id=invoice.id)
    return not invoice.paid or recorded.exists()


def _apply(run: Run, contribution: Contribution, subscription: GatewaySubscription) -> bool:
    """Apply the subscription as read (with its latest invoice) unless it agrees with us; True if applied."""
    # The contribution's creation stands for the subscription's (made a moment later, by the checkout).
    rereads = run.scope.rereads(int(contribution.created_at.timestamp()))
    if _in_step(contribution, subscription) and not rereads:
        return False
    lost = not contribution.provider_subscription_id
    apply = functools.partial(
        ledger.contribution_apply_subscription, contribution=contribution, subscription=subscription
    )
    if sync(run, f"subscription {subscription.id}", apply) and lost:
        run.repaired(SUBSCRIPTIONS, contribution, f"subscription {subscription.id}")
    return True


def _worth_reading(
    invoice: GatewayInvoice, subscription: GatewaySubscription, *, recorded: set[str], status: str
) -> bool:
    if invoice.status in ("void", "draft"):
        return False
    if invoice.paid:
        return invoice.id not in recorded
    # Unpaid: only the latest invoice moves the status (ledger/recurring.py).
    return invoice.id == subscription.latest_invoice and invoice.status == "open" and status in _IN_GOOD_STANDING


def _invoices(run: Run, contribution: Contribution, subscription: GatewaySubscription) -> None:
    """One listing of the subscription's invoices; the ledger reads again only those it has not recorded."""
    what = f"invoices of {subscription.id}"
    try:
        invoices = patiently(run, what, functools.partial(gateway.invoices_list, subscription_id=subscription.id))
    except GatewayError as exc:
        error_note(run, what, exc)
        return
    recorded = set(Payment.objects.filter(contribution=contribution).values_list("provider_invoice_id", flat=True))
    status = Contribution.objects.values_list("status", flat=True).get(id=contribution.id)
    tally = run.tally(INVOICES)
    for invoice in invoices:
        tally.read += 1
        if not (
            run.scope.rereads(invoice.created)
            or _worth_reading(invoice, subscription, recorded=recorded, status=status)
        ):
            continue
        invoice_sync = functools.partial(ledger.invoice_sync, newsroom=run.newsroom, invoice_id=invoice.id)
        sync(run, f"invoice {invoice.id}", invoice_sync)


def _listed(run: Run, subscription: GatewaySubscription) -> None:
    contribution = contribution_for_subscription(newsroom=run.newsroom, subscription=subscription)
    if contribution is None:
        run.tally(SUBSCRIPTIONS).foreign += 1
        return
    _apply(run, contribution, subscription)
    # Made since the cursor: its invoices are read whatever its status (a plan canceled right away).
    _invoices(run, contribution, subscription)


def _stored(run: Run, subscription_id: str) -> None:
    what = f"subscription {subscription_id}"
    try:
        subscription = patiently(
            run, what, functools.partial(gateway.subscription_get, subscription_id=subscription_id)
        )
    except GatewayNotFound:
        # Gone at the provider (localstripe deletes failed SEPA ones): the ledger's sync records it ended.
        ended = functools.partial(ledger.subscription_sync, newsroom=run.newsroom, subscription_id=subscription_id)
        sync(run, what, ended)
        return
    except GatewayError as exc:
        error_note(run, what, exc)
        return
    contribution = contribution_for_subscription(newsroom=run.newsroom, subscription=subscription)
    if contribution is None:
        return
    applied = _apply(run, contribution, subscription)
    if applied or subscription.status != "canceled":
        _invoices(run, contribution, subscription)


def _to_reread(run: Run) -> list[str]:
    """Stored subscriptions that may still move: every running one, recent unsettled ones; in a re-read,
    every one in its scope as well."""
    rows = Contribution.objects.filter(newsroom=run.newsroom).exclude(frequency=Frequency.ONE_OFF)
    rows = rows.exclude(provider_subscription_id="")
    recent = Q(status__in=UNSETTLED, created_at__gte=run.started - UNSETTLED_WINDOW)
    wanted = recent | Q(status__in=(Status.ACTIVE, Status.PAST_DUE, Status.PAUSED))
    if run.scope.everything:
        wanted = Q()
    elif run.scope.since is not None:
        wanted |= Q(created_at__gte=run.scope.since)
    return list(rows.filter(wanted).order_by("id").values_list("provider_subscription_id", flat=True))


def subscriptions_reconcile(run: Run) -> None:
    object_type = ReconcileCursor.ObjectType.SUBSCRIPTION
    listing(run, SUBSCRIPTIONS, object_type, gateway.subscriptions_page, functools.partial(_listed, run))
    for subscription_id in run.by_id(SUBSCRIPTIONS, _to_reread(run)):
        _stored(run, subscription_id)
    run.progress(run.tally(SUBSCRIPTIONS).line(SUBSCRIPTIONS))
    run.progress(run.tally(INVOICES).line(INVOICES))

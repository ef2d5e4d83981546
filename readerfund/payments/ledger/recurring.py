"""Recurring contributions: a subscription's and its invoices' current state in the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.ledger.matching import contribution_for_subscription, contribution_for_subscription_id
from readerfund.payments.ledger.records import failure_reason, payment_record, when
from readerfund.payments.ledger.renewal_failures import renewal_failure_open, renewal_failure_recovered
from readerfund.payments.ledger.status import contribution_status_apply
from readerfund.payments.models import Contribution, Payment
from readerfund.payments.notices import renewal_action_notify
from readerfund.payments.provider import GatewayError, GatewayInvoice, GatewayNotFound, GatewaySubscription
from readerfund.payments.transitions import Signal, subscription_signal

logger = logging.getLogger(__name__)
Status = Contribution.Status


@dataclass(frozen=True)
class _InvoicePayment:
    """What the provider says about a paid invoice's payment, read before anything is written."""

    charge_id: str
    paid_at: datetime | None
    recovered: bool


def _invoice_payment_facts(
    newsroom: Newsroom, invoice: GatewayInvoice, *, failed_attempt_seen: bool = False
) -> _InvoicePayment:
    """A paid invoice's payment is a recovery when an attempt to pay *that invoice* failed first. This
    reads the invoice's own history at the provider, never our contribution's status at the time, so
    events in any order, or a reconcile from nothing, give the same answer."""
    charge_id, charged_at = invoice.charge, 0
    if invoice.payment_intent and not (charge_id and invoice.paid_at):
        intent = gateway.payment_intent_get(intent_id=invoice.payment_intent)
        charge_id, charged_at = charge_id or intent.latest_charge, intent.charged_at
    recovered = (
        failed_attempt_seen
        or Payment.objects.filter(
            newsroom=newsroom, provider_payment_id=invoice.payment_intent or invoice.id, recovered=True
        ).exists()
        or gateway.invoice_failed_attempt_seen(invoice=invoice)
    )
    return _InvoicePayment(
        charge_id=charge_id, paid_at=when(invoice.paid_at or charged_at or invoice.created), recovered=recovered
    )


def _invoice_payment_record(*, contribution: Contribution, invoice: GatewayInvoice, facts: _InvoicePayment) -> Payment:
    payment = payment_record(
        contribution=contribution,
        provider_payment_id=invoice.payment_intent or invoice.id,
        amount=invoice.amount_paid,
        currency=invoice.currency,
        invoice_id=invoice.id,
        charge_id=facts.charge_id,
        recovered=facts.recovered,
        paid_at=facts.paid_at,
    )
    if payment.recovered:
        renewal_failure_recovered(contribution=contribution, invoice=invoice, paid_at=payment.paid_at)
    return payment


def _subscription_signal(subscription: GatewaySubscription) -> Signal | None:
    intent = subscription.payment_intent
    return subscription_signal(
        status=subscription.status,
        first_payment=intent.status if intent is not None else "",
        first_payment_failed=intent is not None
        and intent.status == "requires_payment_method"
        and intent.last_error is not None,
    )


def _subscription_id_store(contribution: Contribution, subscription_id: str) -> None:
    if not contribution.provider_subscription_id:
        Contribution.objects.filter(id=contribution.id, provider_subscription_id="").update(
            provider_subscription_id=subscription_id
        )
        contribution.provider_subscription_id = subscription_id


def _unpaid_subscription_cancel(contribution: Contribution, subscription_id: str) -> None:
    """A plan whose first payment failed must not linger at the provider as `incomplete` (Stripe would
    expire it after a day; localstripe never does): the reader starts again with a new checkout."""
    try:
        gateway.subscription_cancel(
            subscription_id=subscription_id, idempotency_key=f"{contribution.request_key}:cancel-unpaid"
        )
    except GatewayNotFound:
        pass
    except GatewayError as error:  # reconcile tries again; the contribution is failed either way
        logger.warning("could not cancel unpaid subscription of contribution %s: %s", contribution.id, error.kind)


def contribution_apply_subscription(*, contribution: Contribution, subscription: GatewaySubscription) -> Contribution:
    """Write what a subscription's current state implies, including its latest invoice if paid."""
    invoice = subscription.invoice
    if invoice is None and subscription.latest_invoice:
        invoice = gateway.invoice_get(invoice_id=subscription.latest_invoice)
    facts = _invoice_payment_facts(contribution.newsroom, invoice) if invoice is not None and invoice.paid else None
    signal = _subscription_signal(subscription)
    with transaction.atomic():
        _subscription_id_store(contribution, subscription.id)
        if invoice is not None and facts is not None:
            _invoice_payment_record(contribution=contribution, invoice=invoice, facts=facts)
        if signal is not None:
            reason = failure_reason(subscription.payment_intent) or signal.value
            contribution = contribution_status_apply(contribution_id=contribution.id, signal=signal, reason=reason)
        else:
            contribution.refresh_from_db()
    if signal == Signal.DECLINED and subscription.status == "incomplete":
        _unpaid_subscription_cancel(contribution, subscription.id)
    return contribution


def subscription_sync(*, newsroom: Newsroom, subscription_id: str) -> Contribution | None:
    """Contribution status from the subscription's status (active, past_due, canceled, incomplete...).
    A subscription the provider no longer knows (localstripe deletes failed SEPA ones) has ended."""
    try:
        subscription = gateway.subscription_get(subscription_id=subscription_id)
    except GatewayNotFound:
        contribution = contribution_for_subscription_id(newsroom=newsroom, subscription_id=subscription_id)
        if contribution is None:
            return None
        return contribution_status_apply(contribution_id=contribution.id, signal=Signal.SUBSCRIPTION_ENDED)
    contribution = contribution_for_subscription(newsroom=newsroom, subscription=subscription)
    if contribution is None:
        return None
    return contribution_apply_subscription(contribution=contribution, subscription=subscription)


def _invoice_failed(invoice: GatewayInvoice) -> bool:
    if invoice.paid or invoice.status in ("void", "draft"):
        return False
    if not invoice.payment_intent:
        return False
    intent = gateway.payment_intent_get(intent_id=invoice.payment_intent)
    return intent.status == "requires_payment_method" and intent.last_error is not None


def _invoice_signal(
    invoice: GatewayInvoice, subscription: GatewaySubscription | None, *, failed: bool, action_required: bool
) -> Signal | None:
    # Only the subscription's latest invoice moves the status, so an old invoice's event changes nothing.
    if subscription is None or subscription.latest_invoice != invoice.id:
        return None
    if invoice.paid:
        return Signal.SUBSCRIPTION_ACTIVE if subscription.status != "canceled" else None
    if action_required:
        return Signal.RENEWAL_NEEDS_ACTION
    return Signal.INVOICE_FAILED if failed else None


def invoice_sync(
    *, newsroom: Newsroom, invoice_id: str, failed_attempt_seen: bool = False, action_required: bool = False
) -> Payment | None:
    """A paid invoice records one Payment for its subscription's contribution (recovered=True when an
    attempt to pay that invoice failed first) and makes it active; a failed renewal makes it past_due,
    a failed first invoice makes it failed (and cancels the unpaid subscription).

    `failed_attempt_seen`: the caller holds the provider's signed word that an attempt failed (an
    invoice.payment_failed event), which counts as that history even where the provider's reads lack it.
    `action_required`: likewise for invoice.payment_action_required (a renewal waiting for 3-D Secure):
    the supporter is e-mailed a page of ours that completes it.
    """
    invoice, subscription = gateway.invoice_with_subscription_get(invoice_id=invoice_id)
    if not invoice.subscription:
        return None
    contribution = contribution_for_subscription_id(newsroom=newsroom, subscription_id=invoice.subscription)
    if contribution is None and subscription is not None:
        contribution = contribution_for_subscription(newsroom=newsroom, subscription=subscription)
    if contribution is None:
        return None
    failed = _invoice_failed(invoice)
    facts = _invoice_payment_facts(newsroom, invoice, failed_attempt_seen=failed_attempt_seen) if invoice.paid else None
    signal = _invoice_signal(invoice, subscription, failed=failed, action_required=action_required)
    payment = None
    with transaction.atomic():
        if subscription is not None:
            _subscription_id_store(contribution, subscription.id)
        if facts is not None:
            payment = _invoice_payment_record(contribution=contribution, invoice=invoice, facts=facts)
        if signal is not None:
            reason = "authentication_required" if signal == Signal.RENEWAL_NEEDS_ACTION else "invoice_payment_failed"
            contribution = contribution_status_apply(contribution_id=contribution.id, signal=signal, reason=reason)
            if signal == Signal.RENEWAL_NEEDS_ACTION and contribution.status == Status.PAST_DUE:
                renewal_action_notify(contribution=contribution, invoice_id=invoice.id)
            if signal == Signal.INVOICE_FAILED and contribution.status == Status.PAST_DUE:
                # A renewal's charge failed (a first payment's failure makes the contribution failed instead).
                renewal_failure_open(contribution=contribution, invoice=invoice)
    if contribution.status == Status.FAILED and subscription is not None and subscription.status == "incomplete":
        _unpaid_subscription_cancel(contribution, subscription.id)
    return payment

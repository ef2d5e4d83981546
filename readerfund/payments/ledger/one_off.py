"""One-off contributions: a PaymentIntent's current state in the ledger."""

from __future__ import annotations

from django.db import transaction

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.ledger.matching import contribution_for_intent
from readerfund.payments.ledger.records import failure_reason, payment_record, when
from readerfund.payments.ledger.status import contribution_status_apply
from readerfund.payments.models import Contribution
from readerfund.payments.provider import GatewayIntent
from readerfund.payments.transitions import Signal, intent_signal


def contribution_apply_intent(*, contribution: Contribution, intent: GatewayIntent) -> Contribution:
    """Write what a one-off PaymentIntent's current state implies (no provider call). The checkout calls
    this with the intent it just created or fetched; payment_intent_sync after fetching."""
    signal = intent_signal(status=intent.status, failed=intent.last_error is not None)
    with transaction.atomic():
        if not contribution.provider_payment_intent_id:
            Contribution.objects.filter(id=contribution.id, provider_payment_intent_id="").update(
                provider_payment_intent_id=intent.id
            )
        if signal == Signal.PAID:
            payment_record(
                contribution=contribution,
                provider_payment_id=intent.id,
                amount=intent.amount,
                currency=intent.currency,
                charge_id=intent.latest_charge,
                paid_at=when(intent.charged_at or intent.created),
            )
        if signal is None:
            contribution.refresh_from_db()
            return contribution
        return contribution_status_apply(contribution_id=contribution.id, signal=signal, reason=failure_reason(intent))


def payment_intent_sync(*, newsroom: Newsroom, intent_id: str) -> Contribution | None:
    """Bring a one-off contribution (found by provider_payment_intent_id, or by the intent's metadata) in
    line with the PaymentIntent. A subscription invoice's intent is handed to invoice_sync."""
    intent = gateway.payment_intent_get(intent_id=intent_id)
    if intent.invoice:
        from readerfund.payments.ledger.recurring import invoice_sync

        payment = invoice_sync(newsroom=newsroom, invoice_id=intent.invoice)
        return payment.contribution if payment else None
    contribution = contribution_for_intent(newsroom=newsroom, intent=intent)
    if contribution is None:
        return None
    return contribution_apply_intent(contribution=contribution, intent=intent)

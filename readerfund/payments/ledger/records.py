"""Payments as the ledger records them: one row per provider payment id, so money counts once."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from readerfund.payments.models import Contribution, Payment
from readerfund.payments.provider import GatewayIntent
from readerfund.payments.receipts import receipt_queue


def when(unix_time: int) -> datetime | None:
    """The provider's timestamp as an aware datetime; None when it did not give one."""
    return datetime.fromtimestamp(unix_time, tz=UTC) if unix_time > 0 else None


def failure_reason(intent: GatewayIntent | None) -> str:
    error = intent.last_error if intent is not None else None
    if error is None:
        return ""
    return (error.decline_code or error.code or error.message or "failed")[:200]


def payment_record(
    *,
    contribution: Contribution,
    provider_payment_id: str,
    amount: int,
    currency: str,
    invoice_id: str = "",
    charge_id: str = "",
    recovered: bool = False,
    paid_at: datetime | None = None,
) -> Payment:
    """One Payment per provider payment id. `paid_at` is the provider's time of the charge: the date
    in exports and receipts must not depend on when (or how late) we heard of it. An existing row
    takes what a later read knows better: its charge id, the provider's time, a recovery.
    Call inside the transaction that holds the contribution's row."""
    payment, created = Payment.objects.get_or_create(
        provider_payment_id=provider_payment_id,
        defaults={
            "newsroom_id": contribution.newsroom_id,
            "contribution": contribution,
            "amount": amount,
            "currency": currency,
            "provider_invoice_id": invoice_id,
            "provider_charge_id": charge_id,
            "recovered": recovered,
            "paid_at": paid_at or timezone.now(),
        },
    )
    if created:
        receipt_queue(payment=payment, contribution=contribution)
        return payment
    updates: dict[str, object] = {}
    if charge_id and not payment.provider_charge_id:
        updates["provider_charge_id"] = charge_id
    if paid_at is not None and payment.paid_at != paid_at:
        updates["paid_at"] = paid_at
    if recovered and not payment.recovered:
        updates["recovered"] = True
    if updates:
        Payment.objects.filter(id=payment.id).update(**updates)
        for name, value in updates.items():
            setattr(payment, name, value)
    return payment

"""Disputes (chargebacks): each held with its amount, fee and outcome; a lost one is money not received."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.ledger.records import when
from readerfund.payments.ledger.refunds import payment_for_charge, payment_totals_write
from readerfund.payments.models import Dispute, Payment
from readerfund.payments.provider import GatewayDispute, GatewayNotFound
from readerfund.payments.stripe_shapes import dispute_from

_STATUSES = {choice.value for choice in Dispute.Status}
_CLOSED = {Dispute.Status.WON, Dispute.Status.LOST, Dispute.Status.WARNING_CLOSED}
# Stripe takes the disputed amount from the balance when a (non-inquiry) dispute opens, and gives it back
# when it is won: the fallback when the object carries no balance transactions.
_WITHDRAWN = {Dispute.Status.NEEDS_RESPONSE, Dispute.Status.UNDER_REVIEW, Dispute.Status.LOST}


# How far along a dispute is: two copies stamped in the same second are ordered by it.
_RANK: dict[str, int] = {
    Dispute.Status.WARNING_NEEDS_RESPONSE: 0,
    Dispute.Status.NEEDS_RESPONSE: 0,
    Dispute.Status.WARNING_UNDER_REVIEW: 1,
    Dispute.Status.UNDER_REVIEW: 1,
    Dispute.Status.WARNING_CLOSED: 2,
    Dispute.Status.WON: 2,
    Dispute.Status.LOST: 2,
}


def _withdrawn(dispute: GatewayDispute) -> bool:
    if dispute.withdrawn is not None:
        return dispute.withdrawn > 0
    return dispute.status in _WITHDRAWN


def _dispute_write(*, payment: Payment, dispute: GatewayDispute, stamp: int) -> None:
    status = dispute.status if dispute.status in _STATUSES else Dispute.Status.NEEDS_RESPONSE
    now = timezone.now()
    closed_at: datetime | None = (when(stamp) or now) if status in _CLOSED else None
    values: dict[str, Any] = {
        "amount": dispute.amount,
        "currency": dispute.currency or payment.currency,
        "fee": dispute.fee,
        "fee_currency": dispute.fee_currency,
        "status": status,
        "reason": dispute.reason,
        "funds_withdrawn": _withdrawn(dispute),
        "provider_updated": stamp,
    }
    row = Dispute.objects.filter(provider_dispute_id=dispute.id).first()
    if row is None:
        Dispute.objects.create(
            payment=payment,
            provider_dispute_id=dispute.id,
            created_at=when(dispute.created) or now,
            closed_at=closed_at,
            **values,
        )
        return
    if row.payment_id != payment.id or (row.provider_updated, _RANK[row.status]) > (stamp, _RANK[status]):
        return  # an older copy than the one we hold (in one second, the later stage wins), or another payment's
    if closed_at is not None and row.closed_at is not None:
        closed_at = row.closed_at  # keep when it first closed
    Dispute.objects.filter(id=row.id).update(closed_at=closed_at, **values)


def dispute_sync(*, newsroom: Newsroom, dispute: dict[str, Any], event_created: int) -> Payment | None:
    """charge.dispute.*: the dispute's current state from the provider; where the provider has no disputes
    API (localstripe) the event's own copy, applied only if it is newer than what we hold (by the event's
    time), so events in any order end in the newest state."""
    current = gateway.dispute_get(dispute_id=str(dispute["id"]))
    stamp = int(time.time())
    if current is None:
        current, stamp = dispute_from(dispute), event_created
    payment = payment_for_charge(newsroom=newsroom, charge_id=current.charge, intent_id=current.payment_intent)
    if payment is None and current.charge:
        try:
            charge = gateway.charge_get(charge_id=current.charge)
        except GatewayNotFound:
            return None  # not a charge of this newsroom's account
        payment = payment_for_charge(newsroom=newsroom, charge_id=charge.id, intent_id=charge.payment_intent)
    if payment is None:
        return None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(id=payment.id)
        _dispute_write(payment=payment, dispute=current, stamp=stamp)
        return payment_totals_write(payment)

"""Refunds: each as the provider last described it, and the payment's totals re-derived from them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.ledger.one_off import payment_intent_sync
from readerfund.payments.ledger.records import when
from readerfund.payments.models import Dispute, Payment, Refund

_OPEN_DISPUTES = (Dispute.Status.NEEDS_RESPONSE, Dispute.Status.UNDER_REVIEW)
_REFUND_STATUSES = {choice.value for choice in Refund.Status}


def payment_status_derive(*, amount: int, refunded: int, lost: bool, disputed: bool) -> str:
    """A payment's status from what was refunded and whether a dispute was lost or is open (the export
    asks the same at a past date)."""
    if lost:
        return Payment.Status.DISPUTE_LOST.value
    if disputed:
        return Payment.Status.DISPUTED.value
    if refunded >= amount > 0:
        return Payment.Status.REFUNDED.value
    if refunded > 0:
        return Payment.Status.PARTIALLY_REFUNDED.value
    return Payment.Status.SUCCEEDED.value


def payment_totals_write(payment: Payment) -> Payment:
    """Re-derive what was refunded and taken back by disputes, and the payment's status, from its refund
    and dispute rows: nothing is added up incrementally, so replays and any order give one answer.
    Call inside the transaction that holds the payment's row."""
    refunded = sum(payment.refunds.filter(status__in=Refund.COUNTED).values_list("amount", flat=True))
    disputes = list(payment.disputes.values_list("status", "amount", "funds_withdrawn"))
    disputed = sum(amount for status, amount, withdrawn in disputes if withdrawn or status == Dispute.Status.LOST)
    payment.amount_refunded = min(refunded, payment.amount)
    payment.amount_disputed = min(disputed, payment.amount)
    payment.status = payment_status_derive(
        amount=payment.amount,
        refunded=refunded,
        lost=any(status == Dispute.Status.LOST for status, _, _ in disputes),
        disputed=any(status in _OPEN_DISPUTES for status, _, _ in disputes),
    )
    payment.save(update_fields=["amount_refunded", "amount_disputed", "status"])
    return payment


def payment_for_charge(*, newsroom: Newsroom, charge_id: str, intent_id: str) -> Payment | None:
    """The payment a charge paid, syncing its PaymentIntent first if we never recorded it."""
    payment = Payment.objects.filter(newsroom=newsroom, provider_charge_id=charge_id).first()
    if payment is None and intent_id:
        payment = Payment.objects.filter(newsroom=newsroom, provider_payment_id=intent_id).first()
        if payment is None:
            payment_intent_sync(newsroom=newsroom, intent_id=intent_id)
            payment = Payment.objects.filter(newsroom=newsroom, provider_payment_id=intent_id).first()
    return payment


def charge_refund_sync(*, newsroom: Newsroom, charge_id: str) -> Payment | None:
    """Record each refund of a charge by its provider id with its current status (a refund that was
    pending and then failed stops counting), and re-derive the payment's totals."""
    charge = gateway.charge_get(charge_id=charge_id)
    payment = payment_for_charge(newsroom=newsroom, charge_id=charge.id, intent_id=charge.payment_intent)
    if payment is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(id=payment.id)
        for refund in charge.refunds:
            status = refund.status if refund.status in _REFUND_STATUSES else Refund.Status.PENDING
            row, created = Refund.objects.get_or_create(
                provider_refund_id=refund.id,
                defaults={
                    "payment": payment,
                    "amount": refund.amount,
                    "currency": refund.currency or payment.currency,
                    "status": status,
                    "created_at": when(refund.created) or now,
                    "status_changed_at": now,
                },
            )
            if row.payment_id != payment.id:
                continue  # another payment's refund id: never let one charge's read rewrite another's rows
            if not created and (row.status, row.amount) != (status, refund.amount):
                Refund.objects.filter(id=row.id).update(status=status, amount=refund.amount, status_changed_at=now)
        if not payment.provider_charge_id:
            payment.provider_charge_id = charge.id
            payment.save(update_fields=["provider_charge_id"])
        payment_totals_write(payment)
    return payment


def refund_sync(*, newsroom: Newsroom, refund_id: str) -> Payment | None:
    """refund.* and charge.refund.updated: the refund's charge, synced from its current state."""
    refund = gateway.refund_get(refund_id=refund_id)
    if not refund.charge:
        return None
    return charge_refund_sync(newsroom=newsroom, charge_id=refund.charge)


def payment_intent_refund_sync(*, newsroom: Newsroom, intent_id: str) -> Payment | None:
    """charge_refund_sync for the latest charge of a PaymentIntent (refund events carry either)."""
    intent = gateway.payment_intent_get(intent_id=intent_id)
    if not intent.latest_charge:
        return None
    return charge_refund_sync(newsroom=newsroom, charge_id=intent.latest_charge)

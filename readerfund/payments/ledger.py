"""The ledger's sync services: bring our contributions, payments and refunds in line with the provider.

Each service reads the object's *current* state through the gateway and writes what it implies, so
running one twice, or running an older event after a newer one, ends in the same ledger:
- a Payment is keyed by the provider's payment id (unique), a Refund by the refund id (unique);
- a contribution's status is derived from the current object, never from the event that woke us;
- a recorded payment is never undone by a stale read (SUCCEEDED is not downgraded).

Side effects that must happen once ride on the same rows: the variant's ConversionCount is bumped
when `counted_at` is first set, the receipt e-mail is queued under the key `receipt-<payment id>`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from readerfund.payments import gateway
from readerfund.payments.conversions import conversion_count
from readerfund.payments.models import Contribution, Payment, Refund
from readerfund.payments.provider import GatewayIntent, GatewayInvoice, GatewayNotFound, GatewaySubscription
from readerfund.payments.receipts import receipt_queue

logger = logging.getLogger(__name__)

Status = Contribution.Status
# States a stale read of the provider must not move a contribution out of.
_SETTLED = {Status.SUCCEEDED, Status.REFUSED}
# Metadata on every Stripe object made for a contribution: its id (for people reading the dashboard) and
# its request_key, which is unique for ever (ids can repeat across test databases sharing an emulator).
CONTRIBUTION_KEY = "contribution"
CHECKOUT_KEY = "checkout"


def provider_metadata(contribution: Contribution) -> dict[str, str]:
    return {
        CONTRIBUTION_KEY: str(contribution.id),
        CHECKOUT_KEY: contribution.request_key,
        "newsroom": contribution.newsroom.slug,
    }


def _from_metadata(metadata: dict[str, str], **unset: str) -> Contribution | None:
    """The contribution an object's metadata names, if its provider id was never stored (`unset`).

    Only by request_key: a bare row id could name another deployment's (or test database's) row when
    several share one Stripe account.
    """
    request_key = metadata.get(CHECKOUT_KEY)
    if not request_key:
        return None
    return Contribution.objects.filter(request_key=request_key, **unset).first()


def _locked(contribution_id: int) -> Contribution:
    return Contribution.objects.select_for_update().select_related("supporter", "newsroom").get(id=contribution_id)


def _when(unix_time: int) -> datetime | None:
    """The provider's timestamp as an aware datetime; None when it did not give one."""
    return datetime.fromtimestamp(unix_time, tz=UTC) if unix_time > 0 else None


def _failure_reason(intent: GatewayIntent) -> str:
    error = intent.last_error
    if error is None:
        return ""
    return (error.decline_code or error.code or error.message or "failed")[:200]


# --- one-off ---------------------------------------------------------------------------------------


def _contribution_for_intent(intent: GatewayIntent) -> Contribution | None:
    found = Contribution.objects.filter(provider_payment_intent_id=intent.id).first()
    if found is None:
        # The create reached the provider but we never stored its id (a crash in between).
        found = _from_metadata(intent.metadata, provider_payment_intent_id="", frequency="one_off")
        if found is not None and (found.amount, found.currency) != (intent.amount, intent.currency):
            return None
    return found


def _payment_record(
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
    takes what a later read knows better: its charge id, the provider's time, a recovery."""
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


def contribution_apply_intent(*, contribution: Contribution, intent: GatewayIntent) -> Contribution:
    """Write what a one-off PaymentIntent's current state implies. The checkout calls this with the
    intent it just created or fetched; payment_intent_sync calls it after fetching."""
    with transaction.atomic():
        contribution = _locked(contribution.id)
        updates: dict[str, object] = {}
        if not contribution.provider_payment_intent_id:
            updates["provider_payment_intent_id"] = intent.id
        if intent.status == "succeeded":
            _payment_record(
                contribution=contribution,
                provider_payment_id=intent.id,
                amount=intent.amount,
                currency=intent.currency,
                charge_id=intent.latest_charge,
                paid_at=_when(intent.charged_at or intent.created),
            )
            updates.update(status=Status.SUCCEEDED, failure_reason="")
            conversion_count(contribution=contribution)
        elif contribution.status not in _SETTLED:
            if intent.status == "requires_action":
                updates["status"] = Status.REQUIRES_ACTION
            elif intent.status == "requires_payment_method" and intent.last_error is not None:
                updates.update(status=Status.FAILED, failure_reason=_failure_reason(intent))
            elif intent.status == "canceled":
                updates["status"] = Status.CANCELED
            elif intent.status == "processing":
                updates["status"] = Status.PENDING
        for name, value in updates.items():
            setattr(contribution, name, value)
        if updates:
            contribution.save(update_fields=[*updates, "updated_at"])
    return contribution


def payment_intent_sync(*, intent_id: str) -> Contribution | None:
    """Bring a one-off contribution (found by provider_payment_intent_id, or by the intent's metadata) in
    line with the PaymentIntent. A subscription invoice's intent is handed to invoice_sync."""
    intent = gateway.payment_intent_get(intent_id=intent_id)
    if intent.invoice:
        payment = invoice_sync(invoice_id=intent.invoice)
        return payment.contribution if payment else None
    contribution = _contribution_for_intent(intent)
    if contribution is None:
        return None
    return contribution_apply_intent(contribution=contribution, intent=intent)


# --- recurring -------------------------------------------------------------------------------------


def _contribution_for_subscription(subscription_id: str, metadata: dict[str, str]) -> Contribution | None:
    found = Contribution.objects.filter(provider_subscription_id=subscription_id).first()
    if found is None and metadata.get(CONTRIBUTION_KEY, "").isdigit():
        found = Contribution.objects.filter(id=int(metadata[CONTRIBUTION_KEY]), provider_subscription_id="").first()
    return found


def _subscription_status(subscription: GatewaySubscription, current: str) -> tuple[str, str]:
    """(status, failure_reason) for a contribution from its subscription's current state."""
    status = subscription.status
    if status in ("active", "trialing"):
        return Status.ACTIVE, ""
    if status in ("past_due", "unpaid"):
        return Status.PAST_DUE, ""
    if status == "canceled":
        return Status.CANCELED, ""
    intent = subscription.payment_intent
    if status == "incomplete_expired":
        return Status.FAILED, (_failure_reason(intent) if intent else "") or "incomplete_expired"
    # incomplete: the first invoice is not paid yet
    if intent is not None and intent.status == "requires_action":
        return Status.REQUIRES_ACTION, ""
    if intent is not None and intent.status == "requires_payment_method" and intent.last_error is not None:
        return Status.FAILED, _failure_reason(intent)
    return current, ""


def contribution_apply_subscription(*, contribution: Contribution, subscription: GatewaySubscription) -> Contribution:
    """Write what a subscription's current state implies, including its latest invoice if paid."""
    invoice = subscription.invoice
    if invoice is None and subscription.latest_invoice:
        invoice = gateway.invoice_get(invoice_id=subscription.latest_invoice)
    facts = _invoice_payment_facts(invoice) if invoice is not None and invoice.paid else None
    with transaction.atomic():
        contribution = _locked(contribution.id)
        if invoice is not None and facts is not None:
            _invoice_payment_record(contribution=contribution, invoice=invoice, facts=facts)
        status, reason = _subscription_status(subscription, contribution.status)
        updates: dict[str, object] = {}
        if not contribution.provider_subscription_id:
            updates["provider_subscription_id"] = subscription.id
        if status != contribution.status and contribution.status != Status.REFUSED:
            updates.update(status=status, failure_reason=reason)
        if status == Status.ACTIVE:
            conversion_count(contribution=contribution)
        for name, value in updates.items():
            setattr(contribution, name, value)
        if updates:
            contribution.save(update_fields=[*updates, "updated_at"])
    return contribution


def subscription_sync(*, subscription_id: str) -> Contribution | None:
    """Contribution status from the subscription's status (active, past_due, canceled, incomplete...).
    A subscription the provider no longer knows (localstripe deletes failed SEPA ones) is canceled."""
    try:
        subscription = gateway.subscription_get(subscription_id=subscription_id)
    except GatewayNotFound:
        contribution = Contribution.objects.filter(provider_subscription_id=subscription_id).first()
        if contribution is None:
            return None
        with transaction.atomic():
            contribution = _locked(contribution.id)
            if contribution.status not in (Status.CANCELED, Status.FAILED, Status.REFUSED):
                contribution.status = Status.CANCELED
                contribution.save(update_fields=["status", "updated_at"])
        return contribution
    contribution = _contribution_for_subscription(subscription.id, subscription.metadata)
    if contribution is None:
        return None
    return contribution_apply_subscription(contribution=contribution, subscription=subscription)


@dataclass(frozen=True)
class _InvoicePayment:
    """What the provider says about a paid invoice's payment, read before any row is locked (on
    SQLite a transaction holds the database's one write lock, so no HTTP call may run inside it)."""

    charge_id: str
    paid_at: datetime | None
    recovered: bool


def _invoice_payment_facts(invoice: GatewayInvoice, *, failed_attempt_seen: bool = False) -> _InvoicePayment:
    """A paid invoice's payment is a recovery when an attempt to pay *that invoice* failed first. This
    reads the invoice's own history at the provider, never our contribution's status at the time, so
    events in any order, or a reconcile from nothing, give the same answer."""
    charge_id, charged_at = invoice.charge, 0
    if invoice.payment_intent and not (charge_id and invoice.paid_at):
        intent = gateway.payment_intent_get(intent_id=invoice.payment_intent)
        charge_id, charged_at = charge_id or intent.latest_charge, intent.charged_at
    recovered = (
        failed_attempt_seen
        or Payment.objects.filter(provider_payment_id=invoice.payment_intent or invoice.id, recovered=True).exists()
        or gateway.invoice_failed_attempt_seen(invoice=invoice)
    )
    return _InvoicePayment(
        charge_id=charge_id, paid_at=_when(invoice.paid_at or charged_at or invoice.created), recovered=recovered
    )


def _invoice_payment_record(*, contribution: Contribution, invoice: GatewayInvoice, facts: _InvoicePayment) -> Payment:
    return _payment_record(
        contribution=contribution,
        provider_payment_id=invoice.payment_intent or invoice.id,
        amount=invoice.amount_paid,
        currency=invoice.currency,
        invoice_id=invoice.id,
        charge_id=facts.charge_id,
        recovered=facts.recovered,
        paid_at=facts.paid_at,
    )


def _invoice_failed(invoice: GatewayInvoice) -> bool:
    if invoice.paid or invoice.status in ("void", "draft"):
        return False
    if not invoice.payment_intent:
        return False
    intent = gateway.payment_intent_get(intent_id=invoice.payment_intent)
    return intent.status == "requires_payment_method" and intent.last_error is not None


def invoice_sync(*, invoice_id: str, failed_attempt_seen: bool = False) -> Payment | None:
    """A paid invoice records one Payment for its subscription's contribution (recovered=True when an
    attempt to pay that invoice failed first) and makes it active; a failed renewal makes it past_due.
    Only the subscription's latest invoice moves the status, so an old invoice's event changes nothing.

    `failed_attempt_seen`: the caller holds the provider's signed word that an attempt failed (an
    invoice.payment_failed event), which counts as that history even where the provider's reads lack it.
    """
    invoice, subscription = gateway.invoice_with_subscription_get(invoice_id=invoice_id)
    if not invoice.subscription:
        return None
    contribution = Contribution.objects.filter(provider_subscription_id=invoice.subscription).first()
    if contribution is None and subscription is not None:
        contribution = _contribution_for_subscription(subscription.id, subscription.metadata)
    if contribution is None:
        return None
    failed = _invoice_failed(invoice)
    facts = _invoice_payment_facts(invoice, failed_attempt_seen=failed_attempt_seen) if invoice.paid else None
    with transaction.atomic():
        contribution = _locked(contribution.id)
        payment = None
        if facts is not None:
            payment = _invoice_payment_record(contribution=contribution, invoice=invoice, facts=facts)
        latest = subscription is not None and subscription.latest_invoice == invoice.id
        updates: dict[str, object] = {}
        if not contribution.provider_subscription_id and subscription is not None:
            updates["provider_subscription_id"] = subscription.id
        if latest and invoice.paid and subscription is not None and subscription.status != "canceled":
            updates.update(status=Status.ACTIVE, failure_reason="")
            conversion_count(contribution=contribution)
        elif latest and failed and contribution.status in (Status.ACTIVE, Status.PAST_DUE):
            updates["status"] = Status.PAST_DUE
        elif latest and failed and contribution.status not in (Status.CANCELED, Status.REFUSED):
            # The first invoice failed: the supporter never started.
            updates.update(status=Status.FAILED, failure_reason="invoice_payment_failed")
        for name, value in updates.items():
            setattr(contribution, name, value)
        if updates:
            contribution.save(update_fields=[*updates, "updated_at"])
    return payment


# --- refunds ---------------------------------------------------------------------------------------


def charge_refund_sync(*, charge_id: str) -> Payment | None:
    """Record each refund of a charge once (Refund by provider_refund_id) and update the Payment's
    amount_refunded and status. If the payment itself is not recorded yet, it is synced first."""
    charge = gateway.charge_get(charge_id=charge_id)
    payment = Payment.objects.filter(provider_charge_id=charge.id).first()
    if payment is None and charge.payment_intent:
        payment = Payment.objects.filter(provider_payment_id=charge.payment_intent).first()
        if payment is None:
            payment_intent_sync(intent_id=charge.payment_intent)
            payment = Payment.objects.filter(provider_payment_id=charge.payment_intent).first()
    if payment is None:
        return None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(id=payment.id)
        for refund in charge.refunds:
            if refund.status in ("succeeded", "pending"):
                Refund.objects.get_or_create(
                    provider_refund_id=refund.id,
                    defaults={
                        "payment": payment,
                        "amount": refund.amount,
                        "currency": refund.currency or payment.currency,
                        "created_at": _when(refund.created) or timezone.now(),
                    },
                )
        refunded = sum(payment.refunds.values_list("amount", flat=True))
        payment.amount_refunded = min(refunded, payment.amount)
        if refunded <= 0:
            payment.status = Payment.Status.SUCCEEDED
        elif refunded >= payment.amount:
            payment.status = Payment.Status.REFUNDED
        else:
            payment.status = Payment.Status.PARTIALLY_REFUNDED
        payment.provider_charge_id = payment.provider_charge_id or charge.id
        payment.save(update_fields=["amount_refunded", "status", "provider_charge_id"])
    return payment


def payment_intent_refund_sync(*, intent_id: str) -> Payment | None:
    """charge_refund_sync for the latest charge of a PaymentIntent (refund events carry either)."""
    intent = gateway.payment_intent_get(intent_id=intent_id)
    if not intent.latest_charge:
        return None
    return charge_refund_sync(charge_id=intent.latest_charge)

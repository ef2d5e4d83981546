"""What each Stripe event does to the ledger, and the processing of a stored event.

Stripe delivers events at least once and in no particular order, so a handler never applies the
event's copy of an object: it takes the object's id and asks the ledger to sync that object from
its current state at Stripe (payments/ledger.py). Running a handler twice, or running an older
event after a newer one, therefore ends in the same ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from readerfund.payments import ledger
from readerfund.payments.models import Contribution, WebhookEvent

logger = logging.getLogger(__name__)

# A handler gets the event's `data.object` and returns whether the object concerned our ledger.
Handler = Callable[[dict[str, Any]], bool]


def _payment_intent(obj: dict[str, Any]) -> bool:
    contribution = ledger.payment_intent_sync(intent_id=str(obj["id"]))
    # A renewal's intent is synced through its invoice, which returns nothing while the invoice is unpaid.
    return contribution is not None or bool(obj.get("invoice"))


def _ours(subscription_id: Any) -> bool:
    return bool(subscription_id) and Contribution.objects.filter(provider_subscription_id=str(subscription_id)).exists()


def _invoice_paid(obj: dict[str, Any]) -> bool:
    payment = ledger.invoice_sync(invoice_id=str(obj["id"]))
    return payment is not None or _ours(obj.get("subscription"))


def _invoice_failed(obj: dict[str, Any]) -> bool:
    # The signed event itself is evidence that an attempt failed: if the invoice is paid by now, the
    # ledger records the payment as a recovery, whichever of the two events arrives first.
    payment = ledger.invoice_sync(invoice_id=str(obj["id"]), failed_attempt_seen=True)
    return payment is not None or _ours(obj.get("subscription"))


def _subscription(obj: dict[str, Any]) -> bool:
    return bool(ledger.subscription_sync(subscription_id=str(obj["id"])))


def _charge_refunded(obj: dict[str, Any]) -> bool:
    return bool(ledger.charge_refund_sync(charge_id=str(obj["id"])))


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "charge.refunded": _charge_refunded,
}

ERROR_MAX_CHARS = 2000


def webhook_event_process(*, event_row_id: int) -> str:
    """Apply one stored event to the ledger and record the outcome on its row. Returns the status.

    Does nothing for an event already processed or ignored, so a second task for one row is harmless.
    """
    row = WebhookEvent.objects.filter(id=event_row_id).first()
    if row is None:
        return "missing"
    if row.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return row.status
    handler = HANDLERS.get(row.type)
    row.attempts += 1
    row.error = ""
    if handler is None:
        row.status = WebhookEvent.Status.IGNORED
        row.error = f"No handler for {row.type}."
    else:
        try:
            # One transaction: a sync that fails halfway leaves nothing half-written in the ledger.
            with transaction.atomic():
                concerned = handler(row.payload["data"]["object"])
        except Exception as exc:  # recorded on the row for the newsroom's admin; reconcile repairs later
            logger.exception("webhook event %s (%s) failed", row.event_id, row.type)
            row.status = WebhookEvent.Status.FAILED
            row.error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        else:
            row.status = WebhookEvent.Status.PROCESSED if concerned else WebhookEvent.Status.IGNORED
            if not concerned:
                row.error = "Not one of our contributions."
    row.processed_at = timezone.now()
    row.save(update_fields=["status", "error", "attempts", "processed_at"])
    return row.status

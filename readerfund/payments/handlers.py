"""What each Stripe event does to the ledger, and the processing of a stored event.

Stripe delivers events at least once and in no particular order, so a handler never applies the
event's copy of an object: it takes the object's id and asks the ledger to sync that object from
its current state at Stripe (payments/ledger/). Running a handler twice, or running an older event
after a newer one, therefore ends in the same ledger. (Disputes are the one exception where the
emulator has no API to read them: see ledger/disputes.py.)

Each event belongs to the newsroom whose endpoint received it; it is processed with that newsroom's
Stripe account and touches only that newsroom's rows. No transaction is held across a handler: the
ledger gathers from Stripe first and writes in short transactions of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.declines import decline_reported
from readerfund.payments.models import Contribution, WebhookEvent

logger = logging.getLogger(__name__)

# A handler gets the newsroom and the event, and returns whether the object concerned our ledger.
Handler = Callable[[Newsroom, dict[str, Any]], bool]


def _object(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def _payment_intent(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    obj = _object(event)
    contribution = ledger.payment_intent_sync(newsroom=newsroom, intent_id=str(obj["id"]))
    # A renewal's intent is synced through its invoice, which returns nothing while the invoice is unpaid.
    return contribution is not None or bool(obj.get("invoice"))


def _payment_failed(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    # A declined confirmation counts against the card, the newsroom and the checkout (card testing, which
    # listens through payments/declines.py), counted
    # once whether this event or our pay endpoint saw it first; then the ledger syncs as for any intent.
    decline_reported(newsroom=newsroom, obj=_object(event))
    return _payment_intent(newsroom, event)


def _setup_failed(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    # Stripe's only word of a card declined while the page set it up (the reader's browser talked to Stripe,
    # not to us). localstripe sends no such event; our pay endpoint counts what it sees of it there.
    obj = _object(event)
    decline_reported(newsroom=newsroom, obj=obj)
    key = (obj.get("metadata") or {}).get(ledger.CHECKOUT_KEY) or ""
    return bool(key) and Contribution.objects.filter(newsroom=newsroom, request_key=key).exists()


def _ours(newsroom: Newsroom, subscription_id: Any) -> bool:
    return (
        bool(subscription_id)
        and Contribution.objects.filter(newsroom=newsroom, provider_subscription_id=str(subscription_id)).exists()
    )


def _invoice_paid(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    obj = _object(event)
    payment = ledger.invoice_sync(newsroom=newsroom, invoice_id=str(obj["id"]))
    return payment is not None or _ours(newsroom, obj.get("subscription"))


def _invoice_failed(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    # The signed event itself is evidence that an attempt failed: if the invoice is paid by now, the
    # ledger records the payment as a recovery, whichever of the two events arrives first.
    obj = _object(event)
    payment = ledger.invoice_sync(newsroom=newsroom, invoice_id=str(obj["id"]), failed_attempt_seen=True)
    return payment is not None or _ours(newsroom, obj.get("subscription"))


def _invoice_action_required(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    # A renewal waits for 3-D Secure: the supporter is e-mailed a page of ours that completes it.
    obj = _object(event)
    payment = ledger.invoice_sync(newsroom=newsroom, invoice_id=str(obj["id"]), action_required=True)
    return payment is not None or _ours(newsroom, obj.get("subscription"))


def _subscription(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    return bool(ledger.subscription_sync(newsroom=newsroom, subscription_id=str(_object(event)["id"])))


def _charge_refunded(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    return bool(ledger.charge_refund_sync(newsroom=newsroom, charge_id=str(_object(event)["id"])))


def _refund(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    return bool(ledger.refund_sync(newsroom=newsroom, refund_id=str(_object(event)["id"])))


def _dispute(newsroom: Newsroom, event: dict[str, Any]) -> bool:
    created = int(event.get("created") or 0)
    return bool(ledger.dispute_sync(newsroom=newsroom, dispute=_object(event), event_created=created))


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_failed,
    "setup_intent.setup_failed": _setup_failed,
    "payment_intent.processing": _payment_intent,
    "payment_intent.canceled": _payment_intent,
    "invoice.paid": _invoice_paid,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "invoice.payment_action_required": _invoice_action_required,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
}

ERROR_MAX_CHARS = 2000


def webhook_event_process(*, event_row_id: int) -> str:
    """Apply one stored event to the ledger and record the outcome on its row. Returns the status.

    Does nothing for an event already processed or ignored, so a second task for one row is harmless.
    A sync that fails halfway has written only whole facts (each in its own short transaction), and
    the retry, reading the current state again, finishes the rest.
    """
    row = WebhookEvent.objects.select_related("newsroom").filter(id=event_row_id).first()
    if row is None:
        return "missing"
    if row.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return row.status
    handler = HANDLERS.get(row.type)
    row.attempts += 1
    row.error = ""
    if row.newsroom is None:
        # Stored by the endpoint before there was one per newsroom: nothing says whose account it is from.
        row.status = WebhookEvent.Status.IGNORED
        row.error = "No newsroom: received at the old shared endpoint."
    elif handler is None:
        row.status = WebhookEvent.Status.IGNORED
        row.error = f"No handler for {row.type}."
    else:
        concerned: bool | None
        try:
            with gateway.account_use(account_for(row.newsroom)):
                concerned = handler(row.newsroom, row.payload)
        except gateway.GatewayNotFound as exc:
            # The newsroom's account has no such object: the event was signed with this endpoint's secret
            # but is about another account (a signing secret and keys from different accounts). Retrying
            # cannot help; the row says what to check.
            logger.warning(
                "webhook event %s (%s): object not in %s's account", row.event_id, row.type, row.newsroom.slug
            )
            row.status = WebhookEvent.Status.IGNORED
            row.error = (
                f"Not found in this newsroom's Stripe account ({exc}). Check that the endpoint's signing secret "
                "and the newsroom's keys belong to the same account."
            )[:ERROR_MAX_CHARS]
            concerned = None
        except Exception as exc:  # recorded on the row for the newsroom's admin; reconcile repairs later
            logger.exception("webhook event %s (%s) failed", row.event_id, row.type)
            row.status = WebhookEvent.Status.FAILED
            row.error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        else:
            if concerned is not None:
                row.status = WebhookEvent.Status.PROCESSED if concerned else WebhookEvent.Status.IGNORED
                if not concerned:
                    row.error = "Not one of our contributions."
    row.processed_at = timezone.now()
    row.save(update_fields=["status", "error", "attempts", "processed_at"])
    return row.status

"""POST /webhooks/stripe: verify the signature, store the event once by its id, enqueue processing.

Nothing here trusts the event's content for the ledger: the handlers (payments/handlers.py) read
each object's current state from Stripe. This view only decides whether the request really comes
from Stripe and whether we have seen the event before, so it stays fast and Stripe never times out.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from readerfund.core.http import ApiError
from readerfund.payments import gateway
from readerfund.payments.models import WebhookEvent
from readerfund.payments.tasks import webhook_event_process_task

logger = logging.getLogger(__name__)

# Stripe's events are usually a few KB; an invoice with many lines can reach a few hundred KB.
MAX_EVENT_BYTES = 1024 * 1024


def webhook_event_store(*, event: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Store a verified event once by its id; the first time, enqueue its processing on commit.

    Returns the row and whether it was new. A replay of an event that failed to process is enqueued
    again: we answered Stripe 200 the first time, so Stripe will not retry it for us.
    """
    event_id = str(event["id"])
    existing = WebhookEvent.objects.filter(event_id=event_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    event_id=event_id, type=str(event["type"]), payload=event, provider="stripe"
                )
        except IntegrityError:
            # Two deliveries of one event raced; the other one stored it and enqueued it.
            return WebhookEvent.objects.get(event_id=event_id), False
        transaction.on_commit(lambda: webhook_event_process_task.enqueue(event_row_id=row.id))
        return row, True
    if existing.status == WebhookEvent.Status.FAILED:
        transaction.on_commit(lambda: webhook_event_process_task.enqueue(event_row_id=existing.id))
    return existing, False


def _event_shape_check(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("object") != "event":
        raise ApiError(400, "not_an_event", 'The body is not a Stripe event (expected "object": "event").')
    if not isinstance(event.get("id"), str) or not event["id"] or len(event["id"]) > 100:
        raise ApiError(400, "not_an_event", 'The event has no usable "id".')
    if not isinstance(event.get("type"), str) or not event["type"] or len(event["type"]) > 100:
        raise ApiError(400, "not_an_event", 'The event has no usable "type".')
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise ApiError(400, "not_an_event", 'The event has no "data.object".')
    return event


def _verified_event(request: HttpRequest) -> dict[str, Any]:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_EVENT_BYTES:
        raise ApiError(413, "body_too_large", f"Event body is over {MAX_EVENT_BYTES // 1024} KB.")
    payload = request.body
    if len(payload) > MAX_EVENT_BYTES:
        raise ApiError(413, "body_too_large", f"Event body is over {MAX_EVENT_BYTES // 1024} KB.")
    signature = request.headers.get("Stripe-Signature", "")
    if not signature:
        raise ApiError(
            400, "missing_signature", "The Stripe-Signature header is missing; only Stripe may post events here."
        )
    try:
        event = gateway.event_verify(payload=payload, signature=signature)
    except gateway.EventSignatureInvalid as exc:
        raise ApiError(
            400,
            "bad_signature",
            f"The Stripe-Signature does not verify ({exc}). Check STRIPE_WEBHOOK_SECRET and the server's clock.",
        ) from exc
    return _event_shape_check(event)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature is what authenticates the request.
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = _verified_event(request)
    except ApiError as exc:
        # Event ids and types are not personal data; the body and the caller's address stay out of logs.
        logger.warning("webhook refused: %s", exc.code)
        return exc.response()
    row, created = webhook_event_store(event=event)
    return JsonResponse({"received": True, "event": row.event_id, "duplicate": not created})

"""POST /webhooks/stripe/<newsroom>: verify the signature with that newsroom's signing secret, store the
event once by its id (per newsroom), enqueue processing.

Each newsroom is paid into its own Stripe account and registers this endpoint, with its own slug, in
that account; an event signed with one newsroom's secret is refused at another's endpoint.

Nothing here trusts the event's content for the ledger: the handlers (payments/handlers.py) read
each object's current state from Stripe. This view only decides whether the request really comes
from Stripe and whether we have seen the event before, so it stays fast and Stripe never times out.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from readerfund.core.http import ApiError, read_body
from readerfund.core.tasks import rows_enqueue, rows_requeue_lost
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.event_redaction import event_redact
from readerfund.payments.models import WebhookEvent
from readerfund.payments.tasks import webhook_event_process_task

logger = logging.getLogger(__name__)

# Stripe's events are usually a few KB; an invoice with many lines can reach a few hundred KB.
MAX_EVENT_BYTES = 1024 * 1024
# A failed event is tried again after a backoff, this many times in all; then `readerfund reconcile`.
MAX_ATTEMPTS = 6
# What a client is told to wait when the database is busy (Stripe retries 5xx on its own schedule).
BUSY_RETRY_AFTER_SECONDS = 5


def webhook_event_enqueue(*, event_row_ids: list[int]) -> None:
    """Enqueue processing and note the task on the row, so the periodic scan can tell a waiting task
    from a lost one."""
    # Task arguments are stored in the task table: the row id only, never the payload.
    rows_enqueue(task=webhook_event_process_task, model=WebhookEvent, argument="event_row_id", row_ids=event_row_ids)


def _retry_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, settings.WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0)))


def _requeue_after() -> timedelta:
    """An event not processed this long after it was stored (or last enqueued) lost its task: the process
    died between the commit and the enqueue, or a worker died running it. Longer than any live run."""
    return timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)


def webhook_events_requeue(*, now: datetime | None = None) -> int:
    """Periodic (readerfund worker): enqueue again events whose processing was lost, and failed ones
    whose backoff has passed, as notifications.services.outbox_retry_due does for e-mail.

    An event whose task still waits in the queue is left alone; a duplicate task would be harmless
    anyway (a processed event is not processed again, and every sync is idempotent).
    """
    now = now or timezone.now()
    stale = now - _requeue_after()
    not_recently_enqueued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    received = Q(not_recently_enqueued, status=WebhookEvent.Status.RECEIVED, received_at__lt=stale)
    failed = Q(status=WebhookEvent.Status.FAILED, attempts__lt=MAX_ATTEMPTS, processed_at__isnull=False)
    rows = WebhookEvent.objects.filter(received | failed).values_list("id", "attempts", "processed_at", "task_id")
    due = [
        (row_id, task_id)
        for row_id, attempts, processed_at, task_id in rows[:500]
        # A failed event still backing off waits.
        if processed_at is None or processed_at + _retry_backoff(attempts) <= now
    ]
    lost = rows_requeue_lost(
        task=webhook_event_process_task,
        rows=due,
        now=now,
        enqueue=lambda ids: webhook_event_enqueue(event_row_ids=ids),
        # Running for longer than any live run takes means its worker died holding it.
        running_grace=_requeue_after(),
    )
    if lost:
        logger.info("re-enqueueing %d webhook event(s)", len(lost))
    return len(lost)


def webhook_event_store(*, newsroom: Newsroom, event: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Store a verified event once by its id; the first time, enqueue its processing on commit.

    Returns the row and whether it was new. A replay of an event that failed to process is enqueued
    again: we answered Stripe 200 the first time, so Stripe will not retry it for us.
    """
    event_id = str(event["id"])
    existing = WebhookEvent.objects.filter(newsroom=newsroom, event_id=event_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                # Stored without the person (names, addresses, e-mails): see payments/event_redaction.py.
                row = WebhookEvent.objects.create(
                    newsroom=newsroom,
                    event_id=event_id,
                    type=str(event["type"]),
                    payload=event_redact(event),
                    provider="stripe",
                )
        except IntegrityError:
            # Two deliveries of one event raced; the other one stored it and enqueued it.
            return WebhookEvent.objects.get(newsroom=newsroom, event_id=event_id), False
        transaction.on_commit(lambda: webhook_event_enqueue(event_row_ids=[row.id]))
        return row, True
    never_enqueued = existing.status == WebhookEvent.Status.RECEIVED and existing.enqueued_at is None
    if existing.status == WebhookEvent.Status.FAILED or never_enqueued:
        transaction.on_commit(lambda: webhook_event_enqueue(event_row_ids=[existing.id]))
    return existing, False


def _event_shape_check(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("object") != "event":
        raise ApiError(400, "not_an_event", 'The body is not a Stripe event (expected "object": "event").')
    if not isinstance(event.get("id"), str) or not event["id"] or len(event["id"]) > 100:
        raise ApiError(400, "not_an_event", 'The event has no usable "id".')
    if not isinstance(event.get("type"), str) or not event["type"] or len(event["type"]) > 100:
        raise ApiError(400, "not_an_event", 'The event has no usable "type".')
    try:
        f"{event['id']}{event['type']}".encode()
    except UnicodeEncodeError as exc:  # a lone surrogate: no database can store it
        raise ApiError(400, "not_an_event", "The event's id and type must be text without lone surrogates.") from exc
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise ApiError(400, "not_an_event", 'The event has no "data.object".')
    return event


def _verified_event(request: HttpRequest, newsroom: Newsroom) -> dict[str, Any]:
    # The API's one body cap (core/http.py read_body), at an event's size: also a chunked body is capped.
    payload = read_body(request, max_bytes=MAX_EVENT_BYTES)
    signature = request.headers.get("Stripe-Signature", "")
    if not signature:
        raise ApiError(
            400, "missing_signature", "The Stripe-Signature header is missing; only Stripe may post events here."
        )
    try:
        event = gateway.event_verify(payload=payload, signature=signature, secret=account_for(newsroom).webhook_secret)
    except gateway.EventSignatureInvalid as exc:
        raise ApiError(
            400,
            "bad_signature",
            f"The Stripe-Signature does not verify ({exc}). Check the newsroom's webhook signing secret (its own, "
            "or STRIPE_WEBHOOK_SECRET on the deployment's default account) and the server's clock.",
        ) from exc
    return _event_shape_check(event)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature is what authenticates the request.
@require_POST
def stripe_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    try:
        newsroom = Newsroom.objects.filter(slug=slug).first()
        if newsroom is None:
            return ApiError(404, "no_such_newsroom", f"There is no newsroom {slug!r} on this deployment.").response()
        try:
            event = _verified_event(request, newsroom)
        except ApiError as exc:
            # Event ids and types are not personal data; the body and the caller's address stay out of logs.
            logger.warning("webhook for %s refused: %s", newsroom.slug, exc.code)
            return exc.response()
        row, created = webhook_event_store(newsroom=newsroom, event=event)
    except OperationalError as exc:
        # SQLite's one writer was busy past busy_timeout (or the database is unreachable). Not a 500:
        # Stripe retries a 503 later, and an event stored but not enqueued is picked up by the worker.
        logger.warning("webhook for %s not stored, database busy: %s", slug, type(exc).__name__)
        response = ApiError(503, "busy", "The database is busy; send the event again in a few seconds.").response()
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"received": True, "event": row.event_id, "duplicate": not created})


@csrf_exempt
def stripe_webhook_shared(request: HttpRequest) -> JsonResponse:
    """The old endpoint without a newsroom: it cannot tell whose account an event is from. Refused with
    what to do, so a forgotten configuration shows in Stripe's delivery log instead of losing events."""
    return ApiError(
        410,
        "endpoint_moved",
        "Each newsroom has its own webhook endpoint: point Stripe at /webhooks/stripe/<newsroom slug>.",
    ).response()

"""E-mail for the rest of readerfund: queue a message once, by key; the worker sends it once.

    email_queue(newsroom=n, to="reader@example.org", template="receipt",
                context={"amount": "$5.00"}, locale="ru", message_key=f"receipt-{payment.id}")

Call it inside the transaction that made the e-mail necessary: the row is written with that
transaction and the send task is enqueued only when it commits. Queuing the same message_key twice
is a no-op, so callers may retry freely.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from readerfund.core.privacy import email_checked, normalize_email
from readerfund.core.tasks import rows_enqueue, rows_requeue_lost
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.chaos import chaos_point
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.render import template_locale

_MESSAGE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


def email_queue(
    *,
    newsroom: Newsroom,
    to: str,
    template: str,
    context: dict[str, Any],
    locale: str,
    message_key: str,
    unsubscribe_url: str = "",
) -> None:
    """Queue one e-mail. Raises ValueError for a bad key or context, ValidationError for a bad
    address, TemplateDoesNotExist when the template is missing (at call time, not in the worker).

    `context` must be JSON-serialisable (strings, numbers, lists, dicts): format Money before.
    Templates also get `newsroom` and `site_url`. `unsubscribe_url` adds RFC 8058 headers.
    """
    if not _MESSAGE_KEY.match(message_key):
        raise ValueError("message_key must be letters, digits, '.', '_' or '-', e.g. 'receipt-42'")
    address = email_checked(to)
    try:
        encoded_context = json.dumps(context, separators=(",", ":"))
    except TypeError as error:
        raise ValueError(f"context must be JSON-serialisable: {error}") from error
    resolved_locale = template_locale(template, locale)
    message, created = OutboxMessage.objects.get_or_create(
        message_key=message_key,
        defaults={
            "newsroom": newsroom,
            "template": template,
            "locale": resolved_locale,
            "to_address": address,
            "context": encoded_context,
            "unsubscribe_url": unsubscribe_url,
            "available_at": timezone.now(),
        },
    )
    if created:
        message_id = message.id
        transaction.on_commit(lambda: outbox_enqueue(message_ids=[message_id]))


def outbox_enqueue(*, message_ids: list[int]) -> None:
    from readerfund.notifications.tasks import outbox_send_task

    # Task arguments are stored in the task table: ids only, never an address.
    rows_enqueue(
        task=outbox_send_task,
        model=OutboxMessage,
        argument="message_id",
        row_ids=message_ids,
        before_each=lambda: chaos_point("before_enqueue"),
    )


def outbox_unsent_to(*, newsroom: Newsroom, to: str) -> list[OutboxMessage]:
    """The newsroom's messages to this address that have not gone out yet. Only those still hold an
    address (sent, failed and cancelled ones are blanked), and it is encrypted with a random nonce, so
    each is decrypted and compared: there are few, since the worker sends them within seconds."""
    address = normalize_email(to)
    unsent = OutboxMessage.objects.filter(
        newsroom=newsroom, status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
    ).exclude(to_address="")
    return [message for message in unsent if address and normalize_email(message.to_address) == address]


def outbox_cancel(*, message_key: str) -> bool:
    """Withdraw a message that has not gone out yet; its address is erased at once.

    'sending' is withdrawn too: a worker killed between the server's 250 and its mark leaves the
    row there, and the reader who got that e-mail and unsubscribed must not get it again when the
    lease expires. A live worker that already holds the address still sends and marks it sent;
    one that reads the row after this finds no address and leaves it cancelled.
    """
    withdrawable = [OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
    return bool(
        OutboxMessage.objects.filter(message_key=message_key, status__in=withdrawable).update(
            status=OutboxMessage.Status.CANCELLED, to_address="", context="", claimed_until=None
        )
    )


def outbox_retry_due(*, now: datetime | None = None) -> int:
    """Periodic: enqueue again messages whose task is gone, i.e. a worker died holding it, or it
    finished without sending (SMTP was down; the backoff has passed).

    A message whose task still waits in the queue is left alone, so a backlog is not enqueued
    twice; one whose task is 'running' but which nobody claimed within the lease belongs to a dead
    worker. Even a duplicate task would be harmless: the claim decides who sends.
    """
    from readerfund.notifications.tasks import outbox_send_task

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)
    claimable = Q(status=OutboxMessage.Status.PENDING, available_at__lte=now) | Q(
        status=OutboxMessage.Status.SENDING, claimed_until__lt=now
    )
    not_recently_enqueued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale)
    rows = OutboxMessage.objects.filter(claimable, not_recently_enqueued).values_list("id", "task_id")[:500]
    # A running task is judged by the claim's lease (in `claimable` above), not here: no running_grace.
    lost = rows_requeue_lost(
        task=outbox_send_task, rows=rows, now=now, enqueue=lambda ids: outbox_enqueue(message_ids=ids)
    )
    return len(lost)

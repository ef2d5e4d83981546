"""Send one outbox message exactly once, surviving a worker killed at any point.

The steps, and what a kill at each leaves behind:

1. claim   UPDATE … SET status='sending', claimed_until=now+lease WHERE id=… AND (pending, or
           sending with an expired lease). One row updated means this worker owns the message.
           Killed after it: the row stays 'sending' until the lease expires, then the periodic
           scan enqueues it again and another worker claims it. Nothing was sent: no duplicate.
2. render  Templates to a MIME message with Message-ID <message_key@host>. Killed: as above.
3. send    SMTP MAIL/RCPT/DATA. Once the server answers DATA with 250 the message is out.
4. mark    UPDATE … SET status='sent', address and context blanked — immediately after the 250,
           before even QUIT, so the only window in which a kill duplicates the e-mail is the time
           between the server's 250 and our UPDATE's commit (one local database write,
           typically well under a millisecond of work). A kill there leaves a 'sending' row whose
           lease expires and the message goes out a second time with the SAME Message-ID. No
           protocol can close that window: SMTP has no idempotency key, so this is "what SMTP
           itself allows". The lease (EMAIL_SEND_LEASE_SECONDS) must exceed EMAIL_TIMEOUT plus
           rendering, or a slow-but-alive worker could lose its claim mid-send.

After 4 nothing can go wrong: the task returns and the row is done.
"""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import OperationalError
from django.db.models import F, Q
from django.utils import timezone

from readerfund.notifications.chaos import chaos_point
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.render import message_render

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
Status = OutboxMessage.Status


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> str:
    """Claim, render, send, mark. Returns what happened: 'sent', 'skipped', 'retry' or 'failed'."""
    now = now or timezone.now()
    claimable = Q(status=Status.PENDING, available_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)
    claimed = OutboxMessage.objects.filter(claimable, id=message_id).update(
        status=Status.SENDING,
        claimed_until=now + timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return "skipped"
    chaos_point("after_claim")
    message = OutboxMessage.objects.select_related("newsroom").get(id=message_id)
    if message.status != Status.SENDING or not message.to_address:
        return "skipped"  # withdrawn (outbox_cancel) between our claim and this read
    try:
        email = message_render(message)
    except Exception as error:
        # A broken template or context: back off like an SMTP error, give up after MAX_ATTEMPTS.
        logger.exception("e-mail %s could not be rendered", message.message_key)
        return _after_refusal(message, error, now)
    chaos_point("after_render")
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
        # With the connection already open, send_messages returns right after DATA is accepted
        # and leaves QUIT to us: we mark first, so the duplicate window stays one UPDATE wide.
        connection.send_messages([email])
        chaos_point("after_send")
        _mark_sent(message_id)
        chaos_point("after_mark")
        return "sent"
    except (smtplib.SMTPException, OSError) as error:  # refused, or the server unreachable
        return _after_refusal(message, error, now)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - the message is already accounted for; QUIT failing is harmless
            logger.debug("closing the SMTP connection failed", exc_info=False)


def _mark_sent(message_id: int) -> None:
    # Retry a locked SQLite database: giving up here would turn a sent message into a duplicate.
    for attempt in range(20):
        try:
            OutboxMessage.objects.filter(id=message_id).update(
                status=Status.SENT, sent_at=timezone.now(), to_address="", context="", claimed_until=None
            )
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.05 * (attempt + 1))


def _after_refusal(message: OutboxMessage, error: Exception, now: datetime) -> str:
    """Temporary failures back off and retry; permanent ones (5xx, recipient refused) give up.
    Either way the claim is released, so a failing message never sits in 'sending'.

    Logged by class and code only: SMTP errors can quote the address.
    """
    code = getattr(error, "smtp_code", None)
    permanent = isinstance(error, smtplib.SMTPRecipientsRefused) or (isinstance(code, int) and 500 <= code < 600)
    logger.warning("e-mail %s not sent: %s %s", message.message_key, type(error).__name__, code or "")
    # Only while still ours: a message withdrawn meanwhile stays cancelled, never pending again.
    ours = OutboxMessage.objects.filter(id=message.id, status=Status.SENDING)
    if permanent or message.attempts >= MAX_ATTEMPTS:
        ours.update(status=Status.FAILED, to_address="", context="", claimed_until=None)
        return "failed"
    backoff = timedelta(seconds=min(3600, 30 * 2 ** (message.attempts - 1)))
    ours.update(status=Status.PENDING, available_at=now + backoff, claimed_until=None)
    return "retry"

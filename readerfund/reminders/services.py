"""Reminders: schedule (or move), hand the due ones to the mail queue exactly once, cancel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from readerfund.core.privacy import lookup_hash, normalize_email
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.services import email_queue, outbox_cancel
from readerfund.reminders import schedule
from readerfund.reminders.copy import day_text
from readerfund.reminders.counters import reminder_count
from readerfund.reminders.models import Reminder

logger = logging.getLogger(__name__)

_HASH_SCOPE = "reminders:address"
_TOKEN_SALT = "readerfund.reminders.unsubscribe"
Status = Reminder.Status


@dataclass(frozen=True)
class Scheduled:
    reminder: Reminder
    moved: bool


def reminder_schedule(
    *,
    newsroom: Newsroom,
    email: str,
    remind_on: date,
    locale: str,
    campaign_id: int | None,
    variant_id: int | None,
    zone: tzinfo | None = None,
    now: datetime | None = None,
) -> Scheduled:
    """Create the address's pending reminder for this newsroom, or move the one it already has.

    `zone`, the reader's time zone, only sets the hour it is sent; it is not stored."""
    now = now or timezone.now()
    address = normalize_email(email)
    fields = {
        "remind_on": remind_on,
        "due_at": schedule.send_at(remind_on, now=now, zone=zone),
        "locale": locale,
        "campaign_id": campaign_id,
        "variant_id": variant_id,
    }
    email_hash = lookup_hash(address, scope=_HASH_SCOPE)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return _create_or_move(newsroom=newsroom, address=address, email_hash=email_hash, fields=fields)
        except IntegrityError:
            # Two requests for one address raced past the look-up; the second becomes a move.
            continue
    raise RuntimeError("could not schedule the reminder")


def _create_or_move(*, newsroom: Newsroom, address: str, email_hash: str, fields: dict) -> Scheduled:
    pending = Reminder.objects.select_for_update().filter(
        newsroom=newsroom, email_hash=email_hash, status=Status.PENDING
    )
    today = timezone.now().date()
    if pending.update(**fields, updated_at=timezone.now()):
        reminder_count(newsroom_id=newsroom.id, day=today, event="moved")
        return Scheduled(reminder=pending.get(), moved=True)
    reminder = Reminder.objects.create(newsroom=newsroom, email=address, email_hash=email_hash, **fields)
    reminder_count(newsroom_id=newsroom.id, day=today, event="scheduled")
    return Scheduled(reminder=reminder, moved=False)


def reminders_pending_for(*, newsroom: Newsroom, email: str) -> list[Reminder]:
    """The address's pending reminder at this newsroom (at most one), found by its keyed hash. Reminders
    that went out or were cancelled hold no address and cannot be found by one."""
    email_hash = lookup_hash(normalize_email(email), scope=_HASH_SCOPE)
    return list(Reminder.objects.filter(newsroom=newsroom, email_hash=email_hash, status=Status.PENDING))


def reminder_token(reminder_id: int) -> str:
    """The unsubscribe token: signed reminder id. It carries no address and never expires."""
    return signing.dumps(reminder_id, salt=_TOKEN_SALT, compress=True)


def reminder_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def reminder_message_key(reminder_id: int) -> str:
    return f"reminder-{reminder_id}"


def checkout_url(*, newsroom: Newsroom, reminder: Reminder) -> str:
    query: dict[str, str | int] = {}
    if reminder.campaign_id is not None:
        query["campaign"] = reminder.campaign_id
    if reminder.variant_id is not None:
        query["variant"] = reminder.variant_id
    query |= {
        "locale": reminder.locale,
        "utm_source": "readerfund",
        "utm_medium": "email",
        "utm_campaign": "reminder",
    }
    return f"{settings.SITE_URL}/support/{newsroom.slug}/?{urlencode(query)}"


def unsubscribe_url(reminder_id: int) -> str:
    return settings.SITE_URL + reverse("reminder-unsubscribe", args=[reminder_token(reminder_id)])


def reminders_due_send(*, now: datetime | None = None, batch: int = 500, max_batches: int = 20) -> int:
    """Periodic: hand every due reminder to the mail queue. Returns how many were handed over."""
    now = now or timezone.now()
    due = Reminder.objects.filter(status=Status.PENDING, due_at__lte=now).order_by("due_at")
    handed = 0
    failed: set[int] = set()
    for _batch in range(max_batches):
        ids = list(due.exclude(id__in=failed).values_list("id", flat=True)[:batch])
        for reminder_id in ids:
            try:
                handed += reminder_hand_over(reminder_id=reminder_id, now=now)
            except Exception:
                # One broken reminder must not hold back everyone else's; it stays pending and
                # is tried again on the next scan.
                logger.exception("reminder %s could not be handed over", reminder_id)
                failed.add(reminder_id)
        if len(ids) < batch:
            break
    return handed


def reminder_hand_over(*, reminder_id: int, now: datetime) -> bool:
    """Claim one due reminder and queue its e-mail, atomically: both happen or neither.

    The claim is an UPDATE … WHERE status='pending' that also erases the address from the
    reminder; only the worker whose UPDATE changed the row queues the e-mail, keyed
    'reminder-<id>' (so even two claims would make one outbox row, one Message-ID). From here the
    outbox guarantees the send (readerfund/notifications/delivery.py): a worker killed inside this
    transaction leaves the reminder pending for the next scan, never half-handed-over.
    """
    with transaction.atomic():
        # FOR UPDATE, and due_at again in the claim: a reader moving the date commits either before
        # our read (we see the new date) or after our claim (theirs becomes a new reminder). A plain
        # read let a move slip in between, and the e-mail went out on the old date and language.
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("newsroom")
            .filter(id=reminder_id, status=Status.PENDING, due_at__lte=now)
            .first()
        )
        if reminder is None:
            return False
        claimed = Reminder.objects.filter(id=reminder_id, status=Status.PENDING, due_at__lte=now).update(
            status=Status.SENT, email="", email_hash="", sent_at=timezone.now(), updated_at=timezone.now()
        )
        if claimed != 1:
            return False
        newsroom = reminder.newsroom
        email_queue(
            newsroom=newsroom,
            to=reminder.email,
            template="reminder",
            context={
                "remind_on": reminder.remind_on.isoformat(),
                "remind_on_text": day_text(reminder.remind_on, reminder.locale),
                "checkout_url": checkout_url(newsroom=newsroom, reminder=reminder),
                "unsubscribe_url": unsubscribe_url(reminder_id),
            },
            locale=reminder.locale,
            message_key=reminder_message_key(reminder_id),
            unsubscribe_url=unsubscribe_url(reminder_id),
        )
        reminder_count(newsroom_id=newsroom.id, day=timezone.now().date(), event="sent")
    return True


def reminder_cancel(*, reminder_id: int, now: datetime | None = None) -> Reminder | None:
    """Cancel (idempotent): erase the address, and withdraw the e-mail if it has not gone out yet.

    Returns the reminder, or None if there is no such reminder.
    """
    now = now or timezone.now()
    with transaction.atomic():
        reminder = Reminder.objects.select_related("newsroom").filter(id=reminder_id).first()
        if reminder is None:
            return None
        changed = Reminder.objects.filter(id=reminder_id, status__in=[Status.PENDING, Status.SENT]).update(
            status=Status.CANCELLED, email="", email_hash="", cancelled_at=now, updated_at=now
        )
        if changed:
            outbox_cancel(message_key=reminder_message_key(reminder_id))
            reminder_count(newsroom_id=reminder.newsroom_id, day=now.date(), event="cancelled")
            reminder.refresh_from_db()
    return reminder

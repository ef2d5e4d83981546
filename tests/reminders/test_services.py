import threading
import time
from datetime import timedelta
from email.header import decode_header, make_header
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, transaction
from django.utils import timezone

from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import worker_run_once
from readerfund.reminders.models import Reminder, ReminderDailyCount
from readerfund.reminders.services import (
    reminder_cancel,
    reminder_hand_over,
    reminder_id_from_token,
    reminder_schedule,
    reminder_token,
    reminders_due_send,
)

pytestmark = pytest.mark.django_db


def header(message, name):
    return str(make_header(decode_header(message[name])))


def bodies(message):
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk() if not p.is_multipart()}
    return parts["text/plain"], parts["text/html"]


def test_a_newsroom_that_chooses_named_emails_gets_its_name_in_the_subject(
    schedule_reminder, after, smtp_server, demo_newsroom, django_capture_on_commit_callbacks
):
    demo_newsroom.neutral_emails = False
    demo_newsroom.save(update_fields=["neutral_emails"])
    reminder = schedule_reminder(locale="ru")
    with django_capture_on_commit_callbacks(execute=True):
        worker_run_once(now=after(reminder))
    (message,) = smtp_server.wait_for(1)
    assert header(message, "Subject") == f"Напоминание от «{demo_newsroom.name}»"


def test_nothing_is_sent_before_the_day(schedule_reminder, smtp_server, django_capture_on_commit_callbacks):
    reminder = schedule_reminder()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_due_send(now=reminder.due_at.replace(hour=8)) == 0
    assert Reminder.objects.get().status == Reminder.Status.PENDING


def test_due_reminder_is_sent_once_in_russian_with_attribution_and_unsubscribe(
    schedule_reminder, after, smtp_server, demo_newsroom, django_capture_on_commit_callbacks
):
    reminder = schedule_reminder(locale="ru")
    with django_capture_on_commit_callbacks(execute=True):
        worker_run_once(now=after(reminder))
        worker_run_once(now=after(reminder))
    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == f"<reminder-{reminder.id}@127.0.0.1>"
    assert header(message, "Subject") == "Напоминание"  # neutral: the subject names no outlet
    assert header(message, "From") == f"{demo_newsroom.sender_name} <notifications@readerfund.local>"
    text, html = bodies(message)
    assert "Поддержать" in html and demo_newsroom.brand_colour in html
    checkout = next(word for word in text.split() if "/support/" in word)
    query = parse_qs(urlsplit(checkout).query)
    assert checkout.startswith(f"http://127.0.0.1:8000/support/{demo_newsroom.slug}/?")
    assert query["campaign"] == [str(reminder.campaign_id)] and query["variant"] == [str(reminder.variant_id)]
    assert query["locale"] == ["ru"] and query["utm_medium"] == ["email"]
    unsubscribe = "".join(message["List-Unsubscribe"].split()).strip("<>")
    assert reminder_id_from_token(urlsplit(unsubscribe).path.split("/")[-2]) == reminder.id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.email, reminder.email_hash) == (Reminder.Status.SENT, "", "")
    assert ReminderDailyCount.objects.get().sent == 1


def test_hand_over_happens_once(schedule_reminder, after):
    reminder = schedule_reminder()
    assert reminder_hand_over(reminder_id=reminder.id, now=after(reminder)) is True
    assert reminder_hand_over(reminder_id=reminder.id, now=after(reminder)) is False
    assert OutboxMessage.objects.filter(message_key=f"reminder-{reminder.id}").count() == 1


def test_one_pending_reminder_per_address(schedule_reminder):
    first = schedule_reminder(days=10)
    second = schedule_reminder(email=" READER@example.org", days=20)
    assert first.id == second.id
    assert Reminder.objects.filter(status=Reminder.Status.PENDING).count() == 1


def test_a_new_reminder_may_follow_a_sent_one(schedule_reminder, after):
    first = schedule_reminder()
    reminder_hand_over(reminder_id=first.id, now=after(first))
    second = schedule_reminder()
    assert second.id != first.id


def test_cancel_erases_the_address_and_is_idempotent(schedule_reminder):
    reminder = schedule_reminder()
    cancelled = reminder_cancel(reminder_id=reminder.id)
    assert cancelled is not None and cancelled.status == Reminder.Status.CANCELLED
    assert (cancelled.email, cancelled.email_hash) == ("", "")
    reminder_cancel(reminder_id=reminder.id)
    assert ReminderDailyCount.objects.get().cancelled == 1
    assert reminder_cancel(reminder_id=999999) is None


def test_cancel_after_hand_over_withdraws_the_unsent_email(schedule_reminder, after, smtp_server):
    reminder = schedule_reminder()
    reminder_hand_over(reminder_id=reminder.id, now=after(reminder))
    reminder_cancel(reminder_id=reminder.id)
    worker_run_once()
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.CANCELLED
    assert smtp_server.messages == []


def test_token_carries_the_id_only_and_refuses_tampering():
    token = reminder_token(42)
    assert reminder_id_from_token(token) == 42
    assert reminder_id_from_token(token[:-2] + "xx") is None
    assert reminder_id_from_token("42") is None


@pytest.mark.django_db(transaction=True)
def test_a_reminder_moved_while_it_is_being_claimed_keeps_its_new_date(schedule_reminder, after):
    if connection.vendor == "sqlite":
        # SQLite's writers are serialised (BEGIN IMMEDIATE), so the window is PostgreSQL's; and the
        # in-memory test database refuses a second writer outright.
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    reminder = schedule_reminder(days=1)
    now = after(reminder)
    later = timezone.now().date() + timedelta(days=60)
    moved = threading.Event()

    def reader_moves_the_date():
        # The reader's "move" holds the row while the worker tries to claim it.
        try:
            with transaction.atomic():
                reminder_schedule(
                    newsroom=reminder.newsroom,
                    email="reader@example.org",
                    remind_on=later,
                    locale="ru",
                    campaign_id=None,
                    variant_id=None,
                )
                moved.set()
                time.sleep(0.5)
        finally:
            connection.close()

    mover = threading.Thread(target=reader_moves_the_date)
    mover.start()
    assert moved.wait(10)
    handed = reminder_hand_over(reminder_id=reminder.id, now=now)
    mover.join()
    reminder.refresh_from_db()
    assert handed is False
    assert (reminder.status, reminder.remind_on, reminder.locale) == (Reminder.Status.PENDING, later, "ru")
    assert not OutboxMessage.objects.exists()


def test_unsubscribing_after_a_send_the_worker_did_not_mark_prevents_a_second_copy(
    schedule_reminder, after, smtp_server
):
    # A worker killed between the server's 250 and its mark leaves the row 'sending'; the reader
    # got the e-mail and unsubscribed. When the lease runs out, nothing may go out again.
    reminder = schedule_reminder()
    reminder_hand_over(reminder_id=reminder.id, now=after(reminder))
    lapsed = timezone.now() - timedelta(minutes=5)
    OutboxMessage.objects.update(status=OutboxMessage.Status.SENDING, claimed_until=lapsed, enqueued_at=lapsed)
    reminder_cancel(reminder_id=reminder.id)
    worker_run_once()
    message = OutboxMessage.objects.get()
    assert (message.status, message.to_address, message.context) == (OutboxMessage.Status.CANCELLED, "", "")
    assert smtp_server.messages == []


def test_one_broken_reminder_does_not_hold_back_the_others(schedule_reminder, after, monkeypatch):
    from readerfund.reminders import services

    broken = schedule_reminder("first@example.org")
    fine = schedule_reminder("second@example.org")
    real_hand_over = services.reminder_hand_over

    def hand_over(*, reminder_id, now):
        if reminder_id == broken.id:
            raise RuntimeError("a template error, say")
        return real_hand_over(reminder_id=reminder_id, now=now)

    monkeypatch.setattr(services, "reminder_hand_over", hand_over)
    assert reminders_due_send(now=after(fine)) == 1
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == Reminder.Status.PENDING  # tried again on the next scan
    assert fine.status != Reminder.Status.PENDING

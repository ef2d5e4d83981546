from datetime import timedelta

import pytest
from django.utils import timezone

from readerfund.demo.processes import free_port
from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.services import email_queue, outbox_retry_due

pytestmark = pytest.mark.django_db

CONTEXT = {"remind_on_text": "12 March 2027", "checkout_url": "http://x/", "unsubscribe_url": "http://y/"}


@pytest.fixture
def message(demo_newsroom):
    email_queue(
        newsroom=demo_newsroom,
        to="reader@example.org",
        template="reminder",
        context=CONTEXT,
        locale="en",
        message_key="delivery-1",
    )
    return OutboxMessage.objects.get(message_key="delivery-1")


def test_a_claimed_message_is_not_claimed_again(message, smtp_server):
    OutboxMessage.objects.filter(id=message.id).update(
        status=OutboxMessage.Status.SENDING, claimed_until=timezone.now() + timedelta(seconds=60)
    )
    assert outbox_deliver(message_id=message.id) == "skipped"
    assert smtp_server.messages == []


def test_an_expired_claim_is_enqueued_again_and_sent(message, smtp_server):
    from readerfund.notifications.worker import tasks_run_ready

    OutboxMessage.objects.filter(id=message.id).update(
        status=OutboxMessage.Status.SENDING,
        claimed_until=timezone.now() - timedelta(seconds=1),
        enqueued_at=timezone.now() - timedelta(hours=1),
    )
    assert outbox_retry_due() == 1
    assert outbox_retry_due() == 0  # just enqueued: not again until the lease has passed
    assert tasks_run_ready() == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert OutboxMessage.objects.get(id=message.id).status == OutboxMessage.Status.SENT


def test_sent_message_is_skipped(message, smtp_server):
    assert outbox_deliver(message_id=message.id) == "sent"
    assert outbox_deliver(message_id=message.id) == "skipped"
    assert len(smtp_server.wait_for(1)) == 1


def test_smtp_server_down_backs_off_and_keeps_the_message(message, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    assert outbox_deliver(message_id=message.id) == "retry"
    row = OutboxMessage.objects.get(id=message.id)
    assert row.status == OutboxMessage.Status.PENDING
    assert row.available_at > timezone.now() + timedelta(seconds=20)
    assert row.to_address == "reader@example.org"
    assert outbox_deliver(message_id=message.id) == "skipped"  # not before its backoff


def test_refused_recipient_gives_up_and_erases_the_address(message, settings):
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 No such user"

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        assert outbox_deliver(message_id=message.id) == "failed"
    finally:
        controller.stop()
    row = OutboxMessage.objects.get(id=message.id)
    assert row.status == OutboxMessage.Status.FAILED and row.to_address == ""


def test_a_message_whose_task_still_waits_is_not_enqueued_again(demo_newsroom, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(
            newsroom=demo_newsroom,
            to="a@example.org",
            template="reminder",
            context=CONTEXT,
            locale="en",
            message_key="backlog-1",
        )
    # Long in the queue (a backlog), but its task is still there: no second copy.
    OutboxMessage.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert outbox_retry_due() == 0


def test_a_message_that_cannot_render_backs_off_then_fails(message, smtp_server):
    OutboxMessage.objects.filter(id=message.id).update(template="gone")
    assert outbox_deliver(message_id=message.id) == "retry"
    row = OutboxMessage.objects.get(id=message.id)
    assert row.status == OutboxMessage.Status.PENDING and row.claimed_until is None
    OutboxMessage.objects.filter(id=message.id).update(attempts=7, available_at=timezone.now())
    assert outbox_deliver(message_id=message.id) == "failed"
    assert OutboxMessage.objects.get(id=message.id).to_address == ""
    assert smtp_server.messages == []


def test_a_message_withdrawn_while_claimed_stays_withdrawn(message, smtp_server, monkeypatch):
    from readerfund.notifications import delivery
    from readerfund.notifications.services import outbox_cancel

    def reader_unsubscribes_at(point):
        if point == "after_claim":
            outbox_cancel(message_key=message.message_key)

    monkeypatch.setattr(delivery, "chaos_point", reader_unsubscribes_at)
    assert outbox_deliver(message_id=message.id) == "skipped"
    withdrawn = OutboxMessage.objects.get(id=message.id)
    assert (withdrawn.status, withdrawn.to_address) == (OutboxMessage.Status.CANCELLED, "")
    assert outbox_deliver(message_id=message.id, now=timezone.now() + timedelta(days=1)) == "skipped"
    assert smtp_server.messages == []

from email.header import decode_header, make_header

import pytest
from django.core.exceptions import ValidationError
from django.template import TemplateDoesNotExist

from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.services import email_queue, outbox_cancel
from readerfund.notifications.worker import worker_run_once

pytestmark = pytest.mark.django_db

CONTEXT = {
    "remind_on": "2027-03-12",
    "remind_on_text": "12 March 2027",
    "checkout_url": "http://127.0.0.1:8000/support/demo/?campaign=1",
    "unsubscribe_url": "http://127.0.0.1:8000/reminders/unsubscribe/x/",
}


def queue(newsroom, *, key="test-1", to="Reader@Example.org", locale="en", **extra):
    email_queue(newsroom=newsroom, to=to, template="reminder", context=CONTEXT, locale=locale, message_key=key, **extra)


def test_queued_message_is_sent_once_with_stable_message_id(
    demo_newsroom, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queue(demo_newsroom)
        queue(demo_newsroom)  # same key: a no-op
    assert OutboxMessage.objects.count() == 1
    worker_run_once()
    worker_run_once()
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert message["Message-ID"] == "<test-1@127.0.0.1>"
    assert message["To"] == "reader@example.org"
    assert message["From"] == f"{demo_newsroom.sender_name} <notifications@readerfund.local>"
    assert message["Subject"] == "Your reminder"
    assert message.is_multipart()
    kinds = [part.get_content_type() for part in message.walk() if not part.is_multipart()]
    assert kinds == ["text/plain", "text/html"]


def test_address_and_context_are_erased_after_sending(demo_newsroom, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(demo_newsroom)
    worker_run_once()
    row = OutboxMessage.objects.get()
    assert row.status == OutboxMessage.Status.SENT
    assert row.to_address == "" and row.context == ""
    assert row.sent_at is not None


def test_russian_templates_are_used_and_unknown_locales_fall_back_to_english(
    demo_newsroom, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queue(demo_newsroom, key="ru-1", locale="ru")
        queue(demo_newsroom, key="de-1", locale="de")
    assert OutboxMessage.objects.get(message_key="de-1").locale == "en"
    worker_run_once()
    by_id = {m["Message-ID"]: m for m in smtp_server.wait_for(2)}
    assert str(make_header(decode_header(by_id["<ru-1@127.0.0.1>"]["Subject"]))).startswith("Напоминание")
    assert str(by_id["<de-1@127.0.0.1>"]["Subject"]).startswith("Your reminder")


def test_unsubscribe_url_adds_one_click_headers(demo_newsroom, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(demo_newsroom, unsubscribe_url="http://127.0.0.1:8000/reminders/unsubscribe/abc/")
    worker_run_once()
    (message,) = smtp_server.wait_for(1)
    assert message["List-Unsubscribe"] == "<http://127.0.0.1:8000/reminders/unsubscribe/abc/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_cancelled_message_is_not_sent_and_forgets_the_address(demo_newsroom, smtp_server):
    queue(demo_newsroom)
    assert outbox_cancel(message_key="test-1")
    assert not outbox_cancel(message_key="test-1")
    worker_run_once()
    row = OutboxMessage.objects.get()
    assert row.status == OutboxMessage.Status.CANCELLED and row.to_address == ""
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"key": "has space"}, ValueError),
        ({"key": "<id@x>"}, ValueError),
        ({"to": "not-an-address"}, ValidationError),
    ],
)
def test_bad_calls_fail_at_call_time(demo_newsroom, change, error):
    with pytest.raises(error):
        queue(demo_newsroom, **change)
    assert not OutboxMessage.objects.exists()


def test_missing_template_and_non_json_context_fail_at_call_time(demo_newsroom):
    with pytest.raises(TemplateDoesNotExist):
        email_queue(newsroom=demo_newsroom, to="a@b.org", template="nope", context={}, locale="en", message_key="k")
    with pytest.raises(ValueError, match="JSON"):
        email_queue(
            newsroom=demo_newsroom,
            to="a@b.org",
            template="reminder",
            context={"x": object()},
            locale="en",
            message_key="k",
        )

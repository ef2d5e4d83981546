import io

import pytest
from django.core.management import call_command

from readerfund.notifications.services import email_queue
from readerfund.notifications.worker import PERIODIC_JOBS, periodic_run

pytestmark = pytest.mark.django_db

CONTEXT = {"remind_on_text": "12 March 2027", "checkout_url": "http://x/", "unsubscribe_url": "http://y/"}


def test_worker_once_sends_what_is_queued(demo_newsroom, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(
            newsroom=demo_newsroom,
            to="a@example.org",
            template="reminder",
            context=CONTEXT,
            locale="en",
            message_key="worker-1",
        )
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "ran 1 task(s)" in out.getvalue()
    assert len(smtp_server.wait_for(1)) == 1


def test_a_failing_periodic_job_does_not_stop_the_others(monkeypatch, caplog):
    from readerfund.notifications import worker

    calls = []
    monkeypatch.setattr(worker, "PERIODIC_JOBS", ("readerfund.no.such.job", *PERIODIC_JOBS))
    monkeypatch.setattr("readerfund.notifications.services.outbox_retry_due", lambda *, now: calls.append(now) or 0)
    periodic_run()
    assert len(calls) == 1
    assert "readerfund.no.such.job" in caplog.text

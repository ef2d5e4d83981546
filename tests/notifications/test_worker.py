import io

import pytest
from django.core.management import call_command

from readerfund.core.periodic import periodic_jobs
from readerfund.notifications.services import email_queue
from readerfund.notifications.worker import periodic_run

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
    from readerfund.core import periodic
    from readerfund.notifications import worker

    calls = []

    def broken_job(*, now):
        raise RuntimeError("broken")

    monkeypatch.setattr(periodic, "_jobs", [broken_job, lambda *, now: calls.append(now)])
    monkeypatch.setattr(worker, "outbox_retry_due", lambda *, now: calls.append(now))
    periodic_run()
    assert len(calls) == 2
    assert "broken_job failed" in caplog.text


def test_every_app_registers_its_periodic_jobs():
    from readerfund.core.ratelimit import rate_limit_prune
    from readerfund.core.tasks import task_results_prune
    from readerfund.payments.webhooks import webhook_events_requeue
    from readerfund.reminders.services import reminders_due_send
    from readerfund.supporters.retention import supporters_lapsed_purge_due
    from readerfund.supporters.session import supporter_sessions_prune
    from readerfund.supporters.signin import signin_deliver_due, signin_requests_prune

    expected = {
        reminders_due_send,
        webhook_events_requeue,
        rate_limit_prune,
        task_results_prune,
        signin_deliver_due,
        signin_requests_prune,
        supporter_sessions_prune,
        supporters_lapsed_purge_due,
    }
    assert expected <= set(periodic_jobs())

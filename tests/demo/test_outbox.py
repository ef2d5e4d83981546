import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from readerfund.demo import processes
from readerfund.notifications.worker import worker_run_once
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_schedule

pytestmark = pytest.mark.django_db


def test_outbox_page_is_404_outside_the_demo(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert client.get("/demo/outbox/").status_code == 404


def test_demo_sink_saves_what_the_worker_sends_and_the_page_shows_it(
    client, settings, tmp_path, demo_newsroom, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", processes.free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "readerfund.demo.smtp_sink",
            "--port",
            str(settings.EMAIL_PORT),
            "--dir",
            str(tmp_path / "outbox"),
        ],
        start_new_session=True,
    )
    try:
        processes.wait_for_port(settings.EMAIL_PORT, process=sink)
        reminder_schedule(
            newsroom=demo_newsroom,
            email="newcomer@example.org",
            remind_on=timezone.now().date() + timedelta(days=3),
            locale="en",
            campaign_id=None,
            variant_id=None,
        )
        page = client.get("/demo/outbox/").content.decode()
        assert "No e-mails yet" in page and "1 reminder of the demo newsroom" in page

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/demo/outbox/")  # "pretend the day has come"
        assert response.status_code == 302
        assert Reminder.objects.get().status == Reminder.Status.SENT
        worker_run_once()
        for _ in range(50):
            if list((tmp_path / "outbox").glob("*.eml")):
                break
            time.sleep(0.1)
    finally:
        processes.stop(sink)
    page = client.get("/demo/outbox/").content.decode()
    assert "Your reminder" in page
    assert "newcomer@example.org" in page
    assert "/reminders/unsubscribe/" in page
    assert "<iframe sandbox" in page and "Independent journalism survives" in page

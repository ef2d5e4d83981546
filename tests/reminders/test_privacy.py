import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from readerfund.notifications.worker import worker_run_once
from readerfund.reminders.models import Reminder

pytestmark = pytest.mark.django_db

ADDRESS = "Olga.Probe+Remind@Quokka-Mail.example"
TRACES = ("olga.probe", "quokka-mail", ADDRESS, ADDRESS.lower())


def database_text() -> str:
    """Every row of every table, read with raw SQL, as one string."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from introspection
            for row in cursor.fetchall():
                chunks.append(" ".join(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row))
    return "\n".join(chunks).lower()


def test_no_trace_of_the_address_is_left_after_the_reminder_is_sent(
    client, demo_newsroom, smtp_server, django_capture_on_commit_callbacks
):
    body = {
        "newsroom": demo_newsroom.slug,
        "email": ADDRESS,
        "remind_on": (timezone.now().date() + timedelta(days=3)).isoformat(),
        "consent": True,
        "locale": "en",
    }
    response = client.post("/api/v1/reminders", json.dumps(body), content_type="text/plain")
    assert response.status_code == 202
    # While pending, the address is only there encrypted.
    assert Reminder.objects.get().email == ADDRESS.lower()
    assert not any(trace.lower() in database_text() for trace in TRACES)

    with django_capture_on_commit_callbacks(execute=True):
        worker_run_once(now=timezone.now() + timedelta(days=4))
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ADDRESS.lower()

    text = database_text()
    assert DBTaskResult._meta.db_table in connection.introspection.table_names()
    assert "outbox_send_task" in text  # the task table was read, arguments and all
    for trace in TRACES:
        assert trace.lower() not in text

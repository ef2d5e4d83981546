"""`readerfund worker` outlives a dropped database connection (PostgreSQL's pg_terminate_backend).

Found by the webhook chaos run (tests/chaos/test_webhook_chaos.py): django-tasks' db_worker lets the
OperationalError of a terminated connection out of its loop and the process exits, so after a database
restart or failover nothing was processed until a supervisor started the worker again. The real worker
runs here as a subprocess on a database of the test's own, sending to this process's SMTP server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SEED = """
from datetime import timedelta
from django.utils import timezone
from readerfund.demo.seed import demo_seed
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_schedule
newsroom = demo_seed()
for n in range(2):
    reminder_schedule(newsroom=newsroom, email=f"later{n}@example.org", locale="en",
                      remind_on=timezone.now().date() + timedelta(days=1), campaign_id=None, variant_id=None)
first, second = Reminder.objects.order_by("id")
Reminder.objects.filter(id=first.id).update(due_at=timezone.now() - timedelta(minutes=1))
Reminder.objects.filter(id=second.id).update(due_at=timezone.now() + timedelta(days=30))
"""
SECOND_DUE = "from readerfund.reminders.models import Reminder; Reminder.objects.update(due_at='2000-01-01T00:00Z')"


@pytest.fixture
def postgres_of_our_own():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("a dropped connection is PostgreSQL's (SQLite has none to drop)")
    import psycopg

    name = (os.environ.get("TEST_DATABASE_NAME") or "test_readerfund") + "_reconnect"
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _readerfund(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(Path(sys.executable).with_name("readerfund")), *args], env=env, check=True, timeout=120)


def test_the_worker_reconnects_after_its_database_connection_is_dropped(tmp_path, smtp_server, postgres_of_our_own):
    import psycopg

    name, url = postgres_of_our_own
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_NAME", "READERFUND_CHAOS")}
    env |= {
        "DATABASE_URL": url,
        "READERFUND_VAR_DIR": str(tmp_path),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "WORKER_SCAN_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
        # This checkout's code, not whichever one the venv's `readerfund` script was installed from.
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    _readerfund("migrate", "--no-input", "-v0", env=env)
    _readerfund("shell", "-c", SEED, env=env)
    log = tmp_path / "worker.log"
    with open(log, "ab") as out:
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("readerfund")), "worker", "--interval", "0.05"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        assert len(smtp_server.wait_for(1, timeout=60)) == 1, log.read_text()[-3000:]
        terminate = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(url, autocommit=True) as connection:
            dropped = sum(1 for (ok,) in connection.execute(terminate, (name,)) if ok)
        assert dropped >= 1  # the worker's task loop and its scheduler each hold one
        time.sleep(1.5)  # both threads meet the dead connection
        assert worker.poll() is None, "the worker exited on the dropped connection:\n" + log.read_text()[-3000:]

        _readerfund("shell", "-c", SECOND_DUE, env=env)
        assert len(smtp_server.wait_for(2, timeout=60)) == 2, log.read_text()[-3000:]
        assert worker.poll() is None
        assert "worker lost the database" in log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=20)

"""Kill the real `readerfund worker` at every step of sending, restart it, count the e-mails.

The worker runs as a subprocess on its own file-backed database (SQLite in a temp dir, or a
throw-away PostgreSQL database when DATABASE_URL is set), sending to an aiosmtpd server in this
process. READERFUND_CHAOS makes it os._exit at the named points (readerfund/notifications/chaos.py).

Expected: every one of the reminders arrives, and the only duplicates are those the SMTP window
allows. That window is the time between the server's 250 to DATA and the UPDATE marking the row
sent (readerfund/notifications/delivery.py): a process killed there, at `after_send` or by a kill
in its scheduler thread at that moment, leaves a 'sending' row for a message the server already
has, and it goes out once more (same Message-ID) when the lease expires. The test measures that:
after each kill it reads which 'sending' rows the server already received, and asserts that
these, and only these, arrive twice. Kills after claiming, after rendering, after marking or
before enqueueing never duplicate.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from readerfund.notifications.chaos import CHAOS_EXIT_CODE

REMINDERS = 200
CHAOS = "before_enqueue:0.005,after_claim:0.02,after_render:0.02,after_send:0.03,after_mark:0.02"
LEASE_SECONDS = 1.5
DEADLINE_SECONDS = 150

SEED = f"""
from datetime import timedelta
from django.utils import timezone
from readerfund.demo.seed import demo_seed
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_schedule
newsroom = demo_seed()
for n in range({REMINDERS}):
    reminder_schedule(newsroom=newsroom, email=f"chaos{{n}}@example.org", locale="en",
                      remind_on=timezone.now().date() + timedelta(days=1), campaign_id=None, variant_id=None)
Reminder.objects.update(due_at=timezone.now() - timedelta(minutes=1))
"""

REPORT = """
import json
from django.db.models import Count
from readerfund.notifications.models import OutboxMessage
from readerfund.reminders.models import Reminder
print(json.dumps({
    "reminders": dict(Reminder.objects.values_list("status").annotate(n=Count("id"))),
    "outbox": dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id"))),
}))
"""


def readerfund(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("readerfund")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True, **kwargs)


@pytest.fixture
def worker_database(tmp_path):
    """A database of the chaos test's own, which a subprocess can see (the test database can't be)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield {}
        return
    import psycopg

    name = (os.environ.get("TEST_DATABASE_NAME") or "test_readerfund") + "_chaos"
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sending_keys(env: dict[str, str], tmp_path: Path) -> set[str]:
    """Message keys of outbox rows a dead worker left in 'sending', read straight from its database."""
    query = "SELECT message_key FROM notifications_outboxmessage WHERE status = 'sending'"
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as connection:
            return {row[0] for row in connection.execute(query)}
    import sqlite3

    connection = sqlite3.connect(tmp_path / "readerfund.sqlite3")
    try:
        return {row[0] for row in connection.execute(query)}
    finally:
        connection.close()


def test_killed_workers_lose_nothing_and_duplicate_only_in_the_smtp_window(tmp_path, smtp_server, worker_database):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_NAME", "READERFUND_CHAOS")}
    env |= worker_database | {
        "READERFUND_VAR_DIR": str(tmp_path),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "WORKER_SCAN_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
    }
    readerfund("migrate", "--no-input", env=env)
    readerfund("shell", "-c", SEED, env=env)

    def received() -> collections.Counter:
        return collections.Counter(m["Message-ID"] for m in list(smtp_server.messages))

    log = tmp_path / "worker.log"
    kills = 0
    # Per Message-ID: copies the server had accepted while a dead worker's row still said 'sending'.
    # Each such row is sent once more after its lease: that is the SMTP window, measured.
    in_window: dict[str, int] = {}
    started = time.monotonic()
    with open(log, "ab") as log_file:
        while len(received()) < REMINDERS:
            assert time.monotonic() - started < DEADLINE_SECONDS, f"only {len(received())} sent; see {log}"
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("readerfund")), "worker", "--interval", "0.05"],
                env=env | {"READERFUND_CHAOS": CHAOS},
                stdout=log_file,
                stderr=log_file,
            )
            while worker.poll() is None and len(received()) < REMINDERS:
                time.sleep(0.05)
            if worker.poll() is None:
                worker.terminate()  # graceful: finishes the message in hand
                worker.wait(timeout=10)
                if worker.returncode != CHAOS_EXIT_CODE:
                    continue
                # It hit a chaos point between the last look and the terminate: a kill like the others.
            assert worker.returncode == CHAOS_EXIT_CODE, log.read_text()[-2000:]
            kills += 1
            copies = received()
            for key in sending_keys(env, tmp_path):
                message_id = f"<{key}@127.0.0.1>"
                if copies[message_id]:
                    in_window[message_id] = max(in_window.get(message_id, 0), copies[message_id])

    # Whatever a kill left claimed goes out once its lease expires: one clean pass finishes it.
    time.sleep(LEASE_SECONDS + 0.2)
    readerfund("worker", "--once", env=env)
    report = json.loads(readerfund("shell", "-c", REPORT, env=env).stdout.strip().splitlines()[-1])
    assert report["reminders"] == {"sent": REMINDERS}
    assert report["outbox"] == {"sent": REMINDERS}

    killed_at = collections.Counter(re.findall(r"chaos: killed at (\w+)", log.read_text()))
    copies = received()
    duplicates = sum(count - 1 for count in copies.values())
    print(
        f"\nkills: {dict(killed_at)}; e-mails: {sum(copies.values())}; duplicates: {duplicates}; "
        f"kills inside the SMTP window: {len(in_window)}; {time.monotonic() - started:.0f}s"
    )
    assert sum(killed_at.values()) == kills > 0
    assert set(copies) == {f"<reminder-{n}@127.0.0.1>" for n in range(1, REMINDERS + 1)}
    # No duplicate outside the window; inside it, exactly one more copy than the server had.
    assert {mid: n for mid, n in copies.items() if n > 1} == {mid: n + 1 for mid, n in in_window.items()}
    assert len(in_window) <= killed_at["after_send"] + killed_at["before_enqueue"]

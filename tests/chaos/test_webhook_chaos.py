"""Webhooks under chaos: the ledger, the receipts and the counters come out exact anyway.

The run, all of it real processes on loopback:
- its own localstripe, from scratch; the world (tests/chaos/world.py) made there with the SDK: real
  payment intents (some declined), refunds, subscriptions with renewals, cancels and updates, and the
  contributions that own them in the run's own database (PostgreSQL when DATABASE_URL is set, else a
  SQLite file), each with a receipt asked for;
- the events: those localstripe itself posts (caught by the relay's intake, registered as its webhook
  endpoint) and those Stripe would send that localstripe does not (charge.refunded,
  customer.subscription.updated), built from the objects as localstripe holds them; then the same
  (type, object) pairs under new event ids, as Stripe sends several events about one object;
- the app server: granian with two worker processes, serving /webhooks/stripe/<newsroom>;
- `readerfund worker`, sending the receipts to an aiosmtpd server in this process;
- the relay (tests/chaos/relay.py) delivering every event, duplicates, forged copies, lost answers and
  broken-off bodies included, shuffled, from several threads, retrying as Stripe does.

The full run (`make chaos`, marker `chaos`): 2,000 deliveries while the worker is SIGKILLed at random
moments and restarted, and, on PostgreSQL, every connection of the app server and the worker is
dropped (pg_terminate_backend) now and then. SQLite has no connection to drop: there only the kills.
The small run (also `make chaos`: it takes about a minute on a loaded 2-core machine, too long for
`make test`): 200 deliveries, no kill, no drop. tests/chaos/test_relay.py checks the relay itself
in `make test`.

Then: every genuine delivery was answered 2xx in the end, every forged one 4xx, nothing 500; each
event is stored once and processed; the payments equal what was made at localstripe (id, amount,
currency, refunded), each contribution's status is what localstripe says; one receipt per payment in
the outbox, all sent, and every one arrived at the SMTP server; the variant's conversion counters
count each converted contribution once. A kill between the SMTP server's 250 and the outbox's mark
may send one receipt twice with the same Message-ID (the window SMTP itself leaves, measured exactly
by test_worker_kills.py): at most one more copy per kill.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from readerfund.demo import processes
from tests.chaos.relay import Faults, Intake, Relay

SECRET = "whsec_chaos_run"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Chaos:
    deliveries: int  # genuine deliveries, duplicates included
    distinct: int  # distinct events among them
    objects: int  # payments and subscriptions made at localstripe
    kill_after: tuple[int, int] | None  # a worker is killed during its n-th task, n in this range; or never
    drop_every: tuple[float, float] | None  # seconds between dropped database connections (PostgreSQL)
    settle_seconds: float  # after the last delivery, time for the workers to finish (a safety net: a loaded
    # machine is slow, and the run asserts what it ends with, not how fast)
    workers: int  # worker processes at once


# CHAOS_DISTINCT and CHAOS_OBJECTS make a shorter run of the same 2,000 deliveries (more of them copies).
FULL = Chaos(
    deliveries=2000,
    distinct=int(os.environ.get("CHAOS_DISTINCT", "500")),
    objects=int(os.environ.get("CHAOS_OBJECTS", "60")),
    kill_after=(2, 25),
    drop_every=(4.0, 12.0),
    settle_seconds=900,
    workers=2,
)
SMALL = Chaos(deliveries=200, distinct=150, objects=20, kill_after=None, drop_every=None, settle_seconds=600, workers=1)


# --- the run's database ----------------------------------------------------------------------------


@dataclass
class Database:
    env: dict[str, str]
    postgres: bool
    sqlite_path: Path | None = None
    name: str = ""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"], connect_timeout=5) as connection:
                return list(connection.execute(sql))
        import sqlite3

        connection = sqlite3.connect(self.sqlite_path, timeout=10)
        try:
            return list(connection.execute(sql))
        finally:
            connection.close()

    def drop_connections(self) -> int:
        """pg_terminate_backend on every connection to the run's database: the app server's and the
        worker's, in whatever they were doing."""
        import psycopg

        sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True, connect_timeout=5) as connection:
            return sum(1 for (ok,) in connection.execute(sql, (self.name,)) if ok)


@pytest.fixture
def chaos_database(tmp_path: Path) -> Iterator[Database]:
    """A database of the run's own, which the subprocesses can see (the test database can't be)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = tmp_path / "readerfund.sqlite3"
        yield Database(env={"DATABASE_URL": f"sqlite:///{path}"}, postgres=False, sqlite_path=path)
        return
    import psycopg

    name = (os.environ.get("TEST_DATABASE_NAME") or "test_readerfund") + "_webhook_chaos"
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        # Several test runs share this server and its disk: without waiting for each commit's flush, the
        # run measures our code rather than the disk. Processes are killed here, never the server.
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield Database(env={"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}, postgres=True, name=name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the processes ----------------------------------------------------------------------------------


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass
class Workers:
    """`count` processes of `readerfund worker`, each restarted whenever it dies; `kill(n)` SIGKILLs one."""

    env: dict[str, str]
    log: Path
    count: int
    processes: list[subprocess.Popen | None] = field(default_factory=list)
    logs: list[Path | None] = field(default_factory=list)
    started: list[int] = field(default_factory=list)  # processes started per slot
    kills: int = 0
    deaths: int = 0  # exits a worker made on its own (a dropped connection it did not survive)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.processes = [None] * self.count
        self.logs = [None] * self.count
        self.started = [0] * self.count

    def ensure(self) -> None:
        with self.lock:
            for slot, process in enumerate(self.processes):
                if process is not None and process.poll() is None:
                    continue
                if process is not None and process.returncode != -signal.SIGKILL:
                    self.deaths += 1
                self.logs[slot] = self.log.with_name(f"{self.log.stem}-{slot}-{self.started[slot]}.log")
                with open(self.logs[slot], "ab") as log:
                    self.processes[slot] = subprocess.Popen(
                        [_bin("readerfund"), "worker", "--interval", "0.05", "--scan-seconds", "0.5"],
                        env=self.env,
                        stdout=log,
                        stderr=log,
                        cwd=Path(__file__).parents[2],
                    )
                self.started[slot] += 1

    def tasks_begun(self, slot: int) -> int:
        """Tasks the worker in `slot` has begun (its log says so)."""
        log = self.logs[slot]
        return log.read_bytes().count(b"state=RUNNING") if log is not None and log.exists() else 0

    def kill(self, slot: int) -> None:
        with self.lock:
            process = self.processes[slot]
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                self.kills += 1

    def stop(self) -> None:
        with self.lock:
            for process in self.processes:
                if process is not None and process.poll() is None:
                    process.terminate()
            for process in self.processes:
                if process is None:
                    continue
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Mayhem(threading.Thread):
    """Kills workers and drops the database's connections at random moments until stopped; keeps the
    workers running in between."""

    def __init__(self, *, chaos: Chaos, workers: Workers, database: Database, seed: int) -> None:
        super().__init__(name="mayhem", daemon=True)
        self.chaos, self.workers, self.database = chaos, workers, database
        self.rng = random.Random(seed)  # noqa: S311 - reproducible faults
        self.stopped = threading.Event()
        self.drops = 0
        self.dropped_connections = 0

    def _next(self, every: tuple[float, float] | None, now: float) -> float:  # the next drop
        return now + self.rng.uniform(*every) if every else float("inf")

    def run(self) -> None:
        # Each worker is killed while it runs its n-th task, n drawn anew for each process: by progress,
        # not by the clock, since booting takes seconds on a loaded machine and kills during the boot would
        # only starve the run. The kill lands a random moment into that task (or just after it).
        seen = [0] * self.workers.count  # the process (by its number in its slot) the n was drawn for
        kill_after = [0] * self.workers.count
        drop_at = self._next(self.chaos.drop_every if self.database.postgres else None, time.monotonic())
        while not self.stopped.wait(0.1):
            for slot in range(self.workers.count):
                if self.chaos.kill_after is None:
                    break
                if self.workers.started[slot] != seen[slot]:
                    seen[slot] = self.workers.started[slot]
                    kill_after[slot] = self.rng.randint(*self.chaos.kill_after)
                if self.workers.tasks_begun(slot) >= kill_after[slot]:
                    time.sleep(self.rng.uniform(0, 0.4))
                    self.workers.kill(slot)
            if time.monotonic() >= drop_at:
                with contextlib.suppress(Exception):
                    self.dropped_connections += self.database.drop_connections()
                    self.drops += 1
                drop_at = self._next(self.chaos.drop_every, time.monotonic())
            self.workers.ensure()


# --- what the run ends with ---------------------------------------------------------------------------

REPORT = """
import json
from collections import Counter
from django_tasks_db.models import DBTaskResult
from readerfund.notifications.models import OutboxMessage
from readerfund.payments.models import Contribution, ConversionCount, Payment, WebhookEvent
print(json.dumps({
    "payments": {p.provider_payment_id: [p.amount, p.currency, p.amount_refunded] for p in Payment.objects.all()},
    "payment_ids": sorted(Payment.objects.values_list("id", flat=True)),
    "statuses": dict(Counter(Contribution.objects.values_list("status", flat=True))),
    "events": dict(WebhookEvent.objects.values_list("event_id", "status")),
    "event_errors": dict(Counter(WebhookEvent.objects.exclude(error="").values_list("error", flat=True))),
    "attempts": dict(Counter(WebhookEvent.objects.values_list("attempts", flat=True))),
    "stolen": WebhookEvent.objects.filter(payload__data__object__metadata__checkout="stolen").count(),
    "outbox": [[m.message_key, m.template, m.status, m.locale] for m in OutboxMessage.objects.all()],
    "conversions": {f"{c.currency} {c.frequency}": [c.count, c.amount] for c in ConversionCount.objects.all()},
    "tasks": dict(Counter(DBTaskResult.objects.values_list("status", flat=True))),
}))
"""


def _settled(database: Database) -> bool:
    """No event waits or failed, no e-mail waits: what the worker can still do is done."""
    events = dict(database.query("SELECT status, COUNT(*) FROM payments_webhookevent GROUP BY status"))
    outbox = dict(database.query("SELECT status, COUNT(*) FROM notifications_outboxmessage GROUP BY status"))
    return set(events) <= {"processed", "ignored"} and set(outbox) <= {"sent"}


def _events(chaos: Chaos, world: dict[str, Any], captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from bench._webhook_objects import events_reissued

    return events_reissued([*captured, *world["events"]], chaos.distinct)


def _run(chaos: Chaos, tmp_path: Path, smtp_server: Any, database: Database, seed: int) -> None:
    from readerfund.demo.stripe_webhooks import webhook_endpoint_register
    from readerfund.payments.handlers import HANDLERS

    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stripe_base = stack.enter_context(processes.localstripe_running(tmp_path / "localstripe.log"))
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_NAME", "READERFUND_CHAOS")
        }
        env |= database.env | {
            "DJANGO_SETTINGS_MODULE": "readerfund.config.settings",
            "READERFUND_VAR_DIR": str(tmp_path),
            "STRIPE_API_BASE": stripe_base,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(smtp_server.port),
            "EMAIL_SEND_LEASE_SECONDS": "3",
            "WEBHOOK_REQUEUE_AFTER_SECONDS": "4",
            "WEBHOOK_RETRY_SECONDS": "0.5",
            "WORKER_SCAN_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
            # This checkout's code, not whichever one the venv's `readerfund` script was installed from.
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }

        # The world, and the events localstripe posts about it.
        intake = stack.enter_context(Intake(secret=SECRET))
        webhook_endpoint_register(
            stripe_base=stripe_base, endpoint_id="chaos-intake", url=intake.url, secret=SECRET, events=sorted(HANDLERS)
        )
        out = tmp_path / "world.json"
        subprocess.run(
            [sys.executable, "-m", "tests.chaos.world", str(out), str(chaos.objects)],
            env=env,
            check=True,
            timeout=600,
            cwd=Path(__file__).parents[2],
        )
        intake.wait_quiet()
        world = json.loads(out.read_text())
        captured = list(intake.events)
        assert captured and intake.refused == 0
        events = _events(chaos, world, captured)
        made = time.monotonic() - started

        port = processes.free_port()
        server = processes.start_granian(port, workers=2, env=env)
        stack.callback(processes.stop, server)
        workers = Workers(env=env, log=tmp_path / "worker.log", count=chaos.workers)
        workers.ensure()
        stack.callback(workers.stop)
        mayhem = Mayhem(chaos=chaos, workers=workers, database=database, seed=seed)
        mayhem.start()
        serving = time.monotonic() - started

        relay = Relay(
            url=f"http://{HOST}:{port}/webhooks/stripe/{world['newsroom']}", secret=SECRET, faults=Faults(), seed=seed
        )
        deliveries = relay.plan(events, total=chaos.deliveries)
        report = relay.deliver(deliveries)
        delivered = time.monotonic() - started

        mayhem.stopped.set()
        mayhem.join()
        deadline = time.monotonic() + chaos.settle_seconds
        while not _settled(database):
            workers.ensure()
            assert time.monotonic() < deadline, f"not settled; see {tmp_path}/worker-*.log"
            time.sleep(0.5)
        settled = time.monotonic() - started
        result = json.loads(
            subprocess.run(
                [_bin("readerfund"), "shell", "-c", REPORT], env=env, capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        workers.stop()

    copies = collections.Counter(m["Message-ID"] for m in list(smtp_server.messages))
    print(
        f"\n{len(events)} distinct events ({len(captured)} posted by localstripe, {len(world['events'])} built), "
        f"{report.genuine} genuine deliveries in {report.attempts} attempts ({report.lost} answers lost, "
        f"{report.cut} bodies cut, answers {dict(report.answers)}, errors {dict(report.errors)}), "
        f"forged {dict(report.forged)} answered {dict(report.forged_answers)}; worker killed {workers.kills}x, "
        f"died {workers.deaths}x; connections dropped {mayhem.dropped_connections} in {mayhem.drops} drops; "
        f"e-mails {sum(copies.values())} for {len(copies)} receipts; event attempts {result['attempts']}; "
        f"at {made:.0f}s the world was made, at {serving:.0f}s served, at {delivered:.0f}s delivered, "
        f"at {settled:.0f}s settled"
    )

    # Delivery: every genuine event got its 2xx, every forgery a 4xx, nothing a 500.
    assert report.undelivered == []
    assert report.genuine == chaos.deliveries
    # A forgery that arrives as the connection drops meets the 503 before its signature is read (the
    # newsroom, whose secret checks it, is looked up first); it is stored no more than the others.
    refusals = {400, 503} if chaos.drop_every is not None and database.postgres else {400}
    assert set(report.forged_answers) <= refusals and report.forged_answers[400], report.forged_answers
    assert not [s for s in report.answers if s >= 500 and s != 503], report.bodies_5xx
    if database.postgres and chaos.drop_every is None:
        # Only a dropped connection, or SQLite's one writer busy past its timeout, may answer 503.
        assert 503 not in report.answers, report.bodies_5xx
    # Stored once each, tampered copies never; all processed.
    assert set(result["events"]) == {event["id"] for event in events}
    assert collections.Counter(result["events"].values()) == {"processed": len(events)}, result["event_errors"]
    assert result["stolen"] == 0
    # The ledger equals what was made at localstripe.
    expected = world["expected"]
    assert result["payments"] == expected["payments"]
    assert result["statuses"] == expected["statuses"]
    # One receipt per payment, sent; each arrived, a second copy only for a kill in the SMTP window.
    receipts = {f"receipt-{payment_id}" for payment_id in result["payment_ids"]}
    assert len(receipts) == expected["receipts"]
    assert sorted(key for key, _, _, _ in result["outbox"]) == sorted(receipts)
    assert {(template, status) for _, template, status, _ in result["outbox"]} == {("receipt", "sent")}
    assert {locale for *_, locale in result["outbox"]} == {"en", "ru"}
    assert set(copies) == {f"<{key}@{HOST}>" for key in receipts}
    assert sum(copies.values()) - len(copies) <= workers.kills
    # Each converted contribution counted once.
    assert result["conversions"] == expected["conversions"]


@pytest.mark.chaos
def test_webhooks_small_chaos_ledger_receipts_and_counters_exact(tmp_path, smtp_server, chaos_database):
    """200 deliveries: duplicates, forgeries, lost answers, cut bodies, shuffled; no kill, no drop."""
    _run(SMALL, tmp_path, smtp_server, chaos_database, seed=20261201)


@pytest.mark.chaos
def test_webhooks_under_chaos_ledger_receipts_and_counters_exact(tmp_path, smtp_server, chaos_database):
    """2,000 deliveries while the worker is killed at random and the database's connections dropped."""
    _run(FULL, tmp_path, smtp_server, chaos_database, seed=20261202)

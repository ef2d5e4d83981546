"""Stripe webhooks: 2,000 signed events (20% duplicates, shuffled) in, an exact ledger out.

Ingest (verify the signature, store once, enqueue) goes through Django's full request stack via the
test client; its baseline, measured in the same run, is the same store-and-enqueue called directly (and,
for scale, the bare no-op endpoint). Processing is the real task code path: `db_worker --batch`
running webhook_event_process, which reads each object's current state from a localstripe started for
the bench; its baseline is one bare read per event from the same localstripe. Each worker counts the
HTTP requests its handlers send to Stripe, by event type (bench/_webhook_requests.py): the ledger should
need at most two per event on average. The ledger is then compared with what the bench made at
localstripe: every payment, amount, refund and status.

PostgreSQL (a database of its own, created and dropped) unless it is unreachable, then SQLite.
Targets in bench/_webhook_run.py; the ledger must be exact.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
DUPLICATE_SHARE = 0.2
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "readerfund_bench_webhooks"
SECRET = "whsec_bench_webhooks"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3) as connection:
        connection.execute(sql)


def _database() -> tuple[str, str, bool]:
    """(DATABASE_URL, what it is, whether it is ours to drop)."""
    try:
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
        _pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
    except Exception as exc:  # any failure to reach or use the server: fall back, and say so
        path = Path(tempfile.mkdtemp(prefix="readerfund-bench-")) / "webhooks.sqlite3"
        print(f"NOTE: PostgreSQL unreachable at {PG_SERVER} ({type(exc).__name__}); using SQLite {path}")
        return f"sqlite:///{path}", "SQLite", False
    return f"{PG_SERVER}/{PG_DATABASE}", "PostgreSQL", True


def main() -> int:
    """Runs the bench in a child process: Django's settings come from the environment it starts with."""
    from readerfund.demo import processes

    database_url, label, drop = _database()
    port = processes.free_port()
    localstripe = processes.start_localstripe(port)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readerfund.config.settings",
        "DATABASE_URL": database_url,
        "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LOG_LEVEL": "WARNING",
        "BENCH_DATABASE_LABEL": label,
    }
    try:
        return subprocess.call([sys.executable, "-m", "bench.webhooks", "--child"], env=env)
    finally:
        processes.stop(localstripe)
        if drop:
            time.sleep(0.2)
            try:
                _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            except Exception as exc:
                print(f"NOTE: could not drop {PG_DATABASE}: {exc}")
        elif database_url.startswith("sqlite:///"):
            shutil.rmtree(Path(database_url.removeprefix("sqlite:///")).parent, ignore_errors=True)


if __name__ == "__main__":
    if "--child" in sys.argv:
        from bench._webhook_run import run

        sys.exit(run(events=EVENTS, duplicate_share=DUPLICATE_SHARE, secret=SECRET))
    sys.exit(main())

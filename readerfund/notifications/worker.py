"""What `readerfund worker` runs: django-tasks' database worker, plus a scan every few seconds.

django-tasks has no scheduler, so a daemon thread calls the periodic jobs (each app registers its
own in its AppConfig.ready: see readerfund/core/periodic.py) every
WORKER_SCAN_SECONDS while the main thread runs `db_worker`. The scan is idempotent and every send
is claimed atomically, so running several workers (or a scan that overlaps a task) is safe.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime

from django.core.management import call_command
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone

from readerfund.core.periodic import job_name, periodic_jobs
from readerfund.notifications.services import outbox_retry_due

logger = logging.getLogger(__name__)


def connection_drop_if_broken() -> None:
    """Close this thread's connection if it is no longer usable (close_old_connections only looks at
    connections a request or task marked as having failed)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
            connection.close()


def periodic_run(*, now: datetime | None = None) -> None:
    now = now or timezone.now()
    # The outbox's own sweep runs last, so an e-mail another job queued (a due reminder) is sent in
    # this same scan.
    for job in (*periodic_jobs(), outbox_retry_due):
        try:
            job(now=now)
        except (OperationalError, InterfaceError):
            # The connection may be gone (the database restarted, or dropped us): every job after this one
            # would fail the same way on it. Dropped, the next job connects afresh.
            logger.warning("periodic job %s: database unavailable; it runs again next scan", job_name(job))
            connection_drop_if_broken()
        except Exception:
            # One failing job must not stop the others or the loop; the traceback names no reader.
            logger.exception("periodic job %s failed", job_name(job))


def tasks_run_ready(*, backend_name: str = "default") -> int:
    """Run every ready task in this process, then return how many ran. For `--once` and tests."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=backend_name,
        startup_delay=False,
        max_tasks=None,
        worker_id="once",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        tasks = DBTaskResult.objects.ready().filter(backend_name=backend_name)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(worker.worker_id)
        if task_result is None:
            return ran
        worker.run_task(task_result)
        ran += 1


def worker_run_once(*, now: datetime | None = None) -> int:
    """One scan (with `now`, so tests can move the clock) and every task it and others queued."""
    periodic_run(now=now)
    return tasks_run_ready()


# After a lost database connection the worker waits this long before it connects again, doubled while the
# database stays away, up to the last.
RECONNECT_SECONDS = (0.5, 10.0)


def db_worker_run(*, interval: float, verbosity: int = 1) -> None:
    """django-tasks' db_worker until it is stopped by a signal, started again after a lost connection.

    db_worker lets a database error out of its loop (a PostgreSQL restart or failover, a connection
    terminated by the server, a proxy's idle timeout): the process would exit, and until a supervisor
    started it again (seconds, if one is there) no e-mail or webhook event would be processed. A task
    that was running when the connection went stays 'running'; the periodic scan enqueues its work again
    (webhooks.webhook_events_requeue, notifications.services.outbox_retry_due).
    """
    delay = RECONNECT_SECONDS[0]
    while True:
        started = time.monotonic()
        try:
            call_command(
                "db_worker", queue_name="*", interval=interval, reload=False, startup_delay=False, verbosity=verbosity
            )
            return  # stopped by SIGTERM or SIGINT, once the task in hand was done
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() - started > 60:
                delay = RECONNECT_SECONDS[0]  # it ran a good while: a new outage, not the same one
            logger.warning("worker lost the database (%s); connecting again in %.1fs", type(error).__name__, delay)
        connections.close_all()
        # db_worker's own SIGTERM handler belonged to the loop that just ended: while waiting, a SIGTERM
        # must stop the process (it holds no task now).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        time.sleep(delay)
        delay = min(delay * 2, RECONNECT_SECONDS[1])


def scheduler_start(*, every_seconds: float) -> threading.Thread:
    def loop() -> None:
        while True:
            try:
                close_old_connections()
                periodic_run()
            except Exception:
                # E.g. the database restarting: keep the loop alive, the next scan catches up.
                logger.exception("periodic scan failed")
            # A job that met a lost connection leaves it broken for the next scan: drop it, reconnect then.
            connection_drop_if_broken()
            time.sleep(every_seconds)

    thread = threading.Thread(target=loop, name="readerfund-scheduler", daemon=True)
    thread.start()
    return thread

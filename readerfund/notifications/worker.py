"""What `readerfund worker` runs: django-tasks' database worker, plus a scan every few seconds.

django-tasks has no scheduler, so a daemon thread calls the periodic jobs below every
WORKER_SCAN_SECONDS while the main thread runs `db_worker`. The scan is idempotent and every send
is claimed atomically, so running several workers (or a scan that overlaps a task) is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Each is called as job(now=...) and must be idempotent.
PERIODIC_JOBS = (
    "readerfund.reminders.services.reminders_due_send",
    "readerfund.notifications.services.outbox_retry_due",
    "readerfund.payments.webhooks.webhook_events_requeue",
    "readerfund.core.ratelimit.rate_limit_prune",
    "readerfund.core.tasks.task_results_prune",
    "readerfund.supporters.signin.signin_requests_prune",
    "readerfund.supporters.session.supporter_sessions_prune",
    # Claims each newsroom's day on its row, so it runs once a day however many workers scan.
    "readerfund.payments.retention.supporters_lapsed_purge_due",
    # Our own retries of failed renewals (payments/dunning.py), for newsrooms not on Stripe's Smart Retries.
    "readerfund.payments.dunning.renewal_retries_due",
    # Cards about to expire, read from Stripe once a day per newsroom (payments/card_expiry.py).
    "readerfund.payments.card_expiry.cards_expiring_notify_due",
)


def periodic_run(*, now: datetime | None = None) -> None:
    now = now or timezone.now()
    for path in PERIODIC_JOBS:
        try:
            import_string(path)(now=now)
        except Exception:
            # One failing job must not stop the others or the loop; the traceback names no reader.
            logger.exception("periodic job %s failed", path)


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


def scheduler_start(*, every_seconds: float) -> threading.Thread:
    def loop() -> None:
        while True:
            try:
                close_old_connections()
                periodic_run()
            except Exception:
                # E.g. the database restarting: keep the loop alive, the next scan catches up.
                logger.exception("periodic scan failed")
            time.sleep(every_seconds)

    thread = threading.Thread(target=loop, name="readerfund-scheduler", daemon=True)
    thread.start()
    return thread

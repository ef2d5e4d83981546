"""The worker's periodic jobs, each named by the app that owns it.

`readerfund worker` (notifications/worker.py) calls every registered job as `job(now=...)` every
WORKER_SCAN_SECONDS. Each app registers its own in its AppConfig.ready with plain imports, so a reader
(or a tool) can follow every one from there: core/apps.py, payments/apps.py, reminders/apps.py,
supporters/apps.py. The worker then sweeps the outbox (notifications.services.outbox_retry_due), last,
so what the jobs queued goes out in the same scan. A job must be idempotent: several workers may scan at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PeriodicJob = Callable[..., Any]

_jobs: list[PeriodicJob] = []


def periodic_jobs_register(*jobs: PeriodicJob) -> None:
    """Add jobs to the worker's scan (once each, however often Django starts up in one process)."""
    for job in jobs:
        if job not in _jobs:
            _jobs.append(job)


def periodic_jobs() -> tuple[PeriodicJob, ...]:
    return tuple(_jobs)


def job_name(job: PeriodicJob) -> str:
    return f"{getattr(job, '__module__', '?')}.{getattr(job, '__qualname__', repr(job))}"

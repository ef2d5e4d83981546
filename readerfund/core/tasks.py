"""A row's work on the task queue: enqueue it and note the task on the row; find rows whose task was lost.

The outbox (notifications/services.py) and the webhook events (payments/webhooks.py) share this shape:

    rows_enqueue(task=…, model=…, argument="message_id", row_ids=[…])      # enqueue, record task_id
    rows_requeue_lost(task=…, rows=[(id, task_id), …], now=…, enqueue=…)   # the periodic recovery
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any


def task_pending(task: Any, task_id: str, *, now: datetime, running_grace: timedelta | None = None) -> bool:
    """True while the task waits in the queue or, with `running_grace`, has run for less than that.

    A task gone from the results table, or running longer than any live run takes (its worker died
    holding it), is not pending: its row's work is lost and may be enqueued again.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    if not task_id:
        return False
    try:
        result = task.get_result(task_id)
    except TaskResultDoesNotExist:
        return False
    if result.status == TaskResultStatus.READY:
        return True
    started = result.started_at
    return (
        running_grace is not None
        and result.status == TaskResultStatus.RUNNING
        and started is not None
        and started > now - running_grace
    )


def rows_enqueue(
    *, task: Any, model: Any, argument: str, row_ids: Iterable[int], before_each: Callable[[], None] | None = None
) -> None:
    """Enqueue `task(<argument>=row id)` for each row and note on it when, and which task: the periodic
    scan then tells a task still waiting from a lost one. Task arguments are stored in the task table:
    the row's id only, never what the row holds."""
    from django.utils import timezone

    for row_id in row_ids:
        if before_each is not None:
            before_each()
        result = task.enqueue(**{argument: row_id})
        model.objects.filter(id=row_id).update(enqueued_at=timezone.now(), task_id=result.id)


def rows_requeue_lost(
    *,
    task: Any,
    rows: Iterable[tuple[int, str]],
    now: datetime,
    enqueue: Callable[[list[int]], None],
    running_grace: timedelta | None = None,
) -> list[int]:
    """Of (row id, task id) pairs, enqueue again those whose task is no longer pending; return their ids."""
    lost = [row_id for row_id, task_id in rows if not task_pending(task, task_id, now=now, running_grace=running_grace)]
    if lost:
        enqueue(lost)
    return lost


FINISHED_KEPT = timedelta(days=14)
# A task still "running" after a day belongs to a worker that was killed; the recovery jobs have
# long since enqueued its work again.
ABANDONED_AFTER = timedelta(days=1)


def task_results_prune(*, now: datetime) -> int:
    """Periodic (readerfund worker): forget finished task results, and runs abandoned by dead workers."""
    from django.db.models import Q
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    finished = Q(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lte=now - FINISHED_KEPT
    )
    abandoned = Q(status=TaskResultStatus.RUNNING, started_at__lte=now - ABANDONED_AFTER)
    deleted, _ = DBTaskResult.objects.filter(finished | abandoned).delete()
    return deleted

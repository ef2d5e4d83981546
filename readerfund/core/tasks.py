"""What the periodic recovery jobs ask of the task queue: is a row's task still going to run?"""

from __future__ import annotations

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

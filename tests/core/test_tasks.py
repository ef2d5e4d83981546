from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from readerfund.core.tasks import task_pending, task_results_prune
from readerfund.notifications.tasks import outbox_send_task

pytestmark = pytest.mark.django_db


def _result(status: str, **times) -> DBTaskResult:
    result = outbox_send_task.enqueue(message_id=1)
    DBTaskResult.objects.filter(id=result.id).update(status=status, **times)
    return DBTaskResult.objects.get(id=result.id)


def test_prune_forgets_old_finished_and_abandoned_runs_only() -> None:
    now = timezone.now()
    old_done = _result(TaskResultStatus.SUCCESSFUL, finished_at=now - timedelta(days=15))
    old_failed = _result(TaskResultStatus.FAILED, finished_at=now - timedelta(days=15))
    recent_done = _result(TaskResultStatus.SUCCESSFUL, finished_at=now - timedelta(days=1))
    abandoned = _result(TaskResultStatus.RUNNING, started_at=now - timedelta(days=2))
    running = _result(TaskResultStatus.RUNNING, started_at=now - timedelta(minutes=1))
    waiting = _result(TaskResultStatus.READY)
    assert task_results_prune(now=now) == 3
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert left == {recent_done.id, running.id, waiting.id}
    assert not {old_done.id, old_failed.id, abandoned.id} & left


def test_task_pending_only_while_waiting_or_recently_started() -> None:
    now = timezone.now()
    waiting = _result(TaskResultStatus.READY)
    running = _result(TaskResultStatus.RUNNING, started_at=now - timedelta(seconds=10))
    stale = _result(TaskResultStatus.RUNNING, started_at=now - timedelta(hours=1))
    grace = timedelta(minutes=5)
    assert task_pending(outbox_send_task, str(waiting.id), now=now)
    assert not task_pending(outbox_send_task, str(running.id), now=now)  # no grace: the lease decides
    assert task_pending(outbox_send_task, str(running.id), now=now, running_grace=grace)
    assert not task_pending(outbox_send_task, str(stale.id), now=now, running_grace=grace)
    assert not task_pending(outbox_send_task, "", now=now)
    assert not task_pending(outbox_send_task, "00000000-0000-0000-0000-000000000000", now=now)

"""Background work of the ledger, run by `readerfund worker` (django-tasks' database backend)."""

from __future__ import annotations

from django_tasks import task

from readerfund.payments.handlers import webhook_event_process


@task()
def webhook_event_process_task(event_row_id: int) -> str:
    return webhook_event_process(event_row_id=event_row_id)

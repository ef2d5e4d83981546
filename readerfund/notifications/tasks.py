"""Background tasks of the e-mail machinery. They take ids only: task arguments are stored in the clear."""

from __future__ import annotations

from django_tasks import task

from readerfund.notifications.delivery import outbox_deliver


@task()
def outbox_send_task(message_id: int) -> str:
    return outbox_deliver(message_id=message_id)

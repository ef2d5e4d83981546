"""Background tasks of signing in. They take ids only: task arguments are stored in the clear."""

from __future__ import annotations

from django_tasks import task

from readerfund.supporters.signin import signin_deliver


@task()
def signin_deliver_task(signin_id: int) -> str:
    return signin_deliver(signin_id=signin_id)

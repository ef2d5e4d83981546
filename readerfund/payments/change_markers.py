"""The committed marker of a supporter's change to their plan (ContributionChange), and the refusal.

Each change is written, and committed, before the provider is called: a double click, a retried request
or two tabs then find it and change nothing twice. The rule, decided on the contribution's row under a
lock (so two requests cannot both start):
- the latest change is the same one (kind and parameters) and in flight, or done: nothing to do;
- another change is in flight: refused as `in_progress` (the page asks again shortly);
- a marker in flight for longer than LEASE belongs to a request that died: the same change takes it
  over (and its request key, so Stripe's idempotency answers the earlier call's result), another one
  marks it failed and starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from readerfund.payments.models import Contribution, ContributionChange, Frequency

Change = ContributionChange
# Longer than any provider call of a change (the gateway's timeout is 20 s, a change makes a few).
LEASE = timedelta(minutes=2)


class ChangeRefused(Exception):
    """A change the supporter cannot make. `code` picks the page's message; `message` says it in English.

    Codes: not_recurring, canceled, not_running, cancel_pending, already_paused, not_paused, months,
    below_minimum (and the checkout's other amount codes), in_progress, foreign_setup, setup_unfinished,
    risk_country, card_declined."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _fresh(change: ContributionChange) -> bool:
    return change.updated_at >= timezone.now() - LEASE


def change_claim(
    *,
    contribution: Contribution,
    kind: str,
    parameters: dict[str, Any],
    check: Callable[[Contribution], bool],
    done_is_final: bool = True,
) -> ContributionChange | None:
    """The committed marker this request owns, or None when there is nothing to do. `check(row)` runs on
    the locked row: it raises ChangeRefused, or returns False when the row already is what was asked.
    `done_is_final`: False where asking again after a finished change is a new change (another card)."""
    with transaction.atomic():
        row = Contribution.objects.select_for_update().get(id=contribution.id)
        latest = row.changes.order_by("-id").first()
        same = latest is not None and (latest.kind, latest.parameters) == (kind, parameters)
        in_flight = latest is not None and latest.status == Change.Status.PENDING
        done = done_is_final and latest is not None and latest.status == Change.Status.DONE
        if latest is not None and same and (done or (in_flight and _fresh(latest))):
            return None
        if latest is not None and in_flight and _fresh(latest):
            raise ChangeRefused("in_progress", "Another change to this contribution is being made; try again shortly.")
        if not check(row):
            return None
        if latest is not None and in_flight and same:
            latest.save(update_fields=["updated_at"])  # taken over: the lease is this request's now
            return latest
        if latest is not None and in_flight:
            change_fail(change=latest, error="abandoned")
        return Change.objects.create(contribution=row, kind=kind, parameters=parameters)


def change_fail(*, change: ContributionChange, error: str) -> None:
    Change.objects.filter(id=change.id).update(status=Change.Status.FAILED, error=error[:40], updated_at=timezone.now())
    change.status = Change.Status.FAILED


def change_done(*, change: ContributionChange) -> None:
    """Inside the transaction that writes the change's effect on the ledger."""
    Change.objects.filter(id=change.id).update(status=Change.Status.DONE, error="", updated_at=timezone.now())
    change.status = Change.Status.DONE


def contribution_loaded(contribution: Contribution) -> Contribution:
    return Contribution.objects.select_related("newsroom", "supporter", "variant").get(id=contribution.id)


def recurring_check(row: Contribution, *, allowed: tuple[str, ...]) -> None:
    if row.frequency not in (Frequency.MONTHLY, Frequency.ANNUAL) or not row.provider_subscription_id:
        raise ChangeRefused("not_recurring", "Only a monthly or annual contribution can be changed.")
    if row.status == Contribution.Status.CANCELED:
        raise ChangeRefused("canceled", "This contribution has ended.")
    if row.status not in allowed:
        raise ChangeRefused("not_running", "This contribution cannot be changed in its present state.")

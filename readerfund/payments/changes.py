"""A supporter changes their own recurring contribution: its amount or frequency, a pause, a resume, a
cancel at the end of the paid period, or the card it is charged to (payments/card_change.py).

Every service takes the Contribution, never an address: the page that calls it has already checked that
the signed-in supporter owns it. Each goes the same way:
1. decide from our row whether the change can be made (ChangeRefused otherwise);
2. commit a marker (payments/change_markers.py): a second identical request changes nothing twice;
3. call the provider, outside any transaction (the gateway refuses one), with the newsroom's account and
   idempotency keys `<change's request key>:<step>`;
4. write the ledger in one short transaction, with the confirmation e-mail (template plan_changed).

Status moves go through ledger/status.py by the table in payments/transitions.py (PAUSED, RESUMED,
SUBSCRIPTION_ENDED). Where Stripe and localstripe differ (proration, pausing), the gateway decides.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime

from django.db import transaction
from django.utils import timezone

from readerfund.appeals.rules import rules_for_variant
from readerfund.core import amounts
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.card_change import contribution_card_replace_finish, contribution_card_replace_start
from readerfund.payments.change_markers import (
    ChangeRefused,
    change_claim,
    change_done,
    change_fail,
    contribution_loaded,
    recurring_check,
)
from readerfund.payments.models import CancellationReason, Contribution, ContributionChange, Frequency
from readerfund.payments.notices import plan_changed_notify
from readerfund.payments.plans import plan_for
from readerfund.payments.provider import GatewayError
from readerfund.payments.transitions import Signal

__all__ = [
    "PAUSE_MONTHS",
    "ChangeRefused",
    "contribution_amount_change",
    "contribution_cancel",
    "contribution_card_replace_finish",
    "contribution_card_replace_start",
    "contribution_pause",
    "contribution_resume",
    "pause_end",
]

logger = logging.getLogger(__name__)
Status = Contribution.Status
Kind = ContributionChange.Kind
PAUSE_MONTHS = (1, 2, 3)
_RECURRING = (Frequency.MONTHLY, Frequency.ANNUAL)


def pause_end(*, today: date, months: int) -> date:
    """The day a pause of `months` from `today` ends: the same day of the month, or the month's last."""
    month_index = today.month - 1 + months
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _unix(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _day(unix_time: int) -> date:
    return datetime.fromtimestamp(unix_time, tz=UTC).date()


def _not_canceling(row: Contribution) -> None:
    if row.cancels_at is not None:
        raise ChangeRefused("cancel_pending", "This contribution is canceled and ends at the end of its period.")


def _provider_failed(change: ContributionChange, error: GatewayError) -> None:
    change_fail(change=change, error=error.kind)
    logger.warning("plan change %s of contribution %s failed: %s", change.kind, change.contribution_id, error.kind)


# --- amount and frequency --------------------------------------------------------------------------


def _amount_refusal(contribution: Contribution, *, amount: int, frequency: str) -> None:
    rules = rules_for_variant(contribution.newsroom, contribution.variant)
    if contribution.currency not in rules.currencies:
        # The variant no longer offers the plan's currency: the deployment's rules still hold it to a floor.
        rules = amounts.rules_for(default_currency=contribution.currency)
    if frequency not in _RECURRING:
        raise ChangeRefused("unsupported_frequency", "A plan is monthly or annual.")
    try:
        amounts.amount_check(rules, amount=amount, currency=contribution.currency, frequency=frequency)
    except amounts.AmountProblem as problem:
        limit = problem.minimum or problem.maximum
        raise ChangeRefused(
            problem.code, f"That amount cannot be taken ({problem.code}{f': {limit.display()}' if limit else ''})."
        ) from problem


def contribution_amount_change(*, contribution: Contribution, amount: int, frequency: str) -> Contribution:
    """From the next renewal on, charge `amount` (minor units, the plan's currency) each `frequency`
    (monthly | annual). Nothing is prorated. A change of frequency starts a new period at once: the
    provider charges the new plan now (the ledger records that payment); so a paused plan changes only
    its amount."""
    contribution = contribution_loaded(contribution)
    _amount_refusal(contribution, amount=amount, frequency=frequency)

    def check(row: Contribution) -> bool:
        recurring_check(row, allowed=(Status.ACTIVE, Status.PAUSED))
        _not_canceling(row)
        if row.status == Status.PAUSED and row.frequency != frequency:
            # A new frequency starts a new period at once, charged now: not while nothing is to be charged
            # (Stripe's pause would void that invoice and give the new period away).
            raise ChangeRefused("not_running", "A paused contribution keeps its frequency; resume it first.")
        return (row.amount, row.frequency) != (amount, frequency)

    parameters = {"amount": amount, "frequency": frequency}
    change = change_claim(contribution=contribution, kind=Kind.AMOUNT, parameters=parameters, check=check)
    if change is None:
        return contribution_loaded(contribution)
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
            plan_id = plan_for(contribution=contribution, amount=amount, frequency=frequency)
            changed = gateway.subscription_plan_change(
                subscription=subscription, plan_id=plan_id, idempotency_key=f"{change.request_key}:plan"
            )
        except GatewayError as error:
            _provider_failed(change, error)
            raise
        with transaction.atomic():
            row = (
                Contribution.objects.select_for_update().select_related("newsroom", "supporter").get(id=contribution.id)
            )
            row.amount, row.frequency, row.provider_plan_id = amount, frequency, plan_id
            row.save(update_fields=["amount", "frequency", "provider_plan_id", "updated_at"])
            change_done(change=change)
            plan_changed_notify(contribution=row, kind=Kind.AMOUNT, change_key=change.request_key)
        if changed.latest_invoice != subscription.latest_invoice:
            # A new period started (a change of frequency): its invoice goes in the ledger.
            ledger.contribution_apply_subscription(contribution=row, subscription=changed)
    return contribution_loaded(contribution)


# --- pause and resume ------------------------------------------------------------------------------


def contribution_pause(*, contribution: Contribution, months: int) -> Contribution:
    """Hold an active plan's charges for 1, 2 or 3 months; it continues by itself on `paused_until`."""
    if months not in PAUSE_MONTHS:
        raise ChangeRefused("months", "A contribution can be paused for 1, 2 or 3 months.")
    contribution = contribution_loaded(contribution)
    until = pause_end(today=timezone.now().date(), months=months)

    def check(row: Contribution) -> bool:
        if row.status == Status.PAUSED:
            if row.paused_until == until:
                return False  # the same click again: this very pause is made
            raise ChangeRefused("already_paused", "This contribution is paused already.")
        recurring_check(row, allowed=(Status.ACTIVE,))
        _not_canceling(row)
        return True

    # Not final when done: a pause that ran out (its date passed, no change of ours) leaves the same pause
    # as the latest marker, and the next one asked for is a new pause. The row says whether it is made.
    change = change_claim(
        contribution=contribution, kind=Kind.PAUSE, parameters={"months": months}, check=check, done_is_final=False
    )
    if change is None:
        return contribution_loaded(contribution)
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            gateway.subscription_pause(
                subscription_id=contribution.provider_subscription_id,
                resumes_at=_unix(until),
                idempotency_key=f"{change.request_key}:pause",
            )
        except GatewayError as error:
            _provider_failed(change, error)
            raise
    with transaction.atomic():
        row = ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal.PAUSED)
        if row.status != Status.PAUSED:
            # The plan moved meanwhile (a renewal failed): the provider holds it, our ledger says why not.
            logger.warning("contribution %s paused at the provider while %s", contribution.id, row.status)
            change_fail(change=change, error=f"status_{row.status}")
            return row
        Contribution.objects.filter(id=row.id).update(paused_until=until)
        row.paused_until = until
        change_done(change=change)
        plan_changed_notify(contribution=row, kind=Kind.PAUSE, change_key=change.request_key)
    return contribution_loaded(contribution)


def contribution_resume(*, contribution: Contribution) -> Contribution:
    """End a pause before its date: the plan charges again from its next renewal."""
    contribution = contribution_loaded(contribution)

    def check(row: Contribution) -> bool:
        recurring_check(row, allowed=(Status.PAUSED, Status.ACTIVE))
        if row.status != Status.PAUSED:
            raise ChangeRefused("not_paused", "This contribution is not paused.")
        return True

    change = change_claim(contribution=contribution, kind=Kind.RESUME, parameters={}, check=check)
    if change is None:
        return contribution_loaded(contribution)
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            gateway.subscription_resume(
                subscription_id=contribution.provider_subscription_id, idempotency_key=f"{change.request_key}:resume"
            )
        except GatewayError as error:
            _provider_failed(change, error)
            raise
    with transaction.atomic():
        row = ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal.RESUMED)
        if row.paused_until is not None:  # already active (the pause's date had passed): forget the date
            Contribution.objects.filter(id=row.id).update(paused_until=None)
            row.paused_until = None
        change_done(change=change)
        plan_changed_notify(contribution=row, kind=Kind.RESUME, change_key=change.request_key)
    return contribution_loaded(contribution)


# --- cancel ----------------------------------------------------------------------------------------


def _reason_keep(row: Contribution, reason: str) -> None:
    """The reason in the newsroom's churn report: one line, without the supporter, the contribution or a
    time of day."""
    # Printable characters only: PostgreSQL text cannot hold a NUL (the write would fail after Stripe had
    # cancelled), and a control or invisible character has no place in a report's line either.
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in reason).split())[:200]
    if line:
        CancellationReason.objects.create(
            newsroom=row.newsroom,
            frequency=row.frequency,
            currency=row.currency,
            reason=line,
            created_on=timezone.now().date(),
        )


def contribution_cancel(*, contribution: Contribution, reason: str = "") -> Contribution:
    """An active plan runs to the end of the period paid for (`cancels_at`), then the provider ends it and
    the ledger's subscription sync makes it canceled. A paused or past-due plan, which nothing is being
    paid for, ends now. `reason`: optional, kept apart from the supporter (CancellationReason)."""
    contribution = contribution_loaded(contribution)

    def check(row: Contribution) -> bool:
        recurring_check(row, allowed=(Status.ACTIVE, Status.PAUSED, Status.PAST_DUE))
        return row.cancels_at is None

    # The reason is not among the parameters: a second click with other words is the same cancel.
    change = change_claim(contribution=contribution, kind=Kind.CANCEL, parameters={}, check=check)
    if change is None:
        return contribution_loaded(contribution)
    now = contribution.status != Status.ACTIVE
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            subscription_id, key = contribution.provider_subscription_id, f"{change.request_key}:cancel"
            if now:
                gateway.subscription_cancel(subscription_id=subscription_id, idempotency_key=key)
                ends = None
            else:
                ended = gateway.subscription_cancel_at_period_end(subscription_id=subscription_id, idempotency_key=key)
                ends = _day(ended.current_period_end) if ended.current_period_end else timezone.now().date()
        except GatewayError as error:
            _provider_failed(change, error)
            raise
    with transaction.atomic():
        if ends is None:
            row = ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal.SUBSCRIPTION_ENDED)
        else:
            row = (
                Contribution.objects.select_for_update().select_related("newsroom", "supporter").get(id=contribution.id)
            )
            row.cancels_at = ends
            row.save(update_fields=["cancels_at", "updated_at"])
        change_done(change=change)
        _reason_keep(row, reason)
        plan_changed_notify(contribution=row, kind=Kind.CANCEL, change_key=change.request_key)
    return contribution_loaded(contribution)

"""When a failed renewal is charged again, and when a card's expiry is worth a notice. Pure: no Django import.

The policy, in one place (payments/dunning.py runs it):
- A newsroom that uses Stripe's Smart Retries: Stripe retries, we only follow its webhooks (no retry of
  ours is ever due), and the plan ends when Stripe ends it.
- Otherwise our own schedule: retry on each of `days` after the first failure (RENEWAL_RETRY_DAYS, 3, 5
  and 7 by default), counted from the moment of the first failure, so a late worker catches up rather than
  shifting the whole schedule. After the last retry fails, the plan is canceled.
- A card is worth a notice once it expires within `ahead_days`: a card is valid through the last day of
  its expiry month, so it stops working at the start of the next month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class RetryPlan:
    """What is due for a failure that has had `retries_made` retries of ours."""

    next_retry_at: datetime | None  # None: nothing more is scheduled
    cancel_due: bool  # every retry was made and failed: the plan ends


def retry_plan(
    *, first_failed_at: datetime, retries_made: int, days: tuple[int, ...], smart_retries: bool
) -> RetryPlan:
    if smart_retries:
        return RetryPlan(next_retry_at=None, cancel_due=False)
    if retries_made < len(days):
        return RetryPlan(next_retry_at=first_failed_at + timedelta(days=days[retries_made]), cancel_due=False)
    return RetryPlan(next_retry_at=None, cancel_due=True)


def days_between(start: datetime, end: datetime) -> int:
    """Whole days (of 24 hours) a recovery took, never negative: a payment on the third retry, three days
    after the failure, took 3, whatever the hour of either."""
    return max(0, (end - start).days)


def card_stops_on(*, exp_month: int, exp_year: int) -> date | None:
    """The first day a card no longer works; None for a month or year that is not one."""
    if not (1 <= exp_month <= 12) or not (2000 <= exp_year <= 9998):
        return None
    return date(exp_year + (exp_month == 12), exp_month % 12 + 1, 1)


def card_expiry_notice_due(*, today: date, exp_month: int, exp_year: int, ahead_days: int) -> bool:
    """The card still works today and stops within `ahead_days`."""
    stops = card_stops_on(exp_month=exp_month, exp_year=exp_year)
    return stops is not None and today < stops <= today + timedelta(days=ahead_days)

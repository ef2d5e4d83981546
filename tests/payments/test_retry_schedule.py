"""The retry policy and the card-expiry rule (payments/retry_schedule.py), as tables and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.payments.retry_schedule import (
    RetryPlan,
    card_expiry_notice_due,
    card_stops_on,
    days_between,
    retry_plan,
)

FIRST = datetime(2026, 3, 30, 23, 50, tzinfo=UTC)
DAYS = (3, 5, 7)


@pytest.mark.parametrize(
    ("retries_made", "expected"),
    [
        (0, RetryPlan(next_retry_at=FIRST + timedelta(days=3), cancel_due=False)),
        (1, RetryPlan(next_retry_at=FIRST + timedelta(days=5), cancel_due=False)),
        (2, RetryPlan(next_retry_at=FIRST + timedelta(days=7), cancel_due=False)),
        (3, RetryPlan(next_retry_at=None, cancel_due=True)),
        (4, RetryPlan(next_retry_at=None, cancel_due=True)),
    ],
)
def test_our_schedule_counts_from_the_first_failure(retries_made: int, expected: RetryPlan) -> None:
    assert retry_plan(first_failed_at=FIRST, retries_made=retries_made, days=DAYS, smart_retries=False) == expected


@pytest.mark.parametrize("retries_made", [0, 1, 3, 9])
def test_with_smart_retries_nothing_of_ours_is_ever_due(retries_made: int) -> None:
    plan = retry_plan(first_failed_at=FIRST, retries_made=retries_made, days=DAYS, smart_retries=True)
    assert plan == RetryPlan(next_retry_at=None, cancel_due=False)


@given(
    days=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=6, unique=True).map(
        lambda days: tuple(sorted(days))
    )
)
def test_every_schedule_retries_once_per_day_listed_then_cancels(days: tuple[int, ...]) -> None:
    seen = []
    made = 0
    while True:
        plan = retry_plan(first_failed_at=FIRST, retries_made=made, days=days, smart_retries=False)
        if plan.cancel_due:
            break
        assert plan.next_retry_at is not None
        seen.append(plan.next_retry_at)
        made += 1
    assert seen == [FIRST + timedelta(days=day) for day in days]
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (FIRST, FIRST, 0),
        (FIRST, FIRST + timedelta(hours=23), 0),  # across midnight, less than a day: 0
        (FIRST, FIRST + timedelta(days=5, minutes=1), 5),
        (FIRST, FIRST - timedelta(days=1), 0),  # Stripe's clock a little behind ours: never negative
    ],
)
def test_days_a_recovery_took(start: datetime, end: datetime, days: int) -> None:
    assert days_between(start, end) == days


@pytest.mark.parametrize(
    ("exp_month", "exp_year", "stops"),
    [
        (12, 2026, date(2027, 1, 1)),
        (1, 2027, date(2027, 2, 1)),
        (2, 2028, date(2028, 3, 1)),
        (0, 2027, None),
        (13, 2027, None),
        (5, 0, None),
    ],
)
def test_a_card_works_through_the_last_day_of_its_month(exp_month: int, exp_year: int, stops: date | None) -> None:
    assert card_stops_on(exp_month=exp_month, exp_year=exp_year) == stops


@pytest.mark.parametrize(
    ("today", "exp_month", "exp_year", "due"),
    [
        (date(2026, 11, 30), 12, 2026, False),  # stops 1 January: 32 days ahead
        (date(2026, 12, 1), 12, 2026, True),  # 31 days ahead
        (date(2026, 12, 31), 12, 2026, True),  # its last day
        (date(2027, 1, 1), 12, 2026, False),  # already expired: the failed renewal's e-mail says it instead
        (date(2026, 12, 1), 12, 2035, False),
        (date(2026, 12, 1), 0, 0, False),  # not a card's expiry
    ],
)
def test_a_notice_a_month_ahead(today: date, exp_month: int, exp_year: int, due: bool) -> None:
    assert card_expiry_notice_due(today=today, exp_month=exp_month, exp_year=exp_year, ahead_days=31) is due

"""The contribution status table (payments/transitions.py): every signal from every status."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.payments.models import Contribution
from readerfund.payments.transitions import (
    FINAL,
    RULES,
    WAIT_FOR_PAUSE_END,
    Signal,
    Status,
    intent_signal,
    status_next,
    subscription_signal,
)

S, G = Status, Signal


def test_the_table_speaks_the_models_statuses() -> None:
    assert {s.value for s in Status} == set(Contribution.Status.values)
    assert set(RULES) == set(Signal)


@pytest.mark.parametrize(
    ("current", "signal", "expected"),
    [
        # one-off
        (S.PENDING, G.PAID, S.SUCCEEDED),
        (S.REQUIRES_ACTION, G.PAID, S.SUCCEEDED),
        (S.PENDING, G.NEEDS_ACTION, S.REQUIRES_ACTION),
        (S.REQUIRES_ACTION, G.DECLINED, S.FAILED),
        (S.PENDING, G.PROCESSING, None),
        (S.REQUIRES_ACTION, G.PROCESSING, S.PENDING),
        (S.PENDING, G.ABANDONED, S.CANCELED),
        # money that arrived after all lifts a failure (3-D Secure finished late, a SEPA debit cleared)
        (S.FAILED, G.PAID, S.SUCCEEDED),
        (S.FAILED, G.SUBSCRIPTION_ACTIVE, S.ACTIVE),
        # a stale read never undoes a payment
        (S.SUCCEEDED, G.DECLINED, None),
        (S.SUCCEEDED, G.NEEDS_ACTION, None),
        (S.SUCCEEDED, G.PROCESSING, None),
        # recurring
        (S.PENDING, G.SUBSCRIPTION_ACTIVE, S.ACTIVE),
        (S.ACTIVE, G.RENEWAL_FAILED, S.PAST_DUE),
        (S.PAST_DUE, G.SUBSCRIPTION_ACTIVE, S.ACTIVE),
        (S.ACTIVE, G.RENEWAL_NEEDS_ACTION, S.PAST_DUE),
        (S.ACTIVE, G.INVOICE_FAILED, S.PAST_DUE),
        (S.PENDING, G.INVOICE_FAILED, S.FAILED),
        (S.REQUIRES_ACTION, G.INVOICE_FAILED, S.FAILED),
        (S.ACTIVE, G.SUBSCRIPTION_ENDED, S.CANCELED),
        (S.PAST_DUE, G.SUBSCRIPTION_ENDED, S.CANCELED),
        (S.PENDING, G.FIRST_PAYMENT_EXPIRED, S.FAILED),
        # the first payment's 3-D Secure belongs to the checkout page, not to a renewal e-mail
        (S.PENDING, G.RENEWAL_NEEDS_ACTION, None),
        (S.REQUIRES_ACTION, G.RENEWAL_FAILED, None),
        # a plan that never started stays failed when the provider ends it
        (S.FAILED, G.SUBSCRIPTION_ENDED, None),
        # ended plans stay ended, refused ones refused
        (S.CANCELED, G.SUBSCRIPTION_ACTIVE, None),
        (S.CANCELED, G.RENEWAL_FAILED, None),
        (S.REFUSED, G.PAID, None),
        (S.REFUSED, G.SUBSCRIPTION_ACTIVE, None),
        (S.PENDING, G.RISK_REFUSED, S.REFUSED),
        (S.ACTIVE, G.RISK_REFUSED, None),
    ],
)
def test_status_next(current: Status, signal: Signal, expected: Status | None) -> None:
    assert status_next(current, signal) == expected


@pytest.mark.parametrize(
    ("current", "signal", "pause_over", "expected"),
    [
        # the supporter pauses a plan in good standing, and resumes it
        (S.ACTIVE, G.PAUSED, True, S.PAUSED),
        (S.PAST_DUE, G.PAUSED, True, None),
        (S.PENDING, G.PAUSED, True, None),
        (S.CANCELED, G.PAUSED, True, None),
        (S.PAUSED, G.RESUMED, False, S.ACTIVE),
        (S.PAUSED, G.RESUMED, True, S.ACTIVE),
        (S.ACTIVE, G.RESUMED, True, None),
        (S.CANCELED, G.RESUMED, True, None),
        # while the pause lasts, the provider's "active" (it holds the charges) and late renewal news change nothing
        (S.PAUSED, G.SUBSCRIPTION_ACTIVE, False, None),
        (S.PAUSED, G.RENEWAL_FAILED, False, None),
        (S.PAUSED, G.RENEWAL_NEEDS_ACTION, False, None),
        (S.PAUSED, G.INVOICE_FAILED, False, None),
        # once its date has passed, the plan runs again and its renewals count
        (S.PAUSED, G.SUBSCRIPTION_ACTIVE, True, S.ACTIVE),
        (S.PAUSED, G.RENEWAL_FAILED, True, S.PAST_DUE),
        (S.PAUSED, G.INVOICE_FAILED, True, S.PAST_DUE),
        # a paused plan that ends is canceled, pause or not
        (S.PAUSED, G.SUBSCRIPTION_ENDED, False, S.CANCELED),
        (S.PAUSED, G.SUBSCRIPTION_ENDED, True, S.CANCELED),
        # nothing else moves it
        (S.PAUSED, G.PAID, True, None),
        (S.PAUSED, G.DECLINED, True, None),
        (S.PAUSED, G.RISK_REFUSED, True, None),
        (S.PAUSED, G.FIRST_PAYMENT_EXPIRED, True, None),
        # the pause's date means nothing to a plan that is not paused
        (S.ACTIVE, G.RENEWAL_FAILED, False, S.PAST_DUE),
        (S.PAST_DUE, G.SUBSCRIPTION_ACTIVE, False, S.ACTIVE),
    ],
)
def test_status_next_around_a_pause(current: Status, signal: Signal, pause_over: bool, expected: Status | None) -> None:
    assert status_next(current, signal, pause_over=pause_over) == expected


@given(st.sampled_from(sorted(WAIT_FOR_PAUSE_END)))
def test_nothing_the_provider_says_about_renewals_ends_a_pause_early(signal: Signal) -> None:
    assert status_next(S.PAUSED, signal, pause_over=False) is None


@given(st.sampled_from(sorted(FINAL)), st.sampled_from(list(Signal)))
def test_final_statuses_never_move(current: Status, signal: Signal) -> None:
    assert status_next(current, signal) is None


@given(st.sampled_from(list(Status)), st.lists(st.sampled_from(list(Signal)), max_size=8))
def test_a_signal_repeated_changes_nothing_the_second_time(current: Status, signals: list[Signal]) -> None:
    for signal in signals:
        once = status_next(current, signal) or current
        assert status_next(once, signal) is None
        current = once


@pytest.mark.parametrize(
    ("status", "first_payment", "failed", "expected"),
    [
        ("active", "", False, G.SUBSCRIPTION_ACTIVE),
        ("trialing", "", False, G.SUBSCRIPTION_ACTIVE),
        ("past_due", "", False, G.RENEWAL_FAILED),
        ("unpaid", "", False, G.RENEWAL_FAILED),
        ("canceled", "", False, G.SUBSCRIPTION_ENDED),
        ("incomplete_expired", "", False, G.FIRST_PAYMENT_EXPIRED),
        # the money arrived; the provider's subscription status catches up a moment later
        ("incomplete", "succeeded", False, G.SUBSCRIPTION_ACTIVE),
        ("incomplete", "requires_action", False, G.NEEDS_ACTION),
        ("incomplete", "requires_payment_method", True, G.DECLINED),
        ("incomplete", "requires_payment_method", False, None),
        ("incomplete", "processing", False, G.PROCESSING),
        ("incomplete", "", False, None),
    ],
)
def test_subscription_signal(status: str, first_payment: str, failed: bool, expected: Signal | None) -> None:
    assert subscription_signal(status=status, first_payment=first_payment, first_payment_failed=failed) == expected


@pytest.mark.parametrize(
    ("status", "failed", "expected"),
    [
        ("succeeded", False, G.PAID),
        ("requires_action", False, G.NEEDS_ACTION),
        ("requires_payment_method", True, G.DECLINED),
        ("requires_payment_method", False, None),
        ("canceled", False, G.ABANDONED),
        ("processing", False, G.PROCESSING),
        ("requires_confirmation", False, None),
    ],
)
def test_intent_signal(status: str, failed: bool, expected: Signal | None) -> None:
    assert intent_signal(status=status, failed=failed) == expected

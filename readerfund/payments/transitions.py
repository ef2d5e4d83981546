"""A contribution's status: what each thing the provider tells us does to it. Pure: no Django import.

`status_next(current, signal)` is the whole rule; payments/ledger/status.py is the one place that
writes a contribution's status, and it asks this table. Tested as a table in
tests/payments/test_transitions.py.

Why the rules are what they are:
- Refused (a card from a listed risk country) is final: nothing was charged, and nothing may be.
- Succeeded (one-off, paid) and canceled (recurring, ended) are final: a stale read of an older state
  must not move them back. Refunds and disputes are on the payment, not the contribution.
- Failed is final except for money: if the provider says the payment went through after all (3-D
  Secure finished late, a SEPA debit we thought lost), the money is real and the contribution follows.
- A subscription that is still `incomplete` while its first payment has succeeded is active: the
  money arrived, and the provider's subscription status catches up a moment later.
- Paused is a running plan the supporter asked to hold for a while (payments/changes.py). The provider
  still calls the subscription active while it holds the charges, and an event read before the pause
  may arrive after it: so while the pause lasts (`pause_over` false) nothing the provider says about
  renewals moves it. Only the supporter's resume, or the plan's end, does; once the pause date has
  passed, the provider's word counts again.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    # The same values as payments.models.Contribution.Status.
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUSED = "refused"
    PAUSED = "paused"


class Signal(StrEnum):
    """What the provider (or our own checkout) says about a contribution's money."""

    PAID = "paid"  # a one-off intent succeeded
    PROCESSING = "processing"  # a one-off intent is processing (SEPA: days)
    NEEDS_ACTION = "needs_action"  # the first payment waits for 3-D Secure
    DECLINED = "declined"  # the first payment (or the card, at attach) was refused by the bank
    ABANDONED = "abandoned"  # the intent was canceled before any money moved
    SUBSCRIPTION_ACTIVE = "subscription_active"  # active or trialing, or incomplete with its first payment made
    RENEWAL_FAILED = "renewal_failed"  # past_due / unpaid, or a renewal invoice's payment failed
    RENEWAL_NEEDS_ACTION = "renewal_needs_action"  # a renewal waits for the supporter's 3-D Secure
    INVOICE_FAILED = "invoice_failed"  # an attempt to pay an invoice failed (first payment or renewal)
    SUBSCRIPTION_ENDED = "subscription_ended"  # canceled, or gone at the provider
    FIRST_PAYMENT_EXPIRED = "first_payment_expired"  # incomplete_expired: the first payment never came
    RISK_REFUSED = "risk_refused"  # our own refusal of a card from a listed risk country
    PAUSED = "paused"  # the supporter paused the plan (the provider holds its charges until a date)
    RESUMED = "resumed"  # the supporter resumed a paused plan before its date


S, G = Status, Signal
FINAL = {S.REFUSED, S.SUCCEEDED, S.CANCELED}
_OPEN = {S.PENDING, S.REQUIRES_ACTION}  # the first payment has not been made yet
_RUNNING = {S.ACTIVE, S.PAST_DUE}  # a recurring plan that started and is being charged


def _from(sources: set[Status], target: Status) -> dict[Status, Status]:
    return dict.fromkeys(sources, target)


# signal -> {current status: new status}. A status missing from a signal's row: the signal is stale or
# irrelevant there and changes nothing.
RULES: dict[Signal, dict[Status, Status]] = {
    G.PAID: _from(_OPEN | {S.FAILED}, S.SUCCEEDED),
    G.PROCESSING: _from(_OPEN, S.PENDING),
    G.NEEDS_ACTION: _from(_OPEN, S.REQUIRES_ACTION),
    G.DECLINED: _from(_OPEN, S.FAILED),
    G.ABANDONED: _from(_OPEN, S.CANCELED),
    # From paused: the pause is over (see WAIT_FOR_PAUSE_END) and the plan runs again.
    G.SUBSCRIPTION_ACTIVE: _from(_OPEN | _RUNNING | {S.FAILED, S.PAUSED}, S.ACTIVE),
    G.RENEWAL_FAILED: _from(_RUNNING | {S.PAUSED}, S.PAST_DUE),
    G.RENEWAL_NEEDS_ACTION: _from(_RUNNING | {S.PAUSED}, S.PAST_DUE),
    # An invoice's payment failed: a renewal of a running plan, or the first payment of a new one.
    G.INVOICE_FAILED: {**_from(_RUNNING | {S.PAUSED}, S.PAST_DUE), **_from(_OPEN, S.FAILED)},
    # A failed plan the provider then ended stays failed: "canceled" would say it had started.
    G.SUBSCRIPTION_ENDED: _from(_OPEN | _RUNNING | {S.PAUSED}, S.CANCELED),
    G.FIRST_PAYMENT_EXPIRED: _from(_OPEN, S.FAILED),
    G.RISK_REFUSED: _from(_OPEN, S.REFUSED),
    # Only a plan in good standing pauses: a past-due one has an unpaid renewal to settle first.
    G.PAUSED: _from({S.ACTIVE}, S.PAUSED),
    G.RESUMED: _from({S.PAUSED}, S.ACTIVE),
}

# What the provider says about renewals, which leaves a paused plan alone until its pause date has passed.
WAIT_FOR_PAUSE_END = frozenset({G.SUBSCRIPTION_ACTIVE, G.RENEWAL_FAILED, G.RENEWAL_NEEDS_ACTION, G.INVOICE_FAILED})


def status_next(current: str, signal: Signal, *, pause_over: bool = True) -> Status | None:
    """The contribution's new status, or None when the signal changes nothing from `current`.
    `pause_over`: a paused contribution's pause date has passed (or it has none)."""
    now = Status(current)
    if now == S.PAUSED and signal in WAIT_FOR_PAUSE_END and not pause_over:
        return None
    target = RULES[signal].get(now)
    return None if target is None or target == now else target


def subscription_signal(*, status: str, first_payment: str, first_payment_failed: bool) -> Signal | None:
    """The signal in a subscription's current state. `first_payment`: the status of its latest invoice's
    PaymentIntent while the subscription is incomplete ("" if none)."""
    if status in ("active", "trialing"):
        return G.SUBSCRIPTION_ACTIVE
    if status in ("past_due", "unpaid"):
        return G.RENEWAL_FAILED
    if status == "canceled":
        return G.SUBSCRIPTION_ENDED
    if status == "incomplete_expired":
        return G.FIRST_PAYMENT_EXPIRED
    if status == "incomplete":
        if first_payment == "succeeded":
            return G.SUBSCRIPTION_ACTIVE
        if first_payment == "requires_action":
            return G.NEEDS_ACTION
        if first_payment_failed:
            return G.DECLINED
        if first_payment == "processing":
            return G.PROCESSING
    return None


def intent_signal(*, status: str, failed: bool) -> Signal | None:
    """The signal in a one-off PaymentIntent's current state (`failed`: it carries a last payment error)."""
    if status == "succeeded":
        return G.PAID
    if status == "requires_action":
        return G.NEEDS_ACTION
    if status == "requires_payment_method" and failed:
        return G.DECLINED
    if status == "canceled":
        return G.ABANDONED
    if status == "processing":
        return G.PROCESSING
    return None

"""Disputes and refunds in the ledger, delivered as signed webhook events in any order.

localstripe has no disputes API (anything under /v1/disputes answers 404) and never fails a refund, so
dispute events are built from the payloads in Stripe's documentation around the real charge at
localstripe, and a failed refund is Stripe's answer with its status changed (said where it is done).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from django.test import Client

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Dispute, Payment, Refund, WebhookEvent
from readerfund.payments.provider import GatewayCharge, GatewayRefund
from tests.factories import newsroom_make
from tests.payments import stripe_scenarios
from tests.payments.events import event_build, event_post

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def newsroom(db: Any, settings: Any) -> Newsroom:
    settings.TASKS = IMMEDIATE
    return newsroom_make()


def deliver(client: Client, capture: Any, event: dict[str, Any]) -> None:
    with capture(execute=True):
        response = event_post(client, event)
    assert response.status_code == 200, response.content


def _paid(newsroom: Newsroom, amount: int = 2000) -> tuple[Payment, str, str]:
    story = stripe_scenarios.one_off(newsroom, amount=amount)
    intent_id = story.events[0]["data"]["object"]["id"]
    payment = ledger.payment_intent_sync(newsroom=newsroom, intent_id=intent_id)
    assert payment is not None
    charge_id = gateway.payment_intent_get(intent_id=intent_id).latest_charge
    return Payment.objects.get(provider_payment_id=intent_id), intent_id, charge_id


def dispute_object(
    *, dispute_id: str, charge_id: str, intent_id: str, amount: int, status: str, withdrawn: bool, reinstated: bool
) -> dict[str, Any]:
    """A Dispute as Stripe's API reference shows it, with the balance transactions Stripe makes: the
    withdrawal (amount and the 15.00 dispute fee taken) and, if the dispute was won, the reinstatement."""
    transactions = []
    if withdrawn:
        transactions.append(
            {
                "id": "txn_w",
                "object": "balance_transaction",
                "amount": -amount,
                "fee": 1500,
                "currency": "usd",
                "type": "adjustment",
                "reporting_category": "dispute",
            }
        )
    if reinstated:
        transactions.append(
            {
                "id": "txn_r",
                "object": "balance_transaction",
                "amount": amount,
                "fee": -1500,
                "currency": "usd",
                "type": "adjustment",
                "reporting_category": "dispute_reversal",
            }
        )
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": transactions,
        "charge": charge_id,
        "created": int(time.time()) - 60,
        "currency": "usd",
        "evidence": {},
        "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False, "past_due": False},
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": intent_id,
        "reason": "fraudulent",
        "status": status,
    }


def test_a_lost_dispute_takes_the_money_out_of_what_was_received_in_any_event_order(
    newsroom: Newsroom, localstripe: str, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    payment, intent_id, charge_id = _paid(newsroom, amount=2000)
    dispute_id = "dp_" + secrets.token_hex(8)
    now = int(time.time())
    common = {"dispute_id": dispute_id, "charge_id": charge_id, "intent_id": intent_id, "amount": 2000}
    created = event_build(
        dispute_object(**common, status="needs_response", withdrawn=True, reinstated=False),
        "charge.dispute.created",
        created=now - 30,
    )
    withdrawn = event_build(
        dispute_object(**common, status="needs_response", withdrawn=True, reinstated=False),
        "charge.dispute.funds_withdrawn",
        created=now - 29,
    )
    closed = event_build(
        dispute_object(**common, status="lost", withdrawn=True, reinstated=False), "charge.dispute.closed", created=now
    )
    # The closing event first, then the older ones, and a replay: the newest state stands.
    for event in (closed, created, withdrawn, closed):
        deliver(client, django_capture_on_commit_callbacks, event)
    payment.refresh_from_db()
    dispute = Dispute.objects.get(provider_dispute_id=dispute_id)
    assert (dispute.status, dispute.amount, dispute.fee, dispute.reason) == ("lost", 2000, 1500, "fraudulent")
    assert dispute.closed_at is not None
    assert (payment.status, payment.amount_disputed, payment.amount_net) == (Payment.Status.DISPUTE_LOST, 2000, 0)
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 3


def test_an_open_dispute_is_shown_and_a_won_one_gives_the_money_back(
    newsroom: Newsroom, localstripe: str, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    payment, intent_id, charge_id = _paid(newsroom, amount=1200)
    dispute_id = "dp_" + secrets.token_hex(8)
    common = {"dispute_id": dispute_id, "charge_id": charge_id, "intent_id": intent_id, "amount": 1200}
    now = int(time.time())
    opened = dispute_object(**common, status="needs_response", withdrawn=True, reinstated=False)
    deliver(client, django_capture_on_commit_callbacks, event_build(opened, "charge.dispute.created", created=now - 5))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_disputed, payment.amount_net) == (Payment.Status.DISPUTED, 1200, 0)

    won = dispute_object(**common, status="won", withdrawn=True, reinstated=True)
    deliver(
        client, django_capture_on_commit_callbacks, event_build(won, "charge.dispute.funds_reinstated", created=now)
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount_disputed, payment.amount_net) == (Payment.Status.SUCCEEDED, 0, 1200)
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.fee, dispute.funds_withdrawn) == ("won", 0, False)


def test_an_inquiry_does_not_count_as_money_taken_back(
    newsroom: Newsroom, localstripe: str, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    payment, intent_id, charge_id = _paid(newsroom, amount=900)
    inquiry = dispute_object(
        dispute_id="dp_" + secrets.token_hex(8),
        charge_id=charge_id,
        intent_id=intent_id,
        amount=900,
        status="warning_needs_response",
        withdrawn=False,
        reinstated=False,
    )
    deliver(client, django_capture_on_commit_callbacks, event_build(inquiry, "charge.dispute.created"))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_disputed, payment.amount_net) == (Payment.Status.SUCCEEDED, 0, 900)
    assert Dispute.objects.get().status == "warning_needs_response"


def test_a_dispute_about_a_charge_that_is_not_ours_is_ignored(
    newsroom: Newsroom, localstripe: str, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    stranger = dispute_object(
        dispute_id="dp_" + secrets.token_hex(8),
        charge_id="ch_elsewhere",
        intent_id="",
        amount=500,
        status="needs_response",
        withdrawn=True,
        reinstated=False,
    )
    deliver(client, django_capture_on_commit_callbacks, event_build(stranger, "charge.dispute.created"))
    row = WebhookEvent.objects.get()
    assert (row.status, row.error) == (WebhookEvent.Status.IGNORED, "Not one of our contributions.")
    assert not Dispute.objects.exists()


def test_a_pending_refund_that_later_fails_no_longer_counts(
    newsroom: Newsroom,
    localstripe: str,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment, intent_id, charge_id = _paid(newsroom, amount=1500)
    refund = gateway.refund_create(payment_intent_id=intent_id, amount=500, idempotency_key=f"t-{secrets.token_hex(4)}")
    real_charge_get = gateway.charge_get
    status = {"now": "pending"}

    def charge_as_stripe_says(*, charge_id: str) -> GatewayCharge:
        # localstripe settles every refund at once and never fails one: Stripe's own answer for a bank
        # refund is "pending" for days and may turn "failed". Its real charge, with that status.
        charge = real_charge_get(charge_id=charge_id)
        refunds = [
            GatewayRefund(
                id=r.id, amount=r.amount, currency=r.currency, status=status["now"], charge=r.charge, created=r.created
            )
            for r in charge.refunds
        ]
        return GatewayCharge(**{**charge.__dict__, "refunds": refunds})

    monkeypatch.setattr(gateway, "charge_get", charge_as_stripe_says)
    refund_object = {"id": refund.id, "object": "refund", "charge": charge_id, "amount": 500, "currency": "usd"}
    deliver(
        client,
        django_capture_on_commit_callbacks,
        event_build({**refund_object, "status": "pending"}, "refund.created"),
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (Payment.Status.PARTIALLY_REFUNDED, 500)

    status["now"] = "failed"
    deliver(
        client, django_capture_on_commit_callbacks, event_build({**refund_object, "status": "failed"}, "refund.failed")
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded, payment.amount_net) == (Payment.Status.SUCCEEDED, 0, 1500)
    assert Refund.objects.get().status == Refund.Status.FAILED
    # An older event replayed late reads the current state again: still failed, still not counted.
    deliver(
        client,
        django_capture_on_commit_callbacks,
        event_build({**refund_object, "status": "pending"}, "charge.refund.updated"),
    )
    payment.refresh_from_db()
    assert payment.amount_refunded == 0

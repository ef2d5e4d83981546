"""Processing a stored event: the handler table, outcomes recorded on the row, safe to run twice."""

from __future__ import annotations

from typing import Any

import pytest

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import handlers
from readerfund.payments.handlers import HANDLERS, webhook_event_process
from readerfund.payments.models import Contribution, Payment, WebhookEvent
from tests.factories import newsroom_make
from tests.payments import stripe_scenarios


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    return newsroom_make(slug="north-desk", name="North Desk")


def stored(event: dict[str, Any]) -> WebhookEvent:
    return WebhookEvent.objects.create(
        newsroom=Newsroom.objects.get(), event_id=event["id"], type=event["type"], payload=event
    )


def test_every_event_type_the_ledger_needs_has_a_handler() -> None:
    assert set(HANDLERS) == {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.canceled",
        "setup_intent.setup_failed",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "charge.refunded",
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }


def test_an_event_stored_without_a_newsroom_is_ignored_with_the_reason(db: Any) -> None:
    row = WebhookEvent.objects.create(event_id="evt_old", type="charge.refunded", payload={"data": {"object": {}}})
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.IGNORED
    row.refresh_from_db()
    assert "newsroom" in row.error


def test_missing_row_is_reported_not_raised(db: Any) -> None:
    assert webhook_event_process(event_row_id=123456) == "missing"


@pytest.mark.usefixtures("localstripe")
def test_processed_event_is_not_processed_again(newsroom: Newsroom) -> None:
    story = stripe_scenarios.one_off(newsroom, amount=2500)
    row = stored(story.events[0])
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.PROCESSED
    Payment.objects.all().delete()  # if it ran again, the sync would record the payment again
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.PROCESSED
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.processed_at is not None
    assert not Payment.objects.exists()


@pytest.mark.usefixtures("localstripe")
def test_a_handler_that_fails_after_writing_is_retried_without_counting_twice(
    newsroom: Newsroom, monkeypatch: Any
) -> None:
    """No transaction is held across a handler (it would hold the database's write lock for a round-trip
    to Stripe): what a sync wrote before the crash is whole, and the retry reads again and adds nothing."""
    story = stripe_scenarios.one_off(newsroom, amount=2500)
    row = stored(story.events[0])
    real = HANDLERS["payment_intent.succeeded"]

    def sync_then_crash(newsroom: Newsroom, event: dict[str, Any]) -> bool:
        real(newsroom, event)
        raise RuntimeError("disk full")

    monkeypatch.setitem(handlers.HANDLERS, "payment_intent.succeeded", sync_then_crash)
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.FAILED
    row.refresh_from_db()
    assert row.error == "RuntimeError: disk full"
    assert Payment.objects.get().amount == 2500
    assert Contribution.objects.get().status == Contribution.Status.SUCCEEDED

    monkeypatch.setitem(handlers.HANDLERS, "payment_intent.succeeded", real)
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.PROCESSED
    row.refresh_from_db()
    assert (row.attempts, row.error) == (2, "")
    assert Payment.objects.get().amount == 2500


@pytest.mark.usefixtures("localstripe")
def test_failed_invoice_of_ours_is_processed_even_without_a_payment(newsroom: Newsroom) -> None:
    story = stripe_scenarios.monthly(newsroom, amount=300, currency="EUR")
    invoice = story.events[1]["data"]["object"]
    failed = {**story.events[1], "id": "evt_failed_copy", "type": "invoice.payment_failed"}
    # The invoice is paid at Stripe now: the failure event marks its payment as a recovery.
    row = stored(failed)
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.PROCESSED
    assert Payment.objects.get(provider_invoice_id=invoice["id"]).recovered is True

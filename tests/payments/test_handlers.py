"""Processing a stored event: the handler table, outcomes recorded on the row, safe to run twice."""

from __future__ import annotations

from typing import Any

import pytest

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import handlers
from readerfund.payments.handlers import HANDLERS, webhook_event_process
from readerfund.payments.models import Contribution, Payment, WebhookEvent
from tests.payments import stripe_scenarios


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    return Newsroom.objects.create(slug="north-desk", name="North Desk")


def stored(event: dict[str, Any]) -> WebhookEvent:
    return WebhookEvent.objects.create(event_id=event["id"], type=event["type"], payload=event)


def test_every_event_type_the_ledger_needs_has_a_handler() -> None:
    assert set(HANDLERS) == {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "charge.refunded",
    }


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
def test_a_failing_handler_leaves_no_half_written_ledger(newsroom: Newsroom, monkeypatch: Any) -> None:
    story = stripe_scenarios.one_off(newsroom, amount=2500)
    row = stored(story.events[0])
    real = HANDLERS["payment_intent.succeeded"]

    def sync_then_crash(obj: dict[str, Any]) -> bool:
        real(obj)
        assert Payment.objects.exists()
        raise RuntimeError("disk full")

    monkeypatch.setitem(handlers.HANDLERS, "payment_intent.succeeded", sync_then_crash)
    assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.FAILED
    row.refresh_from_db()
    assert row.error == "RuntimeError: disk full"
    assert not Payment.objects.exists()
    assert Contribution.objects.get().status == Contribution.Status.PENDING

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

"""The ledger's combined reads give what separate reads give, in fewer calls to Stripe."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from readerfund.payments import gateway
from readerfund.payments.accounts import ProviderAccount
from readerfund.payments.gateway import client
from tests.checkout import stripe_browser as browser


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


def _subscription() -> gateway.GatewaySubscription:
    customer = gateway.customer_create(metadata={"supporter": "S-READS"}, idempotency_key=_key())
    card = {"number": browser.GOOD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = str(browser.client().v1.payment_methods.create(params={"type": "card", "card": card}).id)
    gateway.payment_method_attach(payment_method_id=method, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(customer_id=customer, payment_method_id=method, idempotency_key=_key())
    plan = gateway.plan_create(
        amount=700, currency="EUR", interval="month", product_name="Support", metadata={}, idempotency_key=_key()
    )
    return gateway.subscription_create(customer_id=customer, plan_id=plan.id, metadata={}, idempotency_key=_key())


def test_a_subscription_read_carries_its_latest_invoice(localstripe: str) -> None:
    created = _subscription()
    read = gateway.subscription_get(subscription_id=created.id)
    assert read.invoice is not None
    assert read.invoice == gateway.invoice_get(invoice_id=created.latest_invoice)
    assert (read.invoice.paid, read.invoice.amount_paid, read.invoice.subscription) == (True, 700, created.id)


def test_an_invoice_read_with_its_subscription_matches_separate_reads(localstripe: str) -> None:
    created = _subscription()
    invoice, subscription = gateway.invoice_with_subscription_get(invoice_id=created.latest_invoice)
    assert invoice == gateway.invoice_get(invoice_id=created.latest_invoice)
    alone = gateway.subscription_get(subscription_id=created.id)
    assert subscription is not None
    assert (subscription.id, subscription.status, subscription.latest_invoice, subscription.metadata) == (
        alone.id,
        alone.status,
        alone.latest_invoice,
        alone.metadata,
    )


def test_a_canceled_subscription_still_comes_with_its_invoice(localstripe: str) -> None:
    created = _subscription()
    gateway.subscription_cancel(subscription_id=created.id, idempotency_key=_key())
    invoice, subscription = gateway.invoice_with_subscription_get(invoice_id=created.latest_invoice)
    assert invoice.subscription == created.id
    assert subscription is not None and subscription.status == "canceled"


def test_an_unknown_invoice_is_not_found(localstripe: str) -> None:
    with pytest.raises(gateway.GatewayNotFound):
        gateway.invoice_with_subscription_get(invoice_id="in_doesnotexist")


# --- the pages a reconcile reads (payments/reconcile/) --------------------------------------------------


def _intent(metadata: dict[str, str]) -> gateway.GatewayIntent:
    customer = gateway.customer_create(metadata={}, idempotency_key=_key())
    card = {"number": browser.GOOD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = str(browser.client().v1.payment_methods.create(params={"type": "card", "card": card}).id)
    gateway.payment_method_attach(payment_method_id=method, customer_id=customer, idempotency_key=_key())
    return gateway.payment_intent_create(
        amount=500,
        currency="USD",
        payment_method_id=method,
        metadata=metadata,
        idempotency_key=_key(),
        customer_id=customer,
    )


def _every_page(page_of: Any, created_since: int) -> list[Any]:
    items, after = page_of(created_since=created_since)
    while after:
        more, after = page_of(created_since=created_since, starting_after=after)
        items += more
    return items


def test_pages_of_intents_since_a_time_hold_what_was_made_since(localstripe: str) -> None:
    # localstripe answers 400 to created[gte] on PaymentIntents: this runs the emulator's path, which
    # lists everything and filters by `created` in the gateway (client.read_page).
    made = _intent({"checkout": _key()})
    since = [intent.id for intent in _every_page(gateway.payment_intents_page, made.created)]
    assert made.id in since
    listed = next(intent for intent in _every_page(gateway.payment_intents_page, 0) if intent.id == made.id)
    assert (listed.status, listed.metadata, listed.charged_at > 0) == ("succeeded", made.metadata, True)
    assert made.id not in [intent.id for intent in _every_page(gateway.payment_intents_page, made.created + 1)]


def test_pages_of_subscriptions_and_refunds_carry_what_a_reconcile_needs(localstripe: str) -> None:
    subscription = _subscription()
    listed = next(item for item in _every_page(gateway.subscriptions_page, 0) if item.id == subscription.id)
    assert listed.invoice is not None and listed.invoice.paid  # the latest invoice, expanded
    assert listed.payment_intent is not None and listed.payment_intent.status == "succeeded"
    intent = _intent({})
    refund = gateway.refund_create(payment_intent_id=intent.id, amount=200, idempotency_key=_key())
    refunds = {item.id: item for item in _every_page(gateway.refunds_page, intent.created)}
    assert (refunds[refund.id].charge, refunds[refund.id].amount) == (intent.latest_charge, 200)


@pytest.mark.parametrize("emulated", [False, True])
def test_a_page_since_a_time_is_filtered_by_stripe_or_else_by_us(
    monkeypatch: pytest.MonkeyPatch, emulated: bool
) -> None:
    asked: list[dict[str, Any]] = []
    answer = {"data": [{"id": "pi_new", "created": 300}, {"id": "pi_old", "created": 100}], "has_more": True}

    def read(path: str, **params: Any) -> dict[str, Any]:
        asked.append({"path": path, **params})
        return answer

    monkeypatch.setattr(client, "read", read)
    account = ProviderAccount(
        label="pages",
        secret_key="sk_test_pages",
        publishable_key="",
        webhook_secret="",
        api_base="http://127.0.0.1:1" if emulated else "",
        emulator=emulated,
    )
    with gateway.account_use(account):
        items, after = client.read_page("/v1/payment_intents", created_since=200, starting_after="pi_before")
    assert asked[0]["limit"] == 100 and asked[0]["starting_after"] == "pi_before"
    if emulated:
        assert "created" not in asked[0]  # localstripe refuses it
        assert [item["id"] for item in items] == ["pi_new"]
    else:
        assert asked[0]["created"] == {"gte": 200}
        assert [item["id"] for item in items] == ["pi_new", "pi_old"]  # what Stripe answers is what it filtered
    assert after == "pi_old"  # the next page follows the page as answered, filtered or not

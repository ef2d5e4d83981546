"""The ledger's combined reads give what separate reads give, in fewer calls to Stripe."""

from __future__ import annotations

import secrets

import pytest

from readerfund.payments import gateway
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

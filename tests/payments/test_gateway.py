"""The gateway against localstripe: our dataclasses out, our errors, settings read at call time."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import pytest
from django.db import transaction

from readerfund.demo.processes import free_port
from readerfund.payments import gateway
from readerfund.payments.accounts import ProviderAccount
from tests.checkout import stripe_browser as browser
from tests.payments.stand_in import recording_stripe, stand_in_account


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


def _card(number: str = browser.GOOD) -> str:
    card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    return str(browser.client().v1.payment_methods.create(params={"type": "card", "card": card}).id)


def _intent(number: str = browser.GOOD, **overrides: Any) -> gateway.GatewayIntent:
    checkout = secrets.token_hex(8)
    params: dict[str, Any] = {
        "amount": 1234,
        "currency": "eur",
        "payment_method_id": _card(number),
        "metadata": {"checkout": checkout, "contribution": "1"},
        "idempotency_key": _key(),
        "statement_descriptor": "READER SUPPORT",
    }
    params.update(overrides)
    return gateway.payment_intent_create(**params)


def test_payment_intent_in_our_types(localstripe: str) -> None:
    intent = _intent()
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 1234, "EUR")
    assert intent.latest_charge.startswith("ch_") and intent.client_secret.startswith(intent.id)
    assert intent.last_error is None
    assert gateway.payment_intent_get(intent_id=intent.id) == intent
    assert gateway.payment_intent_find(metadata_key="checkout", metadata_value=intent.metadata["checkout"]) == intent
    assert gateway.payment_intent_find(metadata_key="checkout", metadata_value="nothing-like-it") is None


def test_card_failing_when_charged_comes_back_as_a_failed_intent(localstripe: str) -> None:
    intent = _intent(browser.FAILS_WHEN_CHARGED)
    assert intent.status == "requires_payment_method"
    assert intent.last_error is not None and intent.last_error.code == "card_declined"


def test_three_d_secure_card_requires_action(localstripe: str) -> None:
    assert _intent(browser.THREE_D_SECURE).status == "requires_action"


def test_payment_method_reports_its_country(localstripe: str) -> None:
    method = gateway.payment_method_get(payment_method_id=_card())
    assert (method.type, method.country, method.last4, method.customer) == ("card", "FR", "4242", "")


def test_declined_at_attach_raises_payment_declined(localstripe: str) -> None:
    customer = gateway.customer_create(metadata={"supporter": "S-TEST"}, idempotency_key=_key())
    with pytest.raises(gateway.PaymentDeclined) as declined:
        gateway.payment_method_attach(
            payment_method_id=_card(browser.DECLINED_AT_ATTACH), customer_id=customer, idempotency_key=_key()
        )
    assert declined.value.code == "card_declined" and declined.value.kind == "card"


def test_subscription_invoice_refund_round_trip(localstripe: str) -> None:
    customer = gateway.customer_create(metadata={"supporter": "S-TEST"}, idempotency_key=_key())
    method = _card()
    gateway.payment_method_attach(payment_method_id=method, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(customer_id=customer, payment_method_id=method, idempotency_key=_key())
    plan = gateway.plan_create(
        amount=500,
        currency="GBP",
        interval="month",
        product_name="Support",
        metadata={},
        idempotency_key=_key(),
        statement_descriptor="READER SUPPORT",
    )
    assert (plan.amount, plan.currency, plan.interval) == (500, "GBP", "month")
    subscription = gateway.subscription_create(
        customer_id=customer, plan_id=plan.id, metadata={"checkout": "sub-test"}, idempotency_key=_key()
    )
    assert (subscription.status, subscription.amount, subscription.currency, subscription.interval) == (
        "active",
        500,
        "GBP",
        "month",
    )
    assert subscription.payment_intent is not None and subscription.payment_intent.status == "succeeded"
    found = gateway.subscription_find(customer_id=customer, metadata_key="checkout", metadata_value="sub-test")
    assert found is not None and found.id == subscription.id
    invoice = gateway.invoice_get(invoice_id=subscription.latest_invoice)
    assert (invoice.paid, invoice.subscription, invoice.amount_paid) == (True, subscription.id, 500)
    assert gateway.subscription_invoice_ids(subscription_id=subscription.id) == [invoice.id]

    refund = gateway.refund_create(payment_intent_id=invoice.payment_intent, amount=200, idempotency_key=_key())
    charge = gateway.charge_get(charge_id=gateway.payment_intent_get(intent_id=invoice.payment_intent).latest_charge)
    assert (charge.amount, charge.amount_refunded) == (500, 200)
    assert [r.id for r in charge.refunds] == [refund.id]

    canceled = gateway.subscription_cancel(subscription_id=subscription.id, idempotency_key=_key())
    assert canceled.status == "canceled"


def test_unknown_object_is_not_found(localstripe: str) -> None:
    with pytest.raises(gateway.GatewayNotFound):
        gateway.payment_intent_get(intent_id="pi_doesnotexist")


def test_the_selected_account_is_the_one_called(localstripe: str) -> None:
    nowhere = ProviderAccount(
        label="elsewhere",
        secret_key="sk_test_x",
        publishable_key="",
        webhook_secret="",
        api_base=f"http://127.0.0.1:{free_port()}",
    )
    with gateway.account_use(nowhere), pytest.raises(gateway.GatewayUnavailable):
        gateway.payment_method_get(payment_method_id="pm_x")
    # Back outside the block, the test's own account answers again.
    with pytest.raises(gateway.GatewayNotFound):
        gateway.payment_method_get(payment_method_id="pm_x")


def test_a_call_with_no_account_selected_is_refused() -> None:
    token = gateway.client._account.set(None)
    try:
        with pytest.raises(gateway.NoProviderAccount):
            gateway.payment_method_get(payment_method_id="pm_x")
    finally:
        gateway.client._account.reset(token)


@pytest.mark.django_db
def test_a_provider_call_inside_a_transaction_is_refused(localstripe: str) -> None:
    """The rule the whole suite runs under: every provider call checks that no transaction is open (the
    test's own wrapping transaction aside), so none can hold SQLite's write lock across a round-trip."""
    with transaction.atomic(), pytest.raises(gateway.ProviderCallInTransaction):
        gateway.payment_intent_get(intent_id="pi_doesnotexist")
    with pytest.raises(gateway.GatewayNotFound):
        gateway.payment_intent_get(intent_id="pi_doesnotexist")


def test_every_write_needs_an_idempotency_key(localstripe: str) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.customer_create(metadata={}, idempotency_key="")


def test_event_verify_checks_stripes_signature(settings: Any) -> None:
    payload = json.dumps(
        {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}
    ).encode()
    stamp = int(time.time())
    digest = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    secret = settings.STRIPE_WEBHOOK_SECRET
    event = gateway.event_verify(payload=payload, signature=f"t={stamp},v1={digest.hexdigest()}", secret=secret)
    assert event["type"] == "payment_intent.succeeded"
    with pytest.raises(gateway.EventSignatureInvalid):
        gateway.event_verify(payload=payload + b" ", signature=f"t={stamp},v1={digest.hexdigest()}", secret=secret)
    with pytest.raises(gateway.EventSignatureInvalid):
        gateway.event_verify(payload=payload, signature=f"t={stamp},v1={digest.hexdigest()}", secret="")


def test_an_invoice_retried_by_stripe_counts_as_failed_without_asking_again() -> None:
    invoice = gateway.GatewayInvoice(
        id="in_1", status="paid", paid=True, subscription="sub_1", customer="", amount_due=500, amount_paid=500,
        currency="USD", payment_intent="pi_1", charge="ch_1", attempt_count=2, created=1_700_000_000,
    )  # fmt: skip
    assert gateway.invoice_failed_attempt_seen(invoice=invoice) is True
    assert gateway.invoice_failed_attempt_seen(invoice=dataclasses.replace(invoice, attempt_count=1)) is False


def test_payment_intent_reads_carry_the_charge_time(localstripe: str) -> None:
    intent = _intent()
    charge = gateway.charge_get(charge_id=intent.latest_charge)
    assert intent.charged_at == charge.created > 0
    assert gateway.payment_intent_get(intent_id=intent.id).charged_at == charge.created


@pytest.mark.parametrize(("emulator", "sent"), [(False, True), (True, False)])
def test_the_first_invoice_is_charged_off_session_on_stripe_not_on_the_emulator(emulator: bool, sent: bool) -> None:
    """One 3-D Secure prompt for a new plan: the SetupIntent just authenticated the card for later use, so
    on Stripe the subscription's first charge goes off-session and Stripe claims that authentication.
    localstripe refuses the parameter; this runs the real-Stripe path against a recording stand-in."""
    from urllib.parse import parse_qs

    server, bodies = recording_stripe({"id": "sub_1", "object": "subscription", "status": "active", "metadata": {}})
    try:
        with gateway.account_use(stand_in_account(server, emulator=emulator)):
            made = gateway.subscription_create(
                customer_id="cus_1", plan_id="plan_1", metadata={}, idempotency_key="k:sub"
            )
    finally:
        server.shutdown()
    assert made.id == "sub_1"
    assert ("true" in parse_qs(bodies[0]).get("off_session", [])) is sent


@pytest.mark.parametrize("emulator", [False, True])
def test_a_one_off_carries_the_statement_suffix_on_stripe_not_on_the_emulator(emulator: bool) -> None:
    """Stripe takes statement_descriptor_suffix on a card PaymentIntent; localstripe rejects the field. The
    branch is the account's explicit `emulator` flag (STRIPE_EMULATOR); this runs both against the stand-in."""
    from urllib.parse import parse_qs

    answer = {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 500, "currency": "usd"}
    server, bodies = recording_stripe(answer)
    try:
        with gateway.account_use(stand_in_account(server, emulator=emulator)):
            gateway.payment_intent_create(
                amount=500,
                currency="USD",
                payment_method_id="pm_1",
                metadata={},
                idempotency_key="k:intent",
                statement_descriptor="EXILE GAZETTE",
            )
    finally:
        server.shutdown()
    sent = parse_qs(bodies[0]).get("statement_descriptor_suffix")
    assert sent == (None if emulator else ["EXILE GAZETTE"])

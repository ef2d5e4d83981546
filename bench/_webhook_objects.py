"""Real objects at a bench's localstripe, the contributions that own them, and the events Stripe would send.

Made with the Stripe SDK directly (bench code, not readerfund's): the create responses are the
objects as Stripe holds them, so each event's data.object is real-shaped and refers to an object
that exists. One customer and card per kind are reused so that each payment costs one API call.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import stripe

GOOD_CARD = "4242424242424242"
CHARGE_FAILS_CARD = "4000000000000341"
CURRENCIES = ("USD", "EUR", "GBP")


@dataclass
class Expected:
    """What the ledger must hold once every event is processed."""

    payments: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # intent id -> amount, currency, refunded
    statuses: Counter[str] = field(default_factory=Counter)  # contribution status -> count


@dataclass
class World:
    one_offs: list[dict[str, Any]] = field(default_factory=list)  # PaymentIntents, with our amount
    failed: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    expected: Expected = field(default_factory=Expected)
    api_calls: int = 0
    seconds: float = 0.0


def _plain(obj: Any) -> dict[str, Any]:
    return json.loads(json.dumps(obj.to_dict(), default=str))


def _event(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        "data": {"object": obj},
    }


class Maker:
    def __init__(self, client: stripe.StripeClient, world: World) -> None:
        self.client = client
        self.world = world

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.world.api_calls += 1
        return fn(*args, **kwargs)

    def customer_with_card(self, number: str) -> tuple[str, str]:
        v1 = self.client.v1
        customer = self.call(v1.customers.create, params={"metadata": {"bench": "webhooks"}})
        card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
        method = self.call(v1.payment_methods.create, params={"type": "card", "card": card})
        self.call(v1.payment_methods.attach, method.id, params={"customer": customer.id})
        self.call(v1.customers.update, customer.id, params={"invoice_settings": {"default_payment_method": method.id}})
        return customer.id, method.id

    def intent(self, customer_id: str, method_id: str, amount: int, currency: str) -> dict[str, Any]:
        params: Any = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": method_id,
            "payment_method_types": ["card"],
            "confirm": True,
        }
        return _plain(self.call(self.client.v1.payment_intents.create, params=params))

    def declined_intent(self, customer_id: str, method_id: str, amount: int, currency: str) -> dict[str, Any]:
        # A declined confirm raises without the intent's id (localstripe): create, then confirm.
        params: Any = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": method_id,
            "payment_method_types": ["card"],
        }
        intent = self.call(self.client.v1.payment_intents.create, params=params)
        with contextlib.suppress(stripe.CardError):
            self.call(self.client.v1.payment_intents.confirm, intent.id)
        return _plain(self.call(self.client.v1.payment_intents.retrieve, intent.id))


def world_make(client: stripe.StripeClient, *, objects: int) -> World:
    """About `objects` real payments and subscriptions: 60% one-off payments (a sixth of them partly
    refunded), 4% declines, 20% monthly subscriptions (a fifth canceled, a fifth updated) and 10%
    paid renewals of them, 6% refunds. Each makes the events Stripe would send for it."""
    world = World()
    maker = Maker(client, world)
    started = time.monotonic()
    n_one_off = objects * 60 // 100
    n_failed = max(1, objects * 4 // 100)
    n_subscriptions = objects * 20 // 100
    n_renewals = objects * 10 // 100
    n_refunds = objects * 6 // 100
    n_cancel = n_subscriptions // 5
    n_updated = n_subscriptions // 5
    expected = world.expected

    customer, method = maker.customer_with_card(GOOD_CARD)
    for index in range(n_one_off):
        currency = CURRENCIES[index % len(CURRENCIES)]
        intent = maker.intent(customer, method, 200 + (index % 50) * 10, currency)
        world.one_offs.append(intent)
        world.events.append(_event(intent, "payment_intent.succeeded"))
        expected.payments[intent["id"]] = (intent["amount"], currency, 0)
    declined_customer, declined_method = maker.customer_with_card(CHARGE_FAILS_CARD)
    for index in range(n_failed):
        intent = maker.declined_intent(declined_customer, declined_method, 500 + index, "USD")
        world.failed.append(intent)
        world.events.append(_event(intent, "payment_intent.payment_failed"))
    expected.statuses["succeeded"] += n_one_off
    expected.statuses["failed"] += n_failed

    # Refunds: part of the first payments, through charge.refunded.
    for intent in world.one_offs[:n_refunds]:
        refund_amount = intent["amount"] // 2
        maker.call(client.v1.refunds.create, params={"payment_intent": intent["id"], "amount": refund_amount})
        charge = _plain(maker.call(client.v1.charges.retrieve, intent["latest_charge"]["id"]))
        world.events.append(_event(charge, "charge.refunded"))
        amount, currency, _ = expected.payments[intent["id"]]
        expected.payments[intent["id"]] = (amount, currency, refund_amount)

    _subscriptions(maker, n_subscriptions=n_subscriptions, n_renewals=n_renewals, n_cancel=n_cancel)
    for subscription in world.subscriptions[n_cancel : n_cancel + n_updated]:
        updated = maker.call(client.v1.subscriptions.update, subscription["id"], params={"metadata": {"note": "x"}})
        world.events.append(_event(_plain(updated), "customer.subscription.updated"))
    world.seconds = time.monotonic() - started
    return world


def events_reissued(events: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` distinct events: the real ones, then the same (type, object) pairs under new event ids,
    as Stripe sends several events about one object (updates, retries, refunds). localstripe slows
    down with every object it holds (it scans them on each read), so the objects stay few."""
    reissued = list(events)
    index = 0
    while len(reissued) < count:
        original = events[index % len(events)]
        reissued.append({**original, "id": "evt_" + secrets.token_hex(12), "created": int(time.time())})
        index += 1
    return reissued


def _subscriptions(maker: Maker, *, n_subscriptions: int, n_renewals: int, n_cancel: int) -> None:
    client, world = maker.client, maker.world
    expected = world.expected
    customer, _ = maker.customer_with_card(GOOD_CARD)
    product = maker.call(client.v1.products.create, params={"name": "Support"})
    plans = {}
    for currency in CURRENCIES:
        plan = maker.call(
            client.v1.plans.create,
            params={"amount": 500, "currency": currency.lower(), "interval": "month", "product": product.id},
        )
        plans[currency] = plan.id
    for index in range(n_subscriptions):
        currency = CURRENCIES[index % len(CURRENCIES)]
        subscription = _plain(
            maker.call(
                client.v1.subscriptions.create,
                params={"customer": customer, "items": [{"plan": plans[currency]}]},
            )
        )
        subscription["bench_currency"] = currency
        world.subscriptions.append(subscription)
        world.events.append(_event(subscription, "customer.subscription.created"))
        _paid_invoice(maker, subscription["latest_invoice"], currency)
    for index in range(n_renewals):
        subscription = world.subscriptions[n_cancel + index % (n_subscriptions - n_cancel)]
        invoice = maker.call(
            client.v1.invoices.create, params={"customer": customer, "subscription": subscription["id"]}
        )
        maker.call(client.v1.invoices.pay, invoice.id)
        _paid_invoice(maker, invoice.id, subscription["bench_currency"])
    for subscription in world.subscriptions[:n_cancel]:
        deleted = maker.call(client.v1.subscriptions.cancel, subscription["id"])
        world.events.append(_event(_plain(deleted), "customer.subscription.deleted"))
    expected.statuses["canceled"] += n_cancel
    expected.statuses["active"] += n_subscriptions - n_cancel


def _paid_invoice(maker: Maker, invoice_id: str, currency: str) -> None:
    invoice = _plain(maker.call(maker.client.v1.invoices.retrieve, invoice_id))
    intent_id = invoice["payment_intent"]
    intent_id = intent_id["id"] if isinstance(intent_id, dict) else intent_id
    maker.world.events.append(_event(invoice, "invoice.payment_succeeded"))
    maker.world.events.append(
        _event(_plain(maker.client.v1.payment_intents.retrieve(intent_id)), "payment_intent.succeeded")
    )
    maker.world.expected.payments[intent_id] = (invoice["amount_paid"], currency, 0)

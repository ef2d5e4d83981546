"""Real money stories at localstripe, made through the gateway as the checkout makes them.

Each scenario creates a contribution of ours and its Stripe objects, stores the provider ids on the
contribution as the checkout does, but does not touch the ledger: the events each scenario returns
(built from the objects as fetched from localstripe, in the order Stripe would send them) are what
must bring the ledger up to date.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.ledger import provider_metadata
from readerfund.payments.models import (
    Contribution,
    ConversionCount,
    Frequency,
    Payment,
    Refund,
    Supporter,
    WebhookEvent,
)
from tests.payments.events import event_build

GOOD_CARD = "4242424242424242"
CHARGE_FAILS_CARD = "4000000000000341"  # attaches, then fails when charged


@dataclass
class Story:
    contribution: Contribution
    events: list[dict[str, Any]] = field(default_factory=list)
    customer_id: str = ""
    provider_id: str = ""  # the lost answers' PaymentIntent or Subscription, which the contribution lacks


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=gateway.API_VERSION,
        base_addresses={"api": settings.STRIPE_API_BASE},
    )


def fetched(kind: str, object_id: str) -> dict[str, Any]:
    """The object as Stripe holds it now, as plain JSON (what an event's data.object carries)."""
    service = getattr(stripe_client().v1, kind)
    return json.loads(json.dumps(service.retrieve(object_id).to_dict(), default=str))


def _key(contribution: Contribution, step: str) -> str:
    return f"test-{contribution.id}-{step}-{secrets.token_hex(4)}"


def contribution_make(
    newsroom: Newsroom, *, frequency: str = Frequency.ONE_OFF, amount: int = 500, currency: str = "USD"
) -> Contribution:
    supporter = Supporter.objects.create(newsroom=newsroom, email=f"reader-{secrets.token_hex(4)}@example.org")
    return Contribution.objects.create(
        newsroom=newsroom,
        supporter=supporter,
        frequency=frequency,
        amount=amount,
        currency=currency,
        request_key=secrets.token_hex(16),
    )


def _metadata(contribution: Contribution) -> dict[str, str]:
    return {"contribution": str(contribution.id), "newsroom": contribution.newsroom.slug}


def _customer_with_card(contribution: Contribution, number: str) -> tuple[str, str]:
    customer_id = gateway.customer_create(metadata=_metadata(contribution), idempotency_key=_key(contribution, "cus"))
    method_id = _card(contribution, customer_id, number)
    return customer_id, method_id


def _card(contribution: Contribution, customer_id: str, number: str) -> str:
    # Stripe.js makes PaymentMethods in the reader's browser; the tests make them with the SDK.
    card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = stripe_client().v1.payment_methods.create(params={"type": "card", "card": card})
    gateway.payment_method_attach(
        payment_method_id=method.id, customer_id=customer_id, idempotency_key=_key(contribution, "attach")
    )
    return str(method.id)


def one_off(newsroom: Newsroom, *, amount: int = 500, card: str = GOOD_CARD) -> Story:
    contribution = contribution_make(newsroom, amount=amount)
    customer_id, method_id = _customer_with_card(contribution, card)
    intent = gateway.payment_intent_create(
        amount=amount,
        currency=contribution.currency,
        payment_method_id=method_id,
        metadata=_metadata(contribution),
        idempotency_key=_key(contribution, "intent"),
        customer_id=customer_id,
    )
    Contribution.objects.filter(id=contribution.id).update(provider_payment_intent_id=intent.id)
    kind = "payment_intent.succeeded" if intent.status == "succeeded" else "payment_intent.payment_failed"
    story = Story(contribution=contribution, customer_id=customer_id)
    story.events.append(event_build(fetched("payment_intents", intent.id), kind))
    return story


def refunded(newsroom: Newsroom, *, amount: int = 1000, refund: int = 400) -> Story:
    story = one_off(newsroom, amount=amount)
    intent_id = story.events[0]["data"]["object"]["id"]
    gateway.refund_create(
        payment_intent_id=intent_id, amount=refund, idempotency_key=_key(story.contribution, "refund")
    )
    charge_id = gateway.payment_intent_get(intent_id=intent_id).latest_charge
    story.events.append(event_build(fetched("charges", charge_id), "charge.refunded"))
    return story


def _plan(contribution: Contribution) -> str:
    plan = gateway.plan_create(
        amount=contribution.amount,
        currency=contribution.currency,
        interval="month",
        product_name="Support",
        metadata={"newsroom": contribution.newsroom.slug},
        idempotency_key=_key(contribution, "plan"),
    )
    return plan.id


def _invoice_events(invoice_id: str, kind: str) -> list[dict[str, Any]]:
    invoice = fetched("invoices", invoice_id)
    events = [event_build(invoice, kind)]
    intent_id = invoice.get("payment_intent")
    if isinstance(intent_id, str) and intent_id:
        intent_kind = "payment_intent.succeeded" if kind.endswith("succeeded") else "payment_intent.payment_failed"
        events.append(event_build(fetched("payment_intents", intent_id), intent_kind))
    return events


def monthly(newsroom: Newsroom, *, amount: int = 300, currency: str = "EUR") -> Story:
    contribution = contribution_make(newsroom, frequency=Frequency.MONTHLY, amount=amount, currency=currency)
    customer_id, method_id = _customer_with_card(contribution, GOOD_CARD)
    gateway.customer_default_payment_method_set(
        customer_id=customer_id, payment_method_id=method_id, idempotency_key=_key(contribution, "default")
    )
    subscription = gateway.subscription_create(
        customer_id=customer_id,
        plan_id=_plan(contribution),
        metadata=_metadata(contribution),
        idempotency_key=_key(contribution, "sub"),
    )
    Contribution.objects.filter(id=contribution.id).update(provider_subscription_id=subscription.id)
    story = Story(contribution=contribution, customer_id=customer_id)
    story.events.append(event_build(fetched("subscriptions", subscription.id), "customer.subscription.created"))
    story.events.extend(_invoice_events(subscription.latest_invoice, "invoice.payment_succeeded"))
    story.events.append(event_build(fetched("subscriptions", subscription.id), "customer.subscription.updated"))
    return story


def renewal_recovered(newsroom: Newsroom) -> Story:
    """A monthly supporter whose renewal fails on an expired card, then succeeds with a new one."""
    story = monthly(newsroom, amount=700, currency="USD")
    contribution = story.contribution
    subscription_id = story.events[0]["data"]["object"]["id"]
    failing = _card(contribution, story.customer_id, CHARGE_FAILS_CARD)
    gateway.customer_default_payment_method_set(
        customer_id=story.customer_id, payment_method_id=failing, idempotency_key=_key(contribution, "failing")
    )
    invoice = gateway.invoice_create(
        customer_id=story.customer_id, subscription_id=subscription_id, idempotency_key=_key(contribution, "renew")
    )
    with contextlib.suppress(gateway.PaymentDeclined):
        gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=_key(contribution, "pay"))
    story.events.extend(_invoice_events(invoice.id, "invoice.payment_failed"))
    story.events.append(event_build(fetched("subscriptions", subscription_id), "customer.subscription.updated"))
    working = _card(contribution, story.customer_id, GOOD_CARD)
    gateway.customer_default_payment_method_set(
        customer_id=story.customer_id, payment_method_id=working, idempotency_key=_key(contribution, "working")
    )
    gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=_key(contribution, "retry"))
    story.events.extend(_invoice_events(invoice.id, "invoice.payment_succeeded"))
    story.events.append(event_build(fetched("subscriptions", subscription_id), "customer.subscription.updated"))
    return story


def renewal_paid(story: Story) -> list[dict[str, Any]]:
    """Bill the next month of a monthly story now (localstripe has no clock) with the card on file."""
    contribution = story.contribution
    subscription_id = story.events[0]["data"]["object"]["id"]
    invoice = gateway.invoice_create(
        customer_id=story.customer_id, subscription_id=subscription_id, idempotency_key=_key(contribution, "renew")
    )
    gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=_key(contribution, "pay"))
    events = _invoice_events(invoice.id, "invoice.payment_succeeded")
    story.events.extend(events)
    return events


def canceled(newsroom: Newsroom) -> Story:
    story = monthly(newsroom, amount=500, currency="GBP")
    subscription_id = story.events[0]["data"]["object"]["id"]
    gateway.subscription_cancel(subscription_id=subscription_id, idempotency_key=_key(story.contribution, "cancel"))
    story.events.append(event_build(fetched("subscriptions", subscription_id), "customer.subscription.deleted"))
    return story


# --- lost answers: the create reached Stripe, its answer never reached us ------------------------------


def _answer_lost(contribution: Contribution) -> None:
    """As the checkout leaves it when the request dies after Stripe made the object: the marker that a
    create was attempted is committed, the object's id was never stored."""
    Contribution.objects.filter(id=contribution.id).update(provider_attempted_at=timezone.now())


def lost_one_off(newsroom: Newsroom, *, amount: int = 500, currency: str = "USD") -> Story:
    """A one-off paid at Stripe with the checkout's metadata (its request key) whose id we never stored."""
    contribution = contribution_make(newsroom, amount=amount, currency=currency)
    customer_id, method_id = _customer_with_card(contribution, GOOD_CARD)
    intent = gateway.payment_intent_create(
        amount=amount,
        currency=currency,
        payment_method_id=method_id,
        metadata=provider_metadata(contribution),
        idempotency_key=_key(contribution, "intent"),
        customer_id=customer_id,
    )
    _answer_lost(contribution)
    return Story(contribution=contribution, customer_id=customer_id, provider_id=intent.id)


def lost_monthly(newsroom: Newsroom, *, amount: int = 800, currency: str = "EUR") -> Story:
    """A monthly plan started at Stripe with the checkout's metadata whose subscription id we never stored
    (the checkout had stored its own Customer and Plan before the create)."""
    contribution = contribution_make(newsroom, frequency=Frequency.MONTHLY, amount=amount, currency=currency)
    customer_id, method_id = _customer_with_card(contribution, GOOD_CARD)
    gateway.customer_default_payment_method_set(
        customer_id=customer_id, payment_method_id=method_id, idempotency_key=_key(contribution, "default")
    )
    plan_id = _plan(contribution)
    Contribution.objects.filter(id=contribution.id).update(provider_customer_id=customer_id, provider_plan_id=plan_id)
    subscription = gateway.subscription_create(
        customer_id=customer_id,
        plan_id=plan_id,
        metadata=provider_metadata(contribution),
        idempotency_key=_key(contribution, "sub"),
    )
    _answer_lost(contribution)
    return Story(contribution=contribution, customer_id=customer_id, provider_id=subscription.id)


def stranger_payment(*, amount: int = 500, metadata: dict[str, str]) -> str:
    """A PaymentIntent on the account that is not ours to repair (another deployment's, one made by hand)."""
    client = stripe_client()
    customer = client.v1.customers.create(params={"metadata": {}})
    card = {"number": GOOD_CARD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    params: Any = {
        "amount": amount,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": method.id,
        "payment_method_types": ["card"],
        "metadata": metadata,
        "confirm": True,
    }
    return str(client.v1.payment_intents.create(params=params).id)


# --- the ledger as the tests compare it ---------------------------------------------------------------


def ledger_state(newsroom: Newsroom) -> dict[str, Any]:
    """Everything the ledger knows, keyed by stable ids (not by our row ids or times)."""
    contributions = {
        c.request_key: (c.status, c.failure_reason, c.counted_at is not None)
        for c in Contribution.objects.filter(newsroom=newsroom)
    }
    payments = {
        p.provider_payment_id: (
            p.contribution.request_key,
            p.amount,
            p.currency,
            p.status,
            p.amount_refunded,
            p.recovered,
            p.provider_invoice_id,
            p.provider_charge_id,
        )
        for p in Payment.objects.filter(newsroom=newsroom).select_related("contribution")
    }
    refunds = {
        r.provider_refund_id: (r.payment.provider_payment_id, r.amount, r.currency)
        for r in Refund.objects.filter(payment__newsroom=newsroom).select_related("payment")
    }
    conversions = sorted(ConversionCount.objects.values_list("currency", "frequency", "count", "amount"))
    return {"contributions": contributions, "payments": payments, "refunds": refunds, "conversions": conversions}


def ledger_forget(newsroom: Newsroom) -> None:
    """Back to what the checkout left: contributions with their Stripe ids, nothing else."""
    Refund.objects.filter(payment__newsroom=newsroom).delete()
    Payment.objects.filter(newsroom=newsroom).delete()
    ConversionCount.objects.all().delete()
    WebhookEvent.objects.all().delete()
    Contribution.objects.filter(newsroom=newsroom).update(
        status=Contribution.Status.PENDING, failure_reason="", counted_at=None
    )

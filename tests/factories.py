"""Shared makers for the tests: newsrooms, and contributions made the way a reader makes them.

`newsroom_make` is a bare newsroom (no campaign, the deployment's Stripe account); the seeded demo
newsroom with its live campaign is the `demo_newsroom` fixture (tests/conftest.py).

`contribution_paid` goes through the real checkout services against localstripe (fixture `localstripe`),
with the card confirmed as Stripe.js would confirm it, so every test starts from a contribution the
checkout itself made: its own Customer, its request key, its receipt if asked for.
"""

from __future__ import annotations

import secrets
from typing import Any

from readerfund.checkout import services
from readerfund.checkout.validation import checkout_request_parse
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Contribution
from tests.checkout import stripe_browser


def newsroom_make(*, slug: str = "exile-gazette", name: str = "The Exile Gazette", **fields: Any) -> Newsroom:
    """A newsroom of its own for a test: no campaign, no keys of its own (the deployment's account)."""
    return Newsroom.objects.create(slug=slug, name=name, **fields)


def contribution_paid(
    newsroom: Any,
    *,
    frequency: str = "monthly",
    amount: int = 500,
    currency: str = "USD",
    email: str = "reader@example.org",
    name: str = "Ada",
    receipt: bool = False,
    locale: str = "en",
    card: str = stripe_browser.GOOD,
    variant_key: str = "a",
) -> Contribution:
    """A contribution started and paid through the checkout's services; asserts the checkout finished."""
    variant = newsroom.campaigns.get().variants.get(key=variant_key)
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": frequency,
        "amount": amount,
        "currency": currency,
        "email": email,
        "name": name,
        "receipt": receipt,
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": locale,
    }
    started = services.contribution_start(newsroom=newsroom, request=checkout_request_parse(data, newsroom=newsroom))
    stripe_browser.card_set_up(started.client_secret, card)
    outcome = services.contribution_pay(contribution=started.contribution)
    assert outcome.state == "done", outcome
    return Contribution.objects.get(id=outcome.contribution.id)


def subscription_state(contribution: Contribution) -> dict[str, Any]:
    """The contribution's subscription and its customer's card as localstripe holds them, read with the
    newsroom's account: what the ledger is compared with after each change."""
    with gateway.account_use(account_for(contribution.newsroom)):
        subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
        card = gateway.customer_default_payment_method_get(customer_id=contribution.provider_customer_id)
    raw = stripe_browser.client().v1.subscriptions.retrieve(contribution.provider_subscription_id).to_dict()
    return {
        "amount": subscription.amount,
        "interval": subscription.interval,
        "status": raw["status"],
        "trial_end": raw.get("trial_end") or 0,
        "cancel_at_period_end": raw["cancel_at_period_end"],
        "current_period_end": raw["current_period_end"],
        "card": card,
    }

"""What Stripe.js does in the reader's browser, done with the SDK against localstripe for service tests.

confirmCardSetup posts the card to the SetupIntent's confirm; confirmCardPayment authenticates a
PaymentIntent that requires 3-D Secure. The browser tests do the same through the real page.
"""

from __future__ import annotations

from typing import Any

import requests
import stripe
from django.conf import settings

GOOD = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
FAILS_WHEN_CHARGED = "4000000000000341"
DECLINED_AT_ATTACH = "4000000000000002"


def client(*, base_url: str = "", secret_key: str = "") -> stripe.StripeClient:
    """The SDK at the deployment's account, or at another (a newsroom with a Stripe account of its own)."""
    return stripe.StripeClient(
        secret_key or settings.STRIPE_SECRET_KEY, base_addresses={"api": base_url or settings.STRIPE_API_BASE}
    )


def card_set_up(client_secret: str, number: str = GOOD, *, base_url: str = "", secret_key: str = "") -> None:
    """confirmCardSetup: the card becomes a PaymentMethod on the SetupIntent (3-D Secure confirmed).
    `base_url`, `secret_key`: the account the SetupIntent was made at, when it is not the deployment's."""
    setup_id = client_secret.split("_secret_")[0]
    card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    params: Any = {"payment_method_data": {"type": "card", "card": card}}
    sdk = client(base_url=base_url, secret_key=secret_key)
    setup = sdk.v1.setup_intents.confirm(setup_id, params=params)
    if setup.status == "requires_action":
        sdk.v1.setup_intents.confirm(setup_id)


def iban_set_up(client_secret: str, iban: str) -> None:
    """confirmSepaDebitSetup."""
    setup_id = client_secret.split("_secret_")[0]
    params: Any = {
        "payment_method_data": {
            "type": "sepa_debit",
            "sepa_debit": {"iban": iban},
            "billing_details": {"name": "Reader", "email": "reader@example.org"},
        }
    }
    client().v1.setup_intents.confirm(setup_id, params=params)


def payment_authenticate(client_secret: str, *, success: bool = True) -> None:
    """confirmCardPayment on an intent that requires_action: the reader passes (or fails) 3-D Secure."""
    intent_id = client_secret.split("_secret_")[0]
    url = f"{settings.STRIPE_API_BASE}/v1/payment_intents/{intent_id}/_authenticate"
    response = requests.post(
        url,
        params={"success": "true" if success else "false"},
        json={"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": client_secret},
        timeout=10,
    )
    response.raise_for_status()


def counts() -> dict[str, int]:
    """How many customers, payment intents, subscriptions and charges localstripe holds."""
    c = client().v1
    return {
        "customers": len(list(c.customers.list(params={"limit": 100}).auto_paging_iter())),
        "payment_intents": len(list(c.payment_intents.list(params={"limit": 100}).auto_paging_iter())),
        "subscriptions": len(list(c.subscriptions.list(params={"limit": 100, "status": "all"}).auto_paging_iter())),
        "charges": len(list(c.charges.list(params={"limit": 100}).auto_paging_iter())),
    }


def charges_for(request_key: str) -> list[Any]:
    """Charges made for one of our contributions (its intents carry metadata checkout=<request_key>)."""
    c = client().v1
    intents = [
        i.id
        for i in c.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if (i.to_dict().get("metadata") or {}).get("checkout") == request_key
    ]
    return [ch for ch in c.charges.list(params={"limit": 100}).auto_paging_iter() if ch.payment_intent in intents]

"""What of a Stripe event we keep: everything but the person. Pure: no Django import.

A webhook event is stored as Stripe sent it (payments/webhooks.py), and Stripe's objects carry what the
reader typed into Stripe.js: a charge's and a payment method's `billing_details` (the name on the card;
the name and e-mail of a SEPA debit), a mandate's IP address and browser, a dispute's evidence. Stored in
the clear they would undo the encryption of everything else (core/privacy.py). No handler reads them:
the handlers take ids and amounts, and read each object's current state from Stripe.
"""

from __future__ import annotations

from typing import Any

# Keys whose values describe a person, wherever they appear in an object. `name` and `email` also name
# products and plans; nothing of ours reads those from an event either.
PERSONAL_KEYS = frozenset(
    {
        "address",
        "billing_address",
        "billing_details",
        "customer_address",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_shipping",
        "customer_tax_ids",
        "email",
        "evidence",
        "ip_address",
        "name",
        "owner",
        "phone",
        "receipt_email",
        "shipping",
        "user_agent",
    }
)


def event_redact(value: Any) -> Any:
    """A copy of `value` (an event, or any part of one) without the personal keys, at any depth."""
    if isinstance(value, dict):
        return {key: event_redact(item) for key, item in value.items() if key not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [event_redact(item) for item in value]
    return value

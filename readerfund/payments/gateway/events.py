"""Webhook events: signature verification."""

from __future__ import annotations

from typing import Any

import stripe

from readerfund.payments.provider import (
    GatewayError,
)
from readerfund.payments.stripe_shapes import (
    raw_dict,
)

# --- webhooks --------------------------------------------------------------------------------------


class EventSignatureInvalid(GatewayError):
    pass


def event_verify(*, payload: bytes, signature: str, secret: str) -> dict[str, Any]:
    """The event as a plain dict; EventSignatureInvalid if the signature or payload does not check out.
    `secret`: the signing secret of the newsroom whose endpoint received it (payments/accounts.py)."""
    if not secret:
        raise EventSignatureInvalid("This newsroom has no webhook signing secret configured.", kind="invalid")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise EventSignatureInvalid(f"Webhook signature or payload is invalid: {exc}", kind="invalid") from exc
    return raw_dict(event)

"""Webhook events: signature verification."""

from __future__ import annotations

import time
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
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise EventSignatureInvalid(f"Webhook signature or payload is invalid: {exc}", kind="invalid") from exc
    _not_from_the_future(signature)
    return raw_dict(event)


# Stripe's own default: how far a signature's time may be from ours, in the past and, here, the future.
TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE


def _not_from_the_future(signature: str, *, now: float | None = None) -> None:
    """The SDK refuses a timestamp older than the tolerance but not one ahead of it: signed for a time to
    come (a leaked secret, a signer's clock far off), an event stayed replayable until then."""
    stamps = [part.strip()[2:] for part in signature.split(",") if part.strip().startswith("t=")]
    now = time.time() if now is None else now
    for stamp in stamps:
        # construct_event has parsed the header and checked the signature: t= is an integer here.
        if not stamp.isdigit() or int(stamp) > now + TOLERANCE_SECONDS:
            raise EventSignatureInvalid(
                "Webhook timestamp is in the future beyond the tolerance; check the server's clock.", kind="invalid"
            )

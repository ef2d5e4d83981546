"""Build and deliver Stripe events signed exactly as Stripe signs them.

localstripe sends only some event types, once each, about a second late; the tests build every
event they need from the real objects at localstripe instead, as Stripe would send them
(`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import stripe
from django.conf import settings
from django.test import Client

API_VERSION = "2017-08-15"  # what localstripe speaks


def stripe_client(base_url: str) -> stripe.StripeClient:
    """The SDK pointed at the test's localstripe, without touching the SDK's global settings."""
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": base_url})


def event_build(obj: dict[str, Any], event_type: str, *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": API_VERSION,
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }


def signature_header(payload: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = (secret if secret is not None else settings.STRIPE_WEBHOOK_SECRET).encode()
    digest = hmac.new(key, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2, sort_keys=True).encode()


def event_post(
    client: Client,
    event: dict[str, Any] | bytes,
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    newsroom: str | None = None,
) -> Any:
    """POST an event to /webhooks/stripe/<newsroom>, signed unless `signature` is given ("" sends no header).
    `newsroom`: its slug; by default the test's only newsroom."""
    from readerfund.newsrooms.models import Newsroom

    slug = newsroom if newsroom is not None else Newsroom.objects.get().slug
    body = event if isinstance(event, bytes) else event_body(event)
    header = signature if signature is not None else signature_header(body, secret=secret, timestamp=timestamp)
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return client.post(f"/webhooks/stripe/{slug}", data=body, content_type="application/json; charset=utf-8", **extra)

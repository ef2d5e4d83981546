"""The Stripe client, its errors and the small request helpers every gateway module uses."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import stripe
from django.conf import settings

from readerfund.payments.provider import (
    GatewayError,
    GatewayUnavailable,
    error_from_payload,
)

# Pinned: Invoice.payment_intent / Invoice.subscription and Subscription.current_period_end exist in
# this version (later ones moved them), and localstripe answers in these shapes.
API_VERSION = "2024-06-20"
TIMEOUT_SECONDS = 20


def error_translate(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayUnavailable(str(exc.user_message or exc), kind="unavailable")
    payload: dict[str, Any] = {}
    error = getattr(exc, "error", None)
    if error is not None:
        payload = {k: getattr(error, k, None) for k in ("type", "code", "decline_code", "message")}
    if not payload.get("message"):
        payload["message"] = exc.user_message or str(exc)
    if isinstance(exc, stripe.CardError):
        payload["type"] = "card_error"
        payload["code"] = payload.get("code") or exc.code
    # The status and headers decide rate limits, in-flight keys and bad keys (see error_kind).
    return error_from_payload(payload, http_status=exc.http_status, headers=exc.headers)


@contextlib.contextmanager
def provider_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise error_translate(exc) from exc


# One client per thread and settings: its HTTP session keeps the connection to Stripe open, where a
# client per call paid a TCP (and, at Stripe, TLS) handshake on every read. Per thread because a
# requests session is not meant to be shared between threads, per process because a forked worker
# must not share its parent's sockets, and keyed by the settings because they are read at call time
# (tests point them elsewhere).
_clients = threading.local()


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    key = (settings.STRIPE_SECRET_KEY, base, os.getpid())
    cached: tuple[tuple[str, str, int], stripe.StripeClient] | None = getattr(_clients, "current", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    kwargs: dict[str, Any] = {}
    if base:
        kwargs["base_addresses"] = {"api": base, "files": base, "connect": base}
    # Stripe dedupes retried writes by idempotency key; an emulator does not, so never retry there.
    retries = 0 if base else 2
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        **kwargs,
    )
    _clients.current = (key, client)
    return client


def read(path: str, **params: Any) -> dict[str, Any]:
    """A GET answered as plain JSON. The ledger's reads skip the SDK's object model: building
    StripeObjects from a response and turning them back into dicts cost as much as the request."""
    return dict(stripe_client().raw_request("get", path, **params).data)


def read_all(path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint, page by page."""
    while True:
        page = read(path, **params)
        items = page.get("data") or []
        yield from items
        if not (page.get("has_more") and items):
            return
        params = {**params, "starting_after": items[-1]["id"]}


def path(*parts: str) -> str:
    # Ids come from event payloads: never let one reach another path.
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


def write_options(key: str) -> Any:
    if not key:
        raise ValueError("every write to the provider needs an idempotency key")
    return {"idempotency_key": key}

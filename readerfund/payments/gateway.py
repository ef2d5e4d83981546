"""The one door to the payment provider (Stripe). Nothing else in readerfund imports `stripe`.

Everything in and out is our own dataclasses, so a second provider could implement the same
functions. Settings are read at call time (one StripeClient per thread and settings): tests point
them at localstripe.

Every write takes an idempotency key derived from our own row. Stripe dedupes by it for 24 hours;
localstripe ignores it, so callers must also reuse the ids they stored (see checkout/services.py).
"""

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
    GatewayCharge,
    GatewayError,
    GatewayIntent,
    GatewayInvoice,
    GatewayNotFound,
    GatewayPaymentMethod,
    GatewayPlan,
    GatewayRefund,
    GatewaySetupIntent,
    GatewaySubscription,
    GatewayUnavailable,
    PaymentDeclined,
    error_from_payload,
)
from readerfund.payments.stripe_shapes import (
    intent_from,
    invoice_from,
    object_id,
    plan_from,
    raw_dict,
    refund_from,
    subscription_from,
)

__all__ = [
    "GatewayCharge",
    "GatewayError",
    "GatewayIntent",
    "GatewayInvoice",
    "GatewayNotFound",
    "GatewayPaymentMethod",
    "GatewayPlan",
    "GatewayRefund",
    "GatewaySetupIntent",
    "GatewaySubscription",
    "GatewayUnavailable",
    "PaymentDeclined",
]

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
        payload.setdefault("code", exc.code)
    status = exc.http_status
    if status is not None and status >= 500:
        return GatewayUnavailable(payload["message"], kind="unavailable", http_status=status)
    return error_from_payload(payload, http_status=status)


@contextlib.contextmanager
def _provider_errors() -> Iterator[None]:
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


def _client() -> stripe.StripeClient:
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


def _read(path: str, **params: Any) -> dict[str, Any]:
    """A GET answered as plain JSON. The ledger's reads skip the SDK's object model: building
    StripeObjects from a response and turning them back into dicts cost as much as the request."""
    return dict(_client().raw_request("get", path, **params).data)


def _read_all(path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint, page by page."""
    while True:
        page = _read(path, **params)
        items = page.get("data") or []
        yield from items
        if not (page.get("has_more") and items):
            return
        params = {**params, "starting_after": items[-1]["id"]}


def _path(*parts: str) -> str:
    # Ids come from event payloads: never let one reach another path.
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


def _write(key: str) -> Any:
    if not key:
        raise ValueError("every write to the provider needs an idempotency key")
    return {"idempotency_key": key}


# --- payment methods, customers, setup intents -----------------------------------------------------


def payment_method_get(*, payment_method_id: str) -> GatewayPaymentMethod:
    with _provider_errors():
        raw = raw_dict(_client().v1.payment_methods.retrieve(payment_method_id))
    kind = raw.get("type") or ""
    details = raw.get(kind) or {}
    return GatewayPaymentMethod(
        id=raw["id"],
        type=kind,
        country=(details.get("country") or "").upper(),
        last4=details.get("last4") or "",
        customer=object_id(raw.get("customer")),
    )


def customer_create(*, metadata: dict[str, str], idempotency_key: str) -> str:
    """A customer that holds no name or address of the reader: only our opaque reference."""
    with _provider_errors():
        customer = _client().v1.customers.create(params={"metadata": metadata}, options=_write(idempotency_key))
    return str(customer.id)


def payment_method_attach(*, payment_method_id: str, customer_id: str, idempotency_key: str) -> None:
    """Raises PaymentDeclined when the bank refuses the card at attach time."""
    with _provider_errors():
        _client().v1.payment_methods.attach(
            payment_method_id, params={"customer": customer_id}, options=_write(idempotency_key)
        )


def customer_default_payment_method_set(*, customer_id: str, payment_method_id: str, idempotency_key: str) -> None:
    # Subscriptions bill the customer's default; localstripe rejects default_payment_method on them.
    with _provider_errors():
        _client().v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
            options=_write(idempotency_key),
        )


def setup_intent_create(
    *, payment_method_types: list[str], metadata: dict[str, str], idempotency_key: str
) -> GatewaySetupIntent:
    with _provider_errors():
        params: Any = {"payment_method_types": payment_method_types, "usage": "off_session", "metadata": metadata}
        raw = raw_dict(_client().v1.setup_intents.create(params=params, options=_write(idempotency_key)))
    return GatewaySetupIntent(
        id=raw["id"],
        status=raw.get("status") or "",
        client_secret=raw.get("client_secret") or "",
        payment_method=object_id(raw.get("payment_method")),
    )


def setup_intent_get(*, setup_intent_id: str) -> GatewaySetupIntent:
    with _provider_errors():
        raw = raw_dict(_client().v1.setup_intents.retrieve(setup_intent_id))
    return GatewaySetupIntent(
        id=raw["id"],
        status=raw.get("status") or "",
        client_secret=raw.get("client_secret") or "",
        payment_method=object_id(raw.get("payment_method")),
    )


# --- one-off payments ------------------------------------------------------------------------------

# The latest charge's `created` is when the money moved (GatewayIntent.charged_at): the payment's date.
_INTENT_EXPAND = ["latest_charge"]
_LIST_EXPAND = ["data.latest_charge"]


def payment_intent_create(
    *,
    amount: int,
    currency: str,
    payment_method_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
    customer_id: str = "",
    payment_method_type: str = "card",
    statement_descriptor: str = "",
) -> GatewayIntent:
    """Create and confirm on the server. A decline comes back as status requires_payment_method with
    last_error (not as an exception); 3-D Secure as requires_action with a client_secret for the page."""
    params: Any = {
        "amount": amount,
        "currency": currency.lower(),
        "payment_method": payment_method_id,
        "payment_method_types": [payment_method_type],
        "metadata": metadata,
        "confirm": True,
        "expand": _INTENT_EXPAND,
    }
    if customer_id:
        params["customer"] = customer_id
    if statement_descriptor and not settings.STRIPE_API_BASE:
        # Stripe takes the suffix on card PaymentIntents; localstripe's PaymentIntent rejects the field.
        params["statement_descriptor_suffix"] = statement_descriptor[:22]
    client = _client()
    try:
        created = client.v1.payment_intents.create(params=params, options=_write(idempotency_key))
    except stripe.CardError as exc:
        # A decline on confirm raises instead of returning the failed intent. Stripe's error names the
        # intent; localstripe's names only the charge, which names the intent.
        error = raw_dict(getattr(exc, "error", None))
        intent_id = object_id(error.get("payment_intent"))
        if not intent_id and error.get("charge"):
            intent_id = charge_get(charge_id=object_id(error["charge"])).payment_intent
        if not intent_id:
            raise error_translate(exc) from exc
        return payment_intent_get(intent_id=intent_id)
    except stripe.StripeError as exc:
        raise error_translate(exc) from exc
    return intent_from(created)


def payment_intent_get(*, intent_id: str) -> GatewayIntent:
    with _provider_errors():
        return intent_from(_read(_path("payment_intents", intent_id), expand=_INTENT_EXPAND))


def payment_intent_find(*, metadata_key: str, metadata_value: str) -> GatewayIntent | None:
    """The newest intent carrying our metadata, for recovering an id we never stored.

    Stripe: the search API. localstripe has no search, so we page through the list instead.
    """
    if not metadata_value:
        return None
    client = _client()
    with _provider_errors():
        if not settings.STRIPE_API_BASE:
            query = f"metadata['{metadata_key}']:'{metadata_value}'"
            found = client.v1.payment_intents.search(params={"query": query, "limit": 1, "expand": _LIST_EXPAND})
            return intent_from(found.data[0]) if found.data else None
        matches = [
            intent_from(item)
            for item in client.v1.payment_intents.list(params={"limit": 100, "expand": _LIST_EXPAND}).auto_paging_iter()
            if (raw_dict(item).get("metadata") or {}).get(metadata_key) == metadata_value
        ]
    return max(matches, key=lambda intent: intent.created) if matches else None


def payment_intent_cancel(*, intent_id: str, idempotency_key: str) -> GatewayIntent:
    with _provider_errors():
        return intent_from(_client().v1.payment_intents.cancel(intent_id, options=_write(idempotency_key)))


def payment_intents_list(*, limit: int = 100) -> Iterator[GatewayIntent]:
    """Every intent, newest first on Stripe (for reconciliation)."""
    with _provider_errors():
        for item in _client().v1.payment_intents.list(params={"limit": limit}).auto_paging_iter():
            yield intent_from(item)


# --- recurring: plans, subscriptions, invoices -----------------------------------------------------


def plan_create(
    *,
    amount: int,
    currency: str,
    interval: str,
    product_name: str,
    metadata: dict[str, str],
    idempotency_key: str,
    statement_descriptor: str = "",
) -> GatewayPlan:
    product: Any = {"name": product_name, "metadata": metadata}
    if statement_descriptor:
        product["statement_descriptor"] = statement_descriptor[:22]
    params: Any = {
        "amount": amount,
        "currency": currency.lower(),
        "interval": interval,
        "product": product,
        "metadata": metadata,
    }
    with _provider_errors():
        return plan_from(raw_dict(_client().v1.plans.create(params=params, options=_write(idempotency_key))))


def plan_get(*, plan_id: str) -> GatewayPlan:
    with _provider_errors():
        return plan_from(raw_dict(_client().v1.plans.retrieve(plan_id)))


_SUBSCRIPTION_EXPAND = ["latest_invoice.payment_intent"]


def subscription_create(
    *, customer_id: str, plan_id: str, metadata: dict[str, str], idempotency_key: str
) -> GatewaySubscription:
    """Bills the customer's default payment method now; the first invoice's intent may need 3-D Secure."""
    params: Any = {
        "customer": customer_id,
        "items": [{"plan": plan_id}],
        "metadata": metadata,
        "payment_behavior": "allow_incomplete",
        "expand": _SUBSCRIPTION_EXPAND,
    }
    with _provider_errors():
        return subscription_from(_client().v1.subscriptions.create(params=params, options=_write(idempotency_key)))


def subscription_get(*, subscription_id: str) -> GatewaySubscription:
    with _provider_errors():
        return subscription_from(_read(_path("subscriptions", subscription_id), expand=_SUBSCRIPTION_EXPAND))


def subscription_find(*, customer_id: str, metadata_key: str, metadata_value: str) -> GatewaySubscription | None:
    """A customer's subscription carrying our metadata (recovers an id we never stored)."""
    if not (customer_id and metadata_value):
        return None
    with _provider_errors():
        listing = _client().v1.subscriptions.list(params={"customer": customer_id, "status": "all", "limit": 100})
        for item in listing.auto_paging_iter():
            if (raw_dict(item).get("metadata") or {}).get(metadata_key) == metadata_value:
                return subscription_get(subscription_id=item.id)
    return None


def subscription_cancel(*, subscription_id: str, idempotency_key: str) -> GatewaySubscription:
    with _provider_errors():
        return subscription_from(_client().v1.subscriptions.cancel(subscription_id, options=_write(idempotency_key)))


def subscriptions_list(*, customer_id: str = "", status: str = "all") -> Iterator[GatewaySubscription]:
    params: Any = {"status": status, "limit": 100}
    if customer_id:
        params["customer"] = customer_id
    with _provider_errors():
        for item in _client().v1.subscriptions.list(params=params).auto_paging_iter():
            yield subscription_from(item)


def invoice_get(*, invoice_id: str) -> GatewayInvoice:
    with _provider_errors():
        return invoice_from(_read(_path("invoices", invoice_id)))


def invoice_with_subscription_get(*, invoice_id: str) -> tuple[GatewayInvoice, GatewaySubscription | None]:
    """An invoice and its subscription in one read; the subscription is None when the invoice has none
    or the provider no longer knows it (localstripe deletes failed SEPA ones)."""
    raw: dict[str, Any] = {}
    try:
        with _provider_errors():
            raw = _read(_path("invoices", invoice_id), expand=["subscription"])
    except GatewayNotFound:
        pass  # an expanded read fails when either is gone: read the invoice alone (it raises if it is gone)
    invoice = invoice_from(raw) if raw else invoice_get(invoice_id=invoice_id)
    expanded = raw.get("subscription")
    if isinstance(expanded, dict):
        return invoice, subscription_from(expanded)
    if not invoice.subscription:
        return invoice, None
    try:
        return invoice, subscription_get(subscription_id=invoice.subscription)
    except GatewayNotFound:
        return invoice, None


def invoice_create(*, customer_id: str, subscription_id: str, idempotency_key: str) -> GatewayInvoice:
    """A renewal on demand (localstripe has no test clock; also how a missed renewal can be billed)."""
    params: Any = {"customer": customer_id, "subscription": subscription_id}
    with _provider_errors():
        return invoice_from(_client().v1.invoices.create(params=params, options=_write(idempotency_key)))


def invoice_pay(*, invoice_id: str, idempotency_key: str) -> GatewayInvoice:
    """Raises PaymentDeclined when the charge fails; the invoice then stays open."""
    with _provider_errors():
        return invoice_from(_client().v1.invoices.pay(invoice_id, options=_write(idempotency_key)))


def invoice_failed_attempt_seen(*, invoice: GatewayInvoice) -> bool:
    """Whether a charge for this invoice failed at some point (its later payment is then a recovery).

    Stripe counts automatic retries in attempt_count, but a manual payment after a failure (the
    supporter's new card, invoices.pay) leaves it at 1; localstripe never raises it and retries with a
    new PaymentIntent. A failed charge pointing at the invoice (directly, or through its intent) is
    what both keep, so look for one among the customer's charges since the invoice was made.
    """
    if invoice.attempt_count > 1:
        return True
    if not invoice.customer:
        return False
    # Not expanded: most of the customer's charges succeeded and need no intent, and expanding every
    # one made this listing the slowest read of webhook processing. A failed charge that does not
    # name the invoice itself has its intent read on its own.
    params: Any = {"customer": invoice.customer, "created": {"gt": invoice.created - 1}, "limit": 100}
    with _provider_errors():
        failed = [raw for raw in _read_all(_path("charges"), **params) if raw.get("status") == "failed"]
        for raw in failed:
            if object_id(raw.get("invoice")) == invoice.id:
                return True
        for raw in failed:
            intent = raw.get("payment_intent")
            if not intent:
                continue
            if not isinstance(intent, dict):
                intent = _read(_path("payment_intents", object_id(intent)))
            if object_id(intent.get("invoice")) == invoice.id:
                return True
    return False


def subscription_invoice_ids(*, subscription_id: str) -> list[str]:
    return [invoice.id for invoice in invoices_list(subscription_id=subscription_id)]


def invoices_list(*, subscription_id: str) -> list[GatewayInvoice]:
    with _provider_errors():
        listing = _client().v1.invoices.list(params={"subscription": subscription_id, "limit": 100})
        return [invoice_from(item) for item in listing.auto_paging_iter()]


# --- charges and refunds ---------------------------------------------------------------------------


def charge_get(*, charge_id: str) -> GatewayCharge:
    with _provider_errors():
        raw = _read(_path("charges", charge_id))
        refunds_raw = (raw.get("refunds") or {}).get("data")
        if refunds_raw is None or (raw.get("refunds") or {}).get("has_more"):
            refunds_raw = list(_read_all(_path("refunds"), charge=charge_id, limit=100))
    return GatewayCharge(
        id=raw["id"],
        status=raw.get("status") or "",
        amount=int(raw.get("amount") or 0),
        amount_refunded=int(raw.get("amount_refunded") or 0),
        currency=(raw.get("currency") or "").upper(),
        payment_intent=object_id(raw.get("payment_intent")),
        invoice=object_id(raw.get("invoice")),
        created=int(raw.get("created") or 0),
        refunds=[refund_from(item) for item in refunds_raw],
    )


def refund_create(*, payment_intent_id: str, amount: int | None, idempotency_key: str) -> GatewayRefund:
    params: Any = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    with _provider_errors():
        return refund_from(raw_dict(_client().v1.refunds.create(params=params, options=_write(idempotency_key))))


# --- webhooks --------------------------------------------------------------------------------------


class EventSignatureInvalid(GatewayError):
    pass


def event_verify(*, payload: bytes, signature: str, secret: str = "") -> dict[str, Any]:
    """The event as a plain dict; EventSignatureInvalid if the signature or payload does not check out."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret or settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise EventSignatureInvalid(f"Webhook signature or payload is invalid: {exc}", kind="invalid") from exc
    return raw_dict(event)

"""One-off payments: PaymentIntents, their charges and refunds."""

from __future__ import annotations

from typing import Any

import stripe

from readerfund.payments.gateway.client import (
    account_current,
    error_translate,
    path,
    provider_errors,
    read,
    read_all,
    read_page,
    stripe_client,
    write_options,
)
from readerfund.payments.provider import (
    GatewayCharge,
    GatewayDispute,
    GatewayIntent,
    GatewayNotFound,
    GatewayRefund,
)
from readerfund.payments.stripe_shapes import (
    dispute_from,
    intent_from,
    object_id,
    raw_dict,
    refund_from,
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
    if statement_descriptor and not account_current().emulator:
        # Stripe takes the suffix on card PaymentIntents; localstripe's PaymentIntent rejects the field.
        params["statement_descriptor_suffix"] = statement_descriptor[:22]
    client = stripe_client()
    try:
        created = client.v1.payment_intents.create(params=params, options=write_options(idempotency_key))
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
    with provider_errors():
        return intent_from(read(path("payment_intents", intent_id), expand=_INTENT_EXPAND))


def payment_intent_find(*, metadata_key: str, metadata_value: str) -> GatewayIntent | None:
    """The newest intent carrying our metadata, for recovering an id we never stored.

    Stripe: the search API. localstripe has no search, so we page through the list instead.
    """
    if not metadata_value:
        return None
    client = stripe_client()
    with provider_errors():
        if not account_current().emulator:
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
    """Cancel an intent, so its client secret can confirm no more (card testing: checkout/card_testing.py)."""
    with provider_errors():
        return intent_from(stripe_client().v1.payment_intents.cancel(intent_id, options=write_options(idempotency_key)))


def payment_intents_page(*, created_since: int = 0, starting_after: str = "") -> tuple[list[GatewayIntent], str]:
    """One page (at most 100) of the account's PaymentIntents created at or after `created_since` (Unix
    time; 0 for all), each with its latest charge, and the `starting_after` of the next page ("" after
    the last). Newest first on Stripe, oldest first on localstripe; a reconcile reads every page."""
    with provider_errors():
        items, next_after = read_page(
            path("payment_intents"), created_since=created_since, starting_after=starting_after, expand=_LIST_EXPAND
        )
    return [intent_from(item) for item in items], next_after


# --- charges and refunds ---------------------------------------------------------------------------


def charge_get(*, charge_id: str) -> GatewayCharge:
    with provider_errors():
        raw = read(path("charges", charge_id))
        refunds_raw = (raw.get("refunds") or {}).get("data")
        if refunds_raw is None or (raw.get("refunds") or {}).get("has_more"):
            refunds_raw = list(read_all(path("refunds"), charge=charge_id, limit=100))
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
    with provider_errors():
        return refund_from(
            raw_dict(stripe_client().v1.refunds.create(params=params, options=write_options(idempotency_key)))
        )


def refund_get(*, refund_id: str) -> GatewayRefund:
    with provider_errors():
        return refund_from(read(path("refunds", refund_id)))


def refunds_page(*, created_since: int = 0, starting_after: str = "") -> tuple[list[GatewayRefund], str]:
    """One page (at most 100) of the account's refunds created at or after `created_since`, as
    payment_intents_page."""
    with provider_errors():
        items, next_after = read_page(path("refunds"), created_since=created_since, starting_after=starting_after)
    return [refund_from(item) for item in items], next_after


def dispute_get(*, dispute_id: str) -> GatewayDispute | None:
    """The dispute's current state. None when the account is an emulator without a disputes API
    (localstripe answers 404 to anything under /v1/disputes): the caller then uses the event's copy."""
    try:
        with provider_errors():
            return dispute_from(read(path("disputes", dispute_id)))
    except GatewayNotFound:
        if account_current().emulator:
            return None
        raise

"""Payment methods, customers and setup intents."""

from __future__ import annotations

from typing import Any

from readerfund.payments.gateway.client import path, provider_errors, read, stripe_client, write_options
from readerfund.payments.provider import (
    GatewayPaymentMethod,
    GatewaySetupIntent,
)
from readerfund.payments.stripe_shapes import (
    object_id,
    raw_dict,
)

# --- payment methods, customers, setup intents -----------------------------------------------------


def payment_method_get(*, payment_method_id: str) -> GatewayPaymentMethod:
    with provider_errors():
        raw = raw_dict(stripe_client().v1.payment_methods.retrieve(payment_method_id))
    kind = raw.get("type") or ""
    details = raw.get(kind) or {}
    return GatewayPaymentMethod(
        id=raw["id"],
        type=kind,
        country=(details.get("country") or "").upper(),
        last4=details.get("last4") or "",
        customer=object_id(raw.get("customer")),
        fingerprint=str(details.get("fingerprint") or ""),
        exp_month=int(details.get("exp_month") or 0) if kind == "card" else 0,
        exp_year=int(details.get("exp_year") or 0) if kind == "card" else 0,
    )


def customer_create(*, metadata: dict[str, str], idempotency_key: str) -> str:
    """A customer that holds no name or address of the reader: only our opaque reference."""
    with provider_errors():
        customer = stripe_client().v1.customers.create(
            params={"metadata": metadata}, options=write_options(idempotency_key)
        )
    return str(customer.id)


def customer_delete(*, customer_id: str, idempotency_key: str) -> None:
    """Delete a customer for good ("Erase my data"): Stripe cancels its subscriptions and detaches its payment
    methods. Raises GatewayNotFound when the customer is already gone (the caller treats that as done).

    The key is sent like every write's, though Stripe ignores idempotency keys on DELETE: deleting twice
    answers "no such customer", which is the same outcome."""
    with provider_errors():
        stripe_client().v1.customers.delete(customer_id, options=write_options(idempotency_key))


def payment_method_attach(*, payment_method_id: str, customer_id: str, idempotency_key: str) -> None:
    """Raises PaymentDeclined when the bank refuses the card at attach time."""
    with provider_errors():
        stripe_client().v1.payment_methods.attach(
            payment_method_id, params={"customer": customer_id}, options=write_options(idempotency_key)
        )


def customer_default_payment_method_set(*, customer_id: str, payment_method_id: str, idempotency_key: str) -> None:
    # Subscriptions bill the customer's default; localstripe rejects default_payment_method on them.
    with provider_errors():
        stripe_client().v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
            options=write_options(idempotency_key),
        )


def _setup_intent_from(raw: dict[str, Any]) -> GatewaySetupIntent:
    error = raw.get("last_setup_error") or {}
    status = raw.get("status") or ""
    payment_method = object_id(raw.get("payment_method")) or object_id(error.get("payment_method"))
    declined = error.get("type") == "card_error" or (status == "canceled" and bool(payment_method))
    return GatewaySetupIntent(
        id=raw["id"],
        status=status,
        client_secret=raw.get("client_secret") or "",
        payment_method=payment_method,
        customer=object_id(raw.get("customer")),
        metadata=dict(raw.get("metadata") or {}),
        declined=declined,
    )


def setup_intent_create(
    *, payment_method_types: list[str], metadata: dict[str, str], idempotency_key: str, customer_id: str = ""
) -> GatewaySetupIntent:
    """For later payments (usage off_session). `customer_id`: a card replacing a plan's card is set up for
    that plan's own customer, which the confirmed card is then attached to."""
    params: Any = {"payment_method_types": payment_method_types, "usage": "off_session", "metadata": metadata}
    if customer_id:
        params["customer"] = customer_id
    with provider_errors():
        raw = raw_dict(stripe_client().v1.setup_intents.create(params=params, options=write_options(idempotency_key)))
    return _setup_intent_from(raw)


def setup_intent_get(*, setup_intent_id: str) -> GatewaySetupIntent:
    with provider_errors():
        return _setup_intent_from(raw_dict(stripe_client().v1.setup_intents.retrieve(setup_intent_id)))


def setup_intent_cancel(*, setup_intent_id: str, idempotency_key: str) -> GatewaySetupIntent:
    """Cancel a set-up: its client secret can confirm no card any more (on Stripe; localstripe still
    accepts a confirmation of a cancelled SetupIntent, so our own record refuses the checkout too)."""
    with provider_errors():
        raw = raw_dict(stripe_client().v1.setup_intents.cancel(setup_intent_id, options=write_options(idempotency_key)))
    return _setup_intent_from(raw)


def customer_default_payment_method_get(*, customer_id: str) -> str:
    """The card (or mandate) that bills every subscription of this customer."""
    with provider_errors():
        raw = read(path("customers", customer_id))
    return object_id((raw.get("invoice_settings") or {}).get("default_payment_method"))


def payment_method_detach(*, payment_method_id: str, idempotency_key: str) -> None:
    with provider_errors():
        stripe_client().v1.payment_methods.detach(payment_method_id, options=write_options(idempotency_key))

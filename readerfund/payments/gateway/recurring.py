"""Recurring support: plans, subscriptions and their invoices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from readerfund.payments.gateway.client import (
    account_current,
    path,
    provider_errors,
    read,
    read_all,
    read_page,
    stripe_client,
    write_options,
)
from readerfund.payments.provider import (
    GatewayInvoice,
    GatewayNotFound,
    GatewayPlan,
    GatewaySubscription,
)
from readerfund.payments.stripe_shapes import (
    invoice_from,
    object_id,
    plan_from,
    raw_dict,
    subscription_from,
)

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
    with provider_errors():
        return plan_from(
            raw_dict(stripe_client().v1.plans.create(params=params, options=write_options(idempotency_key)))
        )


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
    if not account_current().emulator:
        # The reader just authenticated this card for later payments (the SetupIntent, usage off_session):
        # charging the first invoice off-session lets Stripe claim that authentication instead of asking
        # the bank a second time. localstripe refuses the parameter (and asks again for its 3-D Secure cards).
        params["off_session"] = True
    with provider_errors():
        return subscription_from(
            stripe_client().v1.subscriptions.create(params=params, options=write_options(idempotency_key))
        )


def subscription_get(*, subscription_id: str) -> GatewaySubscription:
    with provider_errors():
        return subscription_from(read(path("subscriptions", subscription_id), expand=_SUBSCRIPTION_EXPAND))


def subscription_find(*, customer_id: str, metadata_key: str, metadata_value: str) -> GatewaySubscription | None:
    """A customer's subscription carrying our metadata (recovers an id we never stored)."""
    if not (customer_id and metadata_value):
        return None
    with provider_errors():
        listing = stripe_client().v1.subscriptions.list(params={"customer": customer_id, "status": "all", "limit": 100})
        for item in listing.auto_paging_iter():
            if (raw_dict(item).get("metadata") or {}).get(metadata_key) == metadata_value:
                return subscription_get(subscription_id=item.id)
    return None


def subscription_cancel(*, subscription_id: str, idempotency_key: str) -> GatewaySubscription:
    with provider_errors():
        return subscription_from(
            stripe_client().v1.subscriptions.cancel(subscription_id, options=write_options(idempotency_key))
        )


# --- a supporter's changes to their plan (payments/changes.py) ------------------------------------
# Where Stripe and the emulator differ, each is decided here, once, from the account's `emulator` flag.


def _subscription_modify(subscription_id: str, params: Any, idempotency_key: str) -> GatewaySubscription:
    with provider_errors():
        return subscription_from(
            stripe_client().v1.subscriptions.update(
                subscription_id, params=params, options=write_options(idempotency_key)
            )
        )


def _emulator_prorations_remove(*, customer_id: str, subscription_id: str) -> None:
    """localstripe refuses proration_behavior and, on a plan change, leaves an "Unused time" credit of every
    earlier invoice pending for the next one: remove those, so the next renewal charges the new amount as
    Stripe's proration_behavior="none" does. (A delete carries no idempotency key: it is one by nature.)"""
    with provider_errors():
        for item in list(read_all(path("invoiceitems"), customer=customer_id, limit=100)):
            if item.get("proration") and object_id(item.get("subscription")) == subscription_id:
                stripe_client().v1.invoice_items.delete(str(item["id"]))


def subscription_plan_change(
    *, subscription: GatewaySubscription, plan_id: str, idempotency_key: str
) -> GatewaySubscription:
    """The subscription's one item moves to another plan, without proration: the next renewal charges the
    new amount, and the one already paid stands. (A change of interval makes the provider invoice the new
    plan at once: its billing period starts again.)"""
    params: Any = {"items": [{"id": subscription.item_id, "plan": plan_id}]}
    emulated = account_current().emulator
    if not emulated:
        params["proration_behavior"] = "none"
    changed = _subscription_modify(subscription.id, params, idempotency_key)
    if emulated:
        _emulator_prorations_remove(customer_id=subscription.customer, subscription_id=subscription.id)
    return subscription_get(subscription_id=changed.id)


def _pause_params(resumes_at: int | None) -> Any:
    """Stripe pauses collection (invoices made during the pause are voided) until `resumes_at`; the
    emulator answers 500 to pause_collection, so there the next charge is pushed to that time with a
    trial_end (its status stays active). `None`: resume now."""
    if account_current().emulator:
        return {"trial_end": "now" if resumes_at is None else resumes_at}
    if resumes_at is None:
        return {"pause_collection": ""}
    return {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}


def subscription_pause(*, subscription_id: str, resumes_at: int, idempotency_key: str) -> GatewaySubscription:
    return _subscription_modify(subscription_id, _pause_params(resumes_at), idempotency_key)


def subscription_resume(*, subscription_id: str, idempotency_key: str) -> GatewaySubscription:
    return _subscription_modify(subscription_id, _pause_params(None), idempotency_key)


def subscription_cancel_at_period_end(*, subscription_id: str, idempotency_key: str) -> GatewaySubscription:
    """The plan runs to the end of the period already paid, then the provider ends it
    (customer.subscription.deleted)."""
    return _subscription_modify(subscription_id, {"cancel_at_period_end": True}, idempotency_key)


def subscriptions_list(*, customer_id: str = "", status: str = "all") -> Iterator[GatewaySubscription]:
    params: Any = {"status": status, "limit": 100}
    if customer_id:
        params["customer"] = customer_id
    with provider_errors():
        for item in stripe_client().v1.subscriptions.list(params=params).auto_paging_iter():
            yield subscription_from(item)


def subscriptions_page(*, created_since: int = 0, starting_after: str = "") -> tuple[list[GatewaySubscription], str]:
    """One page (at most 100) of the account's subscriptions of every status created at or after
    `created_since` (Unix time; 0 for all), each with its latest invoice and that invoice's intent, and
    the `starting_after` of the next page ("" after the last)."""
    with provider_errors():
        items, next_after = read_page(
            path("subscriptions"),
            created_since=created_since,
            starting_after=starting_after,
            status="all",
            expand=["data." + field for field in _SUBSCRIPTION_EXPAND],
        )
    return [subscription_from(item) for item in items], next_after


def invoice_get(*, invoice_id: str) -> GatewayInvoice:
    with provider_errors():
        return invoice_from(read(path("invoices", invoice_id)))


def invoice_with_subscription_get(*, invoice_id: str) -> tuple[GatewayInvoice, GatewaySubscription | None]:
    """An invoice and its subscription in one read; the subscription is None when the invoice has none
    or the provider no longer knows it (localstripe deletes failed SEPA ones)."""
    raw: dict[str, Any] = {}
    try:
        with provider_errors():
            raw = read(path("invoices", invoice_id), expand=["subscription"])
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
    with provider_errors():
        return invoice_from(stripe_client().v1.invoices.create(params=params, options=write_options(idempotency_key)))


def invoice_pay(*, invoice_id: str, idempotency_key: str) -> GatewayInvoice:
    """Raises PaymentDeclined when the charge fails; the invoice then stays open."""
    with provider_errors():
        return invoice_from(stripe_client().v1.invoices.pay(invoice_id, options=write_options(idempotency_key)))


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
    try:
        with provider_errors():
            failed = [raw for raw in read_all(path("charges"), **params) if raw.get("status") == "failed"]
    except GatewayNotFound:
        # The customer was deleted ("Erase my data") after the invoice was paid: its charges can no longer
        # be listed by it. The payment itself must still be recorded; it is simply not called a recovery.
        return False
    with provider_errors():
        for raw in failed:
            if object_id(raw.get("invoice")) == invoice.id:
                return True
        for raw in failed:
            intent = raw.get("payment_intent")
            if not intent:
                continue
            if not isinstance(intent, dict):
                intent = read(path("payment_intents", object_id(intent)))
            if object_id(intent.get("invoice")) == invoice.id:
                return True
    return False


def subscription_invoice_ids(*, subscription_id: str) -> list[str]:
    return [invoice.id for invoice in invoices_list(subscription_id=subscription_id)]


def invoices_list(*, subscription_id: str) -> list[GatewayInvoice]:
    with provider_errors():
        listing = stripe_client().v1.invoices.list(params={"subscription": subscription_id, "limit": 100})
        return [invoice_from(item) for item in listing.auto_paging_iter()]

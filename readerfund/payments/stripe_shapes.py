"""Stripe's object shapes (plain dicts) read into our dataclasses. No SDK import: the gateway package calls."""

from __future__ import annotations

from typing import Any

from readerfund.payments.provider import (
    GatewayDispute,
    GatewayIntent,
    GatewayInvoice,
    GatewayLastError,
    GatewayPlan,
    GatewayRefund,
    GatewaySubscription,
)


def raw_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, str):
        return {"id": obj}
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def object_id(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get("id") or "")


def last_error_from(raw: dict[str, Any] | None) -> GatewayLastError | None:
    if not raw:
        return None
    return GatewayLastError(
        code=raw.get("code") or "", decline_code=raw.get("decline_code") or "", message=raw.get("message") or ""
    )


def intent_from(obj: Any) -> GatewayIntent:
    raw = raw_dict(obj)
    charge = raw.get("latest_charge")  # an object when the read expanded it
    return GatewayIntent(
        id=raw["id"],
        status=raw.get("status") or "",
        amount=int(raw.get("amount") or 0),
        currency=(raw.get("currency") or "").upper(),
        client_secret=raw.get("client_secret") or "",
        customer=object_id(raw.get("customer")),
        payment_method=object_id(raw.get("payment_method")),
        last_error=last_error_from(raw.get("last_payment_error")),
        latest_charge=object_id(raw.get("latest_charge")),
        invoice=object_id(raw.get("invoice")),
        created=int(raw.get("created") or 0),
        metadata=dict(raw.get("metadata") or {}),
        charged_at=int(charge.get("created") or 0) if isinstance(charge, dict) else 0,
    )


def plan_from(raw: dict[str, Any]) -> GatewayPlan:
    return GatewayPlan(
        id=raw["id"],
        amount=int(raw.get("amount") or 0),
        currency=(raw.get("currency") or "").upper(),
        interval=raw.get("interval") or "",
    )


def subscription_from(obj: Any) -> GatewaySubscription:
    raw = raw_dict(obj)
    plan = raw.get("plan") or {}
    if not plan and raw.get("items", {}).get("data"):
        plan = raw["items"]["data"][0].get("plan") or {}
    invoice = raw.get("latest_invoice")
    items = (raw.get("items") or {}).get("data") or []
    pause = raw.get("pause_collection") or {}
    held_until = int(pause.get("resumes_at") or 0) if isinstance(pause, dict) else 0
    intent = None
    if isinstance(invoice, dict) and isinstance(invoice.get("payment_intent"), dict):
        intent = intent_from(invoice["payment_intent"])
    return GatewaySubscription(
        id=raw["id"],
        status=raw.get("status") or "",
        customer=object_id(raw.get("customer")),
        plan_id=object_id(plan),
        amount=int(plan.get("amount") or 0) if isinstance(plan, dict) else 0,
        currency=(plan.get("currency") or "").upper() if isinstance(plan, dict) else "",
        interval=(plan.get("interval") or "") if isinstance(plan, dict) else "",
        latest_invoice=object_id(invoice),
        payment_intent=intent,
        metadata=dict(raw.get("metadata") or {}),
        invoice=invoice_from(invoice) if isinstance(invoice, dict) else None,
        item_id=str(items[0].get("id") or "") if items and isinstance(items[0], dict) else "",
        current_period_end=int(raw.get("current_period_end") or 0),
        cancel_at_period_end=bool(raw.get("cancel_at_period_end")),
        held_until=max(held_until, int(raw.get("trial_end") or 0)),
    )


def invoice_from(obj: Any) -> GatewayInvoice:
    raw = raw_dict(obj)
    subscription = object_id(raw.get("subscription"))
    if not subscription:  # newer API versions nest it
        subscription = object_id(((raw.get("parent") or {}).get("subscription_details") or {}).get("subscription"))
    return GatewayInvoice(
        id=raw["id"],
        status=raw.get("status") or "",
        paid=bool(raw.get("paid")) or raw.get("status") == "paid",
        subscription=subscription,
        customer=object_id(raw.get("customer")),
        amount_due=int(raw.get("amount_due") or 0),
        amount_paid=int(raw.get("amount_paid") or 0),
        currency=(raw.get("currency") or "").upper(),
        payment_intent=object_id(raw.get("payment_intent")),
        charge=object_id(raw.get("charge")),
        attempt_count=int(raw.get("attempt_count") or 0),
        created=int(raw.get("created") or 0),
        paid_at=int((raw.get("status_transitions") or {}).get("paid_at") or 0),
    )


def refund_from(raw: dict[str, Any]) -> GatewayRefund:
    return GatewayRefund(
        id=raw["id"],
        amount=int(raw.get("amount") or 0),
        currency=(raw.get("currency") or "").upper(),
        status=raw.get("status") or "",
        charge=object_id(raw.get("charge")),
        created=int(raw.get("created") or 0),
    )


def dispute_from(obj: Any) -> GatewayDispute:
    raw = raw_dict(obj)
    transactions = raw.get("balance_transactions")
    withdrawn: int | None = None
    fee, fee_currency = 0, ""
    if isinstance(transactions, list):
        # A withdrawal is negative, a reinstatement positive; both carry the fee (negative on reinstating).
        withdrawn = -sum(int(t.get("amount") or 0) for t in transactions if isinstance(t, dict))
        fee = sum(int(t.get("fee") or 0) for t in transactions if isinstance(t, dict))
        fee_currency = next(
            ((t.get("currency") or "").upper() for t in transactions if isinstance(t, dict) and t.get("currency")), ""
        )
    return GatewayDispute(
        id=raw["id"],
        status=raw.get("status") or "",
        amount=int(raw.get("amount") or 0),
        currency=(raw.get("currency") or "").upper(),
        charge=object_id(raw.get("charge")),
        payment_intent=object_id(raw.get("payment_intent")),
        reason=(raw.get("reason") or "")[:40],
        created=int(raw.get("created") or 0),
        withdrawn=max(withdrawn, 0) if withdrawn is not None else None,
        fee=max(fee, 0),
        fee_currency=fee_currency,
    )

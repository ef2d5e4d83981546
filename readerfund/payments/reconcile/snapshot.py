"""The ledger as a reconcile compares it before and after: what changed is what it repaired."""

from __future__ import annotations

from readerfund.core.money import Money
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, Payment, Refund


def ledger_snapshot(*, newsroom: Newsroom) -> dict[str, str]:
    """Every fact a sync may change, keyed by what it is about; values compare as plain strings."""
    facts: dict[str, str] = {}
    for contribution_id, status in Contribution.objects.filter(newsroom=newsroom).values_list("id", "status"):
        facts[f"contribution {contribution_id}"] = f"status {status}"
    for payment in Payment.objects.filter(newsroom=newsroom).only(
        "provider_payment_id", "amount", "currency", "status", "amount_refunded", "recovered"
    ):
        paid = Money(payment.amount, payment.currency)
        refunded = Money(payment.amount_refunded, payment.currency)
        recovered = ", recovered" if payment.recovered else ""
        facts[f"payment {payment.provider_payment_id}"] = (
            f"{paid.major_str()} {paid.currency} {payment.status}, refunded {refunded.major_str()}{recovered}"
        )
    for refund in Refund.objects.filter(payment__newsroom=newsroom):
        facts[f"refund {refund.provider_refund_id}"] = (
            f"{Money(refund.amount, refund.currency).major_str()} {refund.currency}"
        )
    return facts


def snapshot_difference(before: dict[str, str], after: dict[str, str]) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            lines.append(f"added {key}: {new}")
        elif new is None:
            lines.append(f"removed {key}: {old}")
        else:
            lines.append(f"changed {key}: {old} -> {new}")
    return lines

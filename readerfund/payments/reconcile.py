"""Repair what lost webhooks left out: sync every Stripe object our ledger knows of, report the difference.

Stripe gives up on a webhook after a few days, localstripe after one try, and an outage of ours
can drop any. Each contribution stores the ids of its PaymentIntent or Subscription, so we can ask
Stripe for their current state and run the same idempotent syncs the webhook handlers run. What
changed is found by comparing the ledger before and after, so a second run reports nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from readerfund.core.money import Money
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Contribution, Payment, Refund

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked: int = 0


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


def _sync(report: ReconcileReport, what: str, sync: Callable[..., object], **ids: object) -> None:
    report.checked += 1
    try:
        sync(**ids)
    except Exception as exc:  # one unreachable or odd object must not stop the rest of the repair
        logger.warning("reconcile: %s failed: %s", what, type(exc).__name__)
        report.errors.append(f"{what}: {type(exc).__name__}: {exc}")


def ledger_reconcile(*, newsroom: Newsroom) -> ReconcileReport:
    with gateway.account_use(account_for(newsroom)):
        return _reconcile(newsroom)


def _reconcile(newsroom: Newsroom) -> ReconcileReport:
    report = ReconcileReport()
    before = ledger_snapshot(newsroom=newsroom)
    contributions = Contribution.objects.filter(newsroom=newsroom).order_by("id")
    for contribution in contributions:
        if contribution.provider_payment_intent_id:
            intent_id = contribution.provider_payment_intent_id
            _sync(
                report,
                f"payment intent {intent_id}",
                ledger.payment_intent_sync,
                newsroom=newsroom,
                intent_id=intent_id,
            )
        if contribution.provider_subscription_id:
            subscription_id = contribution.provider_subscription_id
            _sync(
                report,
                f"subscription {subscription_id}",
                ledger.subscription_sync,
                newsroom=newsroom,
                subscription_id=subscription_id,
            )
            try:
                invoice_ids = gateway.subscription_invoice_ids(subscription_id=subscription_id)
            except Exception as exc:
                report.errors.append(f"invoices of {subscription_id}: {type(exc).__name__}: {exc}")
                invoice_ids = []
            for invoice_id in invoice_ids:
                _sync(report, f"invoice {invoice_id}", ledger.invoice_sync, newsroom=newsroom, invoice_id=invoice_id)
    # After the payments above exist again: refunds hang off their charges.
    charge_ids = (
        Payment.objects.filter(newsroom=newsroom)
        .exclude(provider_charge_id="")
        .values_list("provider_charge_id", flat=True)
        .order_by("id")
    )
    for charge_id in list(charge_ids):
        _sync(report, f"charge {charge_id}", ledger.charge_refund_sync, newsroom=newsroom, charge_id=charge_id)
    report.changes = snapshot_difference(before, ledger_snapshot(newsroom=newsroom))
    return report

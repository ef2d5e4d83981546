"""Refunds in a reconcile: those made since the cursor, and the charges whose refunds may have moved."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from django.db.models import Exists, OuterRef, Q

from readerfund.payments import gateway, ledger
from readerfund.payments.models import Payment, ReconcileCursor, Refund
from readerfund.payments.provider import GatewayRefund
from readerfund.payments.reconcile.run import CHARGES, REFUNDS, Run, listing, sync


def _charges(run: Run, charge_ids: list[str]) -> None:
    """Every refund of these charges of ours as Stripe holds them now (one read of each brings them all)."""
    for charge_id in run.by_id(CHARGES, charge_ids):
        charge_sync = functools.partial(ledger.charge_refund_sync, newsroom=run.newsroom, charge_id=charge_id)
        sync(run, f"charge {charge_id}", charge_sync)


def _listed(run: Run, refund: GatewayRefund) -> None:
    held = Refund.objects.filter(provider_refund_id=refund.id, payment__newsroom=run.newsroom).first()
    if held is None:
        ours = Payment.objects.filter(newsroom=run.newsroom, provider_charge_id=refund.charge)
        if not (refund.charge and ours.exists()):
            run.tally(REFUNDS).foreign += 1
            return
    elif (held.status, held.amount) == (refund.status, refund.amount) and not run.scope.rereads(refund.created):
        return
    _charges(run, [refund.charge])


def _charges_to_reread(run: Run, *, payments_before: int, listed_from: int) -> list[str]:
    """Charges whose refunds may have moved though the listing did not show them: those with a refund we
    hold as pending, and payments this run added that were paid before the listing's start (their
    refunds may be older too); in a re-read, every payment in its scope."""
    pending = Refund.objects.filter(
        payment=OuterRef("pk"), status__in=(Refund.Status.PENDING, Refund.Status.REQUIRES_ACTION)
    )
    listed_since = datetime.fromtimestamp(listed_from, tz=UTC)
    wanted = Q(id__gt=payments_before, paid_at__lt=listed_since) | Q(has_pending=True)
    if run.scope.everything:
        wanted = Q()
    elif run.scope.since is not None:
        wanted |= Q(paid_at__gte=run.scope.since)
    rows = Payment.objects.filter(newsroom=run.newsroom).exclude(provider_charge_id="")
    rows = rows.annotate(has_pending=Exists(pending)).filter(wanted)
    return list(rows.order_by("id").values_list("provider_charge_id", flat=True))


def refunds_reconcile(run: Run, *, payments_before: int) -> None:
    object_type = ReconcileCursor.ObjectType.REFUND
    listed_from = listing(run, REFUNDS, object_type, gateway.refunds_page, functools.partial(_listed, run))
    _charges(run, _charges_to_reread(run, payments_before=payments_before, listed_from=listed_from))
    run.progress(run.tally(REFUNDS).line(REFUNDS))
    run.progress(run.tally(CHARGES).line(CHARGES))

"""One-offs in a reconcile: PaymentIntents listed since the cursor, and the unsettled ones we hold."""

from __future__ import annotations

import functools

from django.db.models import Exists, OuterRef, Q

from readerfund.payments import gateway, ledger
from readerfund.payments.ledger.matching import contribution_for_intent
from readerfund.payments.models import Contribution, Frequency, Payment, ReconcileCursor
from readerfund.payments.provider import GatewayIntent
from readerfund.payments.reconcile.run import PAYMENT_INTENTS, UNSETTLED, UNSETTLED_WINDOW, Run, listing, sync

Status = Contribution.Status


def _settled(contribution: Contribution) -> bool:
    if contribution.status in (Status.CANCELED, Status.REFUSED):
        return True
    recorded = Payment.objects.filter(
        contribution=contribution, provider_payment_id=contribution.provider_payment_intent_id
    )
    return contribution.status == Status.SUCCEEDED and recorded.exists()


def _listed(run: Run, intent: GatewayIntent) -> None:
    if intent.invoice:
        return  # a subscription's invoice payment: read with its subscription
    contribution = contribution_for_intent(newsroom=run.newsroom, intent=intent)
    if contribution is None:
        run.tally(PAYMENT_INTENTS).foreign += 1
        return
    if _settled(contribution) and not run.scope.rereads(intent.created):
        return
    lost = not contribution.provider_payment_intent_id
    # The listing carries the intent's current state with its latest charge: nothing more to read.
    apply = functools.partial(ledger.contribution_apply_intent, contribution=contribution, intent=intent)
    if sync(run, f"payment intent {intent.id}", apply) and lost:
        run.repaired(PAYMENT_INTENTS, contribution, f"payment intent {intent.id}")


def _to_reread(run: Run) -> list[str]:
    """Stored intents that may still move: recent unsettled ones, and succeeded ones whose payment we
    lack; in a re-read, every one in its scope as well."""
    rows = Contribution.objects.filter(newsroom=run.newsroom, frequency=Frequency.ONE_OFF)
    rows = rows.exclude(provider_payment_intent_id="")
    recorded = Payment.objects.filter(provider_payment_id=OuterRef("provider_payment_intent_id"))
    recent = Q(status__in=UNSETTLED, created_at__gte=run.started - UNSETTLED_WINDOW)
    wanted = recent | Q(status=Status.SUCCEEDED, has_payment=False)
    if run.scope.everything:
        wanted = Q()
    elif run.scope.since is not None:
        wanted |= Q(created_at__gte=run.scope.since)
    rows = rows.annotate(has_payment=Exists(recorded)).filter(wanted)
    return list(rows.order_by("id").values_list("provider_payment_intent_id", flat=True))


def one_offs_reconcile(run: Run) -> None:
    object_type = ReconcileCursor.ObjectType.PAYMENT_INTENT
    listing(run, PAYMENT_INTENTS, object_type, gateway.payment_intents_page, functools.partial(_listed, run))
    for intent_id in run.by_id(PAYMENT_INTENTS, _to_reread(run)):
        intent_sync = functools.partial(ledger.payment_intent_sync, newsroom=run.newsroom, intent_id=intent_id)
        sync(run, f"payment intent {intent_id}", intent_sync)
    run.progress(run.tally(PAYMENT_INTENTS).line(PAYMENT_INTENTS))

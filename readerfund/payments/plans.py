"""The provider's Plans: one per (newsroom, amount, currency, interval), made once and cached in ProviderPlan.

Used by the checkout's new subscriptions and by a supporter's change of amount or frequency.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from readerfund.core.amounts import INTERVALS
from readerfund.payments import gateway
from readerfund.payments.models import Contribution, ProviderPlan


def plan_for(*, contribution: Contribution, amount: int | None = None, frequency: str | None = None) -> str:
    """One Plan per (newsroom, amount, currency, interval), cached in ProviderPlan. Two checkouts racing
    for a new plan may both create one at the provider; the first stored wins, the other stays unused.
    `amount`, `frequency`: another plan for this contribution (a supporter's change, payments/changes.py)."""
    interval = INTERVALS[frequency or contribution.frequency]
    key: dict[str, Any] = {
        "newsroom_id": contribution.newsroom_id,
        "provider": "stripe",
        "amount": contribution.amount if amount is None else amount,
        "currency": contribution.currency,
        "interval": interval,
    }
    try:
        with transaction.atomic():
            plan, _ = ProviderPlan.objects.get_or_create(**key)
    except IntegrityError:
        plan = ProviderPlan.objects.get(**key)
    if plan.provider_plan_id:
        return plan.provider_plan_id
    newsroom = contribution.newsroom
    made = gateway.plan_create(
        amount=plan.amount,
        currency=plan.currency,
        interval=interval,
        product_name=f"{newsroom.statement_descriptor} {plan.amount} {plan.currency}/{interval}",
        statement_descriptor=newsroom.statement_descriptor,
        metadata={"newsroom": newsroom.slug, "plan": plan.request_key},
        idempotency_key=f"{plan.request_key}:plan",
    )
    ProviderPlan.objects.filter(id=plan.id, provider_plan_id="").update(provider_plan_id=made.id)
    plan.refresh_from_db(fields=["provider_plan_id"])
    return plan.provider_plan_id

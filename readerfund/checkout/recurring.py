"""Recurring support: a Customer, the payment method as its default, a Plan, then the Subscription.

Within what both Stripe and localstripe accept: Plans (no Prices), the customer's
invoice_settings.default_payment_method set before Subscription.create (which may not carry one).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from readerfund.checkout.amounts import INTERVALS
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution, ProviderPlan, Supporter
from readerfund.payments.provider import PaymentDeclined


def customer_for(*, supporter: Supporter) -> str:
    """The supporter's customer at the provider, made once. It holds only our opaque reference."""
    with transaction.atomic():
        row = Supporter.objects.select_for_update().get(id=supporter.id)
        if not row.provider_customer_id:
            row.provider_customer_id = gateway.customer_create(
                metadata={"supporter": row.reference}, idempotency_key=f"supporter-{row.id}-customer"
            )
            row.save(update_fields=["provider_customer_id"])
        return row.provider_customer_id


def plan_for(*, contribution: Contribution) -> str:
    """One Plan per (newsroom, amount, currency, interval), cached in ProviderPlan."""
    interval = INTERVALS[contribution.frequency]
    key: dict[str, Any] = {
        "newsroom_id": contribution.newsroom_id,
        "provider": "stripe",
        "amount": contribution.amount,
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
    with transaction.atomic():
        plan = ProviderPlan.objects.select_for_update().get(id=plan.id)
        if not plan.provider_plan_id:
            newsroom = contribution.newsroom
            made = gateway.plan_create(
                amount=plan.amount,
                currency=plan.currency,
                interval=interval,
                product_name=f"{newsroom.statement_descriptor} {plan.amount} {plan.currency}/{interval}",
                statement_descriptor=newsroom.statement_descriptor,
                metadata={"newsroom": newsroom.slug, "plan": str(plan.id)},
                idempotency_key=f"plan-{plan.id}",
            )
            plan.provider_plan_id = made.id
            plan.save(update_fields=["provider_plan_id"])
    return plan.provider_plan_id


def _declined(contribution: Contribution, error: PaymentDeclined) -> Contribution:
    contribution.status = Contribution.Status.FAILED
    contribution.failure_reason = (error.decline_code or error.code or "card_declined")[:200]
    contribution.save(update_fields=["status", "failure_reason", "updated_at"])
    return contribution


def recurring_pay(*, contribution: Contribution, payment_method_id: str, earlier: bool) -> tuple[Contribution, str]:
    """(contribution, client_secret of the first invoice's intent when the bank asks for 3-D Secure)."""
    supporter = contribution.supporter
    customer_id = customer_for(supporter=supporter)
    metadata = ledger.provider_metadata(contribution)
    with transaction.atomic():
        row = Contribution.objects.select_for_update().select_related("newsroom", "supporter").get(id=contribution.id)
        subscription = None
        if row.provider_subscription_id:
            subscription = gateway.subscription_get(subscription_id=row.provider_subscription_id)
        elif earlier:
            subscription = gateway.subscription_find(
                customer_id=customer_id, metadata_key=ledger.CHECKOUT_KEY, metadata_value=row.request_key
            )
        if subscription is None:
            try:
                gateway.payment_method_attach(
                    payment_method_id=payment_method_id,
                    customer_id=customer_id,
                    idempotency_key=f"contribution-{row.id}-attach",
                )
            except PaymentDeclined as error:
                return _declined(row, error), ""
            gateway.customer_default_payment_method_set(
                customer_id=customer_id,
                payment_method_id=payment_method_id,
                idempotency_key=f"contribution-{row.id}-default-method",
            )
            plan_id = plan_for(contribution=row)
            Contribution.objects.filter(id=row.id).update(provider_plan_id=plan_id, updated_at=timezone.now())
            try:
                subscription = gateway.subscription_create(
                    customer_id=customer_id,
                    plan_id=plan_id,
                    metadata=metadata,
                    idempotency_key=f"contribution-{row.id}-subscription",
                )
            except PaymentDeclined as error:
                return _declined(row, error), ""
        row = ledger.contribution_apply_subscription(contribution=row, subscription=subscription)
    intent = subscription.payment_intent
    return row, intent.client_secret if intent is not None else ""

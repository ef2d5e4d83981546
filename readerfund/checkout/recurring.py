"""Recurring support: a Customer of the contribution's own, the payment method as its default, a Plan,
then the Subscription.

Within what both Stripe and localstripe accept: Plans (no Prices), the customer's
invoice_settings.default_payment_method set before Subscription.create (which may not carry one).
That default bills *every* subscription of the Customer, so each recurring contribution gets a Customer
of its own: a second checkout typed with the same e-mail address (a stranger's, or the supporter's own
second plan) makes its own Customer and never touches the first plan's card.

No call here runs inside a transaction: each create is followed by a short write of its id, and the
checkout's lease (checkout/attempts.py) keeps a second request from creating the same thing meanwhile.
"""

from __future__ import annotations

from django.utils import timezone

from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution
from readerfund.payments.plans import plan_for
from readerfund.payments.provider import GatewaySubscription, PaymentDeclined
from readerfund.payments.transitions import Signal


def customer_for(*, contribution: Contribution) -> str:
    """The contribution's own customer at the provider, made once. It holds only opaque references."""
    if contribution.provider_customer_id:
        return contribution.provider_customer_id
    customer_id = gateway.customer_create(
        metadata={ledger.CHECKOUT_KEY: contribution.request_key, "supporter": contribution.supporter.reference},
        idempotency_key=f"{contribution.request_key}:customer",
    )
    Contribution.objects.filter(id=contribution.id, provider_customer_id="").update(provider_customer_id=customer_id)
    contribution.refresh_from_db(fields=["provider_customer_id"])
    return contribution.provider_customer_id


def _declined(contribution: Contribution, error: PaymentDeclined) -> Contribution:
    reason = error.decline_code or error.code or "card_declined"
    return ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal.DECLINED, reason=reason)


def _client_secret(subscription: GatewaySubscription) -> str:
    intent = subscription.payment_intent
    return intent.client_secret if intent is not None and intent.status == "requires_action" else ""


def recurring_state(*, contribution: Contribution) -> tuple[Contribution, str]:
    """The stored subscription's current state, written to the ledger."""
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    row = ledger.contribution_apply_subscription(contribution=contribution, subscription=subscription)
    return row, _client_secret(subscription)


def _subscription_make(*, contribution: Contribution, customer_id: str, payment_method_id: str) -> GatewaySubscription:
    key = contribution.request_key
    gateway.payment_method_attach(
        payment_method_id=payment_method_id, customer_id=customer_id, idempotency_key=f"{key}:attach"
    )
    gateway.customer_default_payment_method_set(
        customer_id=customer_id, payment_method_id=payment_method_id, idempotency_key=f"{key}:default-method"
    )
    plan_id = plan_for(contribution=contribution)
    Contribution.objects.filter(id=contribution.id).update(provider_plan_id=plan_id, updated_at=timezone.now())
    return gateway.subscription_create(
        customer_id=customer_id,
        plan_id=plan_id,
        metadata=ledger.provider_metadata(contribution),
        idempotency_key=f"{key}:subscription",
    )


def recurring_pay(*, contribution: Contribution, payment_method_id: str, earlier: bool) -> tuple[Contribution, str]:
    """(contribution, client_secret of the first invoice's intent when the bank asks for 3-D Secure).
    The caller holds the checkout's lease."""
    subscription = None
    if earlier and contribution.provider_customer_id:
        subscription = gateway.subscription_find(
            customer_id=contribution.provider_customer_id,
            metadata_key=ledger.CHECKOUT_KEY,
            metadata_value=contribution.request_key,
        )
    if subscription is None:
        customer_id = customer_for(contribution=contribution)
        try:
            subscription = _subscription_make(
                contribution=contribution, customer_id=customer_id, payment_method_id=payment_method_id
            )
        except PaymentDeclined as error:
            return _declined(contribution, error), ""
    row = ledger.contribution_apply_subscription(contribution=contribution, subscription=subscription)
    return row, _client_secret(subscription)

"""A supporter replaces the card their recurring contribution is charged to (see payments/changes.py).

The new card is set up for that contribution's own Customer and becomes that Customer's default, so it
bills this plan only: each recurring contribution has a Customer of its own, and another plan of the same
supporter keeps its card. The finish accepts only the SetupIntent its start made for this contribution
(our marker row and the SetupIntent's metadata and customer must all say so), refuses a card from the
newsroom's risk countries as the checkout does, and, when a renewal was left unpaid, pays it with the new
card.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.change_markers import (
    LEASE,
    ChangeRefused,
    change_claim,
    change_done,
    change_fail,
    contribution_loaded,
    recurring_check,
)
from readerfund.payments.models import Contribution, ContributionChange
from readerfund.payments.notices import plan_changed_notify
from readerfund.payments.provider import GatewayError, GatewayPaymentMethod, PaymentDeclined

logger = logging.getLogger(__name__)
Status = Contribution.Status
Change = ContributionChange
CHANGE_KEY = "change"
_CARD_ALLOWED = (Status.ACTIVE, Status.PAST_DUE, Status.PAUSED)
_SETUP_OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")


def _waiting_secret(contribution: Contribution) -> str:
    """The client secret of this contribution's card change that still waits for the page, if any."""
    waiting = contribution.changes.filter(kind=Change.Kind.CARD, status=Change.Status.WAITING).order_by("-id").first()
    if waiting is None or not waiting.setup_intent_id:
        return ""
    setup = gateway.setup_intent_get(setup_intent_id=waiting.setup_intent_id)
    return setup.client_secret if setup.status in _SETUP_OPEN else ""


def contribution_card_replace_start(*, contribution: Contribution) -> str:
    """The client secret of a SetupIntent (usage off_session) for the contribution's own customer, which the
    page confirms with Stripe.js (confirmCardSetup). Asking again while one waits returns that one."""
    contribution = contribution_loaded(contribution)
    recurring_check(contribution, allowed=_CARD_ALLOWED)
    if not contribution.provider_customer_id:
        raise ChangeRefused("not_recurring", "This contribution has no card of its own to replace.")
    with gateway.account_use(account_for(contribution.newsroom)):
        secret = _waiting_secret(contribution)
        if secret:
            return secret

        def check(row: Contribution) -> bool:
            recurring_check(row, allowed=_CARD_ALLOWED)
            return True

        change = change_claim(
            contribution=contribution, kind=Change.Kind.CARD, parameters={}, check=check, done_is_final=False
        )
        if change is None:
            raise ChangeRefused("in_progress", "A new card is being set up; try again shortly.")
        metadata = {**ledger.provider_metadata(contribution), CHANGE_KEY: change.request_key}
        try:
            setup = gateway.setup_intent_create(
                payment_method_types=["card"],
                metadata=metadata,
                customer_id=contribution.provider_customer_id,
                idempotency_key=f"{change.request_key}:setup",
            )
        except GatewayError as error:
            change_fail(change=change, error=error.kind)
            raise
    Change.objects.filter(id=change.id).update(setup_intent_id=setup.id, status=Change.Status.WAITING)
    return setup.client_secret


def _change_for(contribution: Contribution, setup_intent_id: str) -> ContributionChange | None:
    """Claim the card change of this SetupIntent for this request; None when it is done or in flight."""
    with transaction.atomic():
        Contribution.objects.select_for_update().get(id=contribution.id)
        change = contribution.changes.filter(kind=Change.Kind.CARD, setup_intent_id=setup_intent_id).first()
        if change is None or not setup_intent_id:
            raise ChangeRefused("foreign_setup", "This card was not set up for this contribution.")
        if change.status == Change.Status.FAILED:
            raise ChangeRefused(change.error or "foreign_setup", "This card cannot be used; set up another one.")
        if change.status == Change.Status.DONE:
            return None
        if change.status == Change.Status.PENDING and change.updated_at >= timezone.now() - LEASE:
            return None
        change.status = Change.Status.PENDING
        change.save(update_fields=["status", "updated_at"])
        return change


def _refuse(change: ContributionChange, code: str, message: str) -> ChangeRefused:
    change_fail(change=change, error=code)
    return ChangeRefused(code, message)


def _card_checked(contribution: Contribution, change: ContributionChange) -> GatewayPaymentMethod:
    """The confirmed SetupIntent's card, once everything says it is this contribution's."""
    setup = gateway.setup_intent_get(setup_intent_id=change.setup_intent_id)
    ours = (
        setup.metadata.get(ledger.CHECKOUT_KEY) == contribution.request_key
        and setup.metadata.get(CHANGE_KEY) == change.request_key
        and setup.customer == contribution.provider_customer_id
    )
    if not ours:
        raise _refuse(change, "foreign_setup", "This card was not set up for this contribution.")
    if setup.status != "succeeded" or not setup.payment_method:
        # The page may confirm it again (3-D Secure abandoned): the change waits for it.
        Change.objects.filter(id=change.id).update(status=Change.Status.WAITING)
        raise ChangeRefused("setup_unfinished", "The card was not confirmed with the bank.")
    method = gateway.payment_method_get(payment_method_id=setup.payment_method)
    if method.customer and method.customer != contribution.provider_customer_id:
        raise _refuse(change, "foreign_setup", "This card belongs to another contribution.")
    risky = contribution.newsroom.risk_country_codes
    if risky and method.country in risky:
        # As at the checkout: the country is not stored, only that this card was refused.
        if method.customer:
            gateway.payment_method_detach(payment_method_id=method.id, idempotency_key=f"{change.request_key}:detach")
        raise _refuse(change, "risk_country", "This card cannot be accepted.")
    return method


def _card_make_default(contribution: Contribution, change: ContributionChange, method: GatewayPaymentMethod) -> None:
    key = change.request_key
    customer_id = contribution.provider_customer_id
    if not method.customer:  # Stripe attaches it when the SetupIntent names the customer; check anyway
        try:
            gateway.payment_method_attach(
                payment_method_id=method.id, customer_id=customer_id, idempotency_key=f"{key}:attach"
            )
        except PaymentDeclined as error:
            raise _refuse(change, "card_declined", "The bank declined this card.") from error
    gateway.customer_default_payment_method_set(
        customer_id=customer_id, payment_method_id=method.id, idempotency_key=f"{key}:default-method"
    )


def _unpaid_renewal_pay(contribution: Contribution, change: ContributionChange) -> None:
    """A past-due plan's open latest invoice, paid now with the new card, and synced to the ledger."""
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    invoice = subscription.invoice
    if invoice is None or invoice.paid or invoice.status != "open":
        return
    try:
        gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=f"{change.request_key}:pay")
    except PaymentDeclined:
        logger.info("the new card of contribution %s was declined for its unpaid renewal", contribution.id)
    ledger.invoice_sync(newsroom=contribution.newsroom, invoice_id=invoice.id)


def contribution_card_replace_finish(*, contribution: Contribution, setup_intent_id: str) -> Contribution:
    """The confirmed SetupIntent's card becomes this contribution's card (its own customer's default), and
    an unpaid renewal is paid with it. Calling it again for the same SetupIntent changes nothing."""
    contribution = contribution_loaded(contribution)
    recurring_check(contribution, allowed=_CARD_ALLOWED)
    change = _change_for(contribution, setup_intent_id)
    if change is None:
        return contribution_loaded(contribution)
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            method = _card_checked(contribution, change)
            _card_make_default(contribution, change, method)
        except GatewayError as error:
            change_fail(change=change, error=error.kind)
            raise
        with transaction.atomic():
            row = (
                Contribution.objects.select_for_update().select_related("newsroom", "supporter").get(id=contribution.id)
            )
            row.provider_payment_method_id, row.payment_method_type = method.id, method.type or "card"
            row.save(update_fields=["provider_payment_method_id", "payment_method_type", "updated_at"])
            change_done(change=change)
            plan_changed_notify(
                contribution=row, kind=Change.Kind.CARD, change_key=change.request_key, last4=method.last4
            )
        if row.status == Status.PAST_DUE:
            _unpaid_renewal_pay(row, change)
    return contribution_loaded(contribution)

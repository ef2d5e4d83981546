"""Checkout services: start a contribution, then pay it, without ever charging twice.

How a double click, a reload or a retried request never charges twice:
1. Our record comes first. The page carries a request_key made when it was rendered; `contribution_start`
   get-or-creates the Contribution by that unique key, so every retry lands on the same row.
2. Before the first create call at Stripe, `attempt_begin` commits `provider_attempted_at` (a marker that a
   create may have reached Stripe). The create then runs inside a transaction holding the row lock, so a
   concurrent double click waits and afterwards finds the stored id.
3. Every object we create carries metadata {"checkout": request_key, "contribution": id} and an idempotency
   key derived from the row.
   If a request dies after Stripe created the object but before we stored its id, the marker is set and the
   id is empty: the retry looks the object up by metadata (Stripe: search; localstripe: list) and reuses it.
   On Stripe the idempotency key returns the very same object as well; localstripe ignores keys, so the
   lookup is what holds there (tests/checkout/test_services.py breaks a request in exactly that spot).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from readerfund.checkout import recurring
from readerfund.checkout.messages import decline_key, message
from readerfund.checkout.validation import CheckoutProblem, CheckoutRequest
from readerfund.core.privacy import lookup_hash
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution, Frequency, Supporter
from readerfund.payments.provider import GatewayUnavailable

Status = Contribution.Status
FINISHED = {Status.SUCCEEDED, Status.ACTIVE}
DEAD = {Status.FAILED, Status.CANCELED, Status.REFUSED}


def request_key_new() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class CheckoutOutcome:
    """What the page does next. state: setup | pay | action | done | processing | failed | refused."""

    state: str
    contribution: Contribution
    client_secret: str = ""  # setup: for confirmCardSetup / confirmSepaDebitSetup; action: confirmCardPayment
    error_key: str = ""


def supporter_for(*, newsroom: Newsroom, email: str, name: str, locale: str) -> Supporter:
    """One supporter per address and newsroom, found by a keyed hash (the address is stored encrypted)."""
    email_hash = lookup_hash(email, scope=f"supporter:{newsroom.id}")
    defaults = {"email": email, "name": name, "locale": locale}
    try:
        with transaction.atomic():
            supporter, created = Supporter.objects.get_or_create(
                newsroom=newsroom, email_hash=email_hash, defaults=defaults
            )
    except IntegrityError:
        supporter, created = Supporter.objects.get(newsroom=newsroom, email_hash=email_hash), False
    if not created and name and not supporter.name:
        # Only fill a missing name: anyone can type someone else's address into the checkout, so a
        # checkout that hasn't paid must not rewrite what an existing supporter gave us.
        supporter.name = name
        supporter.save(update_fields=["name"])
    return supporter


def _outcome(contribution: Contribution, *, client_secret: str = "") -> CheckoutOutcome:
    status = contribution.status
    if status in FINISHED:
        return CheckoutOutcome("done", contribution)
    if status == Status.REFUSED:
        return CheckoutOutcome("refused", contribution)
    if status == Status.REQUIRES_ACTION:
        if client_secret:
            return CheckoutOutcome("action", contribution, client_secret=client_secret)
        return CheckoutOutcome("pay", contribution)
    if status in DEAD:
        reason = contribution.failure_reason
        return CheckoutOutcome("failed", contribution, error_key=decline_key(code=reason, decline_code=reason))
    if status == Status.PENDING and (contribution.provider_payment_intent_id or contribution.provider_subscription_id):
        return CheckoutOutcome("processing", contribution)
    return CheckoutOutcome("failed", contribution, error_key="generic")


def contribution_start(*, newsroom: Newsroom, request: CheckoutRequest) -> CheckoutOutcome:
    """Write our record first (by request_key), then make a SetupIntent the page confirms with the card
    or IBAN. A retry of a finished checkout answers 'done' instead of starting anything."""
    with transaction.atomic():
        supporter = supporter_for(newsroom=newsroom, email=request.email, name=request.name, locale=request.locale)
        contribution, created = Contribution.objects.select_for_update().get_or_create(
            request_key=request.request_key,
            defaults={
                "newsroom": newsroom,
                "supporter": supporter,
                "frequency": request.frequency,
                "amount": request.money.amount,
                "currency": request.money.currency,
                "payment_method_type": request.method,
                "campaign": request.campaign,
                "variant": request.variant,
                "receipt_requested": request.receipt,
                "locale": request.locale,
                "return_url": request.return_url,
            },
        )
        if contribution.newsroom_id != newsroom.id:
            raise CheckoutProblem("expired_page", message("expired_page", locale=request.locale))
        if not created:
            if contribution.status in FINISHED or contribution.status in DEAD:
                return _outcome(contribution)
            if contribution.provider_attempted_at is None:
                # Nothing reached Stripe's charging side yet: the reader may have changed their mind.
                contribution.supporter = supporter
                contribution.frequency = request.frequency
                contribution.amount = request.money.amount
                contribution.currency = request.money.currency
                contribution.receipt_requested = request.receipt
                contribution.locale = request.locale
                contribution.save()
            else:
                # An earlier request reached Stripe (or may have): finish that one instead of starting over.
                return CheckoutOutcome("pay", contribution)
    return _setup_intent_for(contribution=contribution, method=request.method)


def _setup_intent_for(*, contribution: Contribution, method: str) -> CheckoutOutcome:
    previous = contribution.provider_setup_intent_id
    if previous and contribution.payment_method_type == method:
        setup = gateway.setup_intent_get(setup_intent_id=previous)
        if setup.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
            return CheckoutOutcome("setup", contribution, client_secret=setup.client_secret)
    key = f"contribution-{contribution.id}-setup" + (f"-after-{previous}" if previous else "")
    setup = gateway.setup_intent_create(
        payment_method_types=[method],
        metadata=ledger.provider_metadata(contribution),
        idempotency_key=key,
    )
    Contribution.objects.filter(id=contribution.id).update(
        provider_setup_intent_id=setup.id, payment_method_type=method, updated_at=timezone.now()
    )
    contribution.provider_setup_intent_id = setup.id
    contribution.payment_method_type = method
    return CheckoutOutcome("setup", contribution, client_secret=setup.client_secret)


def attempt_begin(*, contribution: Contribution) -> bool:
    """Commit the marker that a create call may reach Stripe. True if an earlier attempt set it."""
    with transaction.atomic():
        row = Contribution.objects.select_for_update().get(id=contribution.id)
        if row.provider_attempted_at is not None:
            return True
        row.provider_attempted_at = timezone.now()
        row.save(update_fields=["provider_attempted_at", "updated_at"])
        return False


def _refuse_if_risky(*, contribution: Contribution, payment_method_id: str) -> bool:
    """Read the card's (or IBAN's) country before anything is charged; refuse listed countries."""
    risky = contribution.newsroom.risk_country_codes
    method = gateway.payment_method_get(payment_method_id=payment_method_id)
    Contribution.objects.filter(id=contribution.id).update(provider_payment_method_id=payment_method_id)
    if risky and method.country in risky:
        # The country is not stored: only that this attempt was refused.
        Contribution.objects.filter(id=contribution.id).update(
            status=Status.REFUSED, failure_reason="risk_country", updated_at=timezone.now()
        )
        contribution.status = Status.REFUSED
        return True
    return False


def _one_off_pay(*, contribution: Contribution, payment_method_id: str, earlier: bool) -> CheckoutOutcome:
    with transaction.atomic():
        row = Contribution.objects.select_for_update().select_related("newsroom").get(id=contribution.id)
        intent = None
        if row.provider_payment_intent_id:
            intent = gateway.payment_intent_get(intent_id=row.provider_payment_intent_id)
        elif earlier:
            intent = gateway.payment_intent_find(metadata_key=ledger.CHECKOUT_KEY, metadata_value=row.request_key)
        if intent is None:
            intent = gateway.payment_intent_create(
                amount=row.amount,
                currency=row.currency,
                payment_method_id=payment_method_id,
                payment_method_type=row.payment_method_type,
                metadata=ledger.provider_metadata(row),
                statement_descriptor=row.newsroom.statement_descriptor,
                idempotency_key=f"contribution-{row.id}-intent",
            )
        row = ledger.contribution_apply_intent(contribution=row, intent=intent)
    return _outcome(row, client_secret=intent.client_secret)


def contribution_pay(*, contribution: Contribution) -> CheckoutOutcome:
    """Charge (one-off) or subscribe (recurring) with the payment method the page set up, or report the
    state of what an earlier request already created. Safe to call any number of times."""
    contribution.refresh_from_db()
    if contribution.status in FINISHED or contribution.status in DEAD:
        return _outcome(contribution)
    started = bool(
        contribution.provider_payment_intent_id
        or contribution.provider_subscription_id
        or contribution.provider_attempted_at
    )
    payment_method_id = contribution.provider_payment_method_id
    if not started:
        setup = (
            gateway.setup_intent_get(setup_intent_id=contribution.provider_setup_intent_id)
            if contribution.provider_setup_intent_id
            else None
        )
        if setup is None or setup.status != "succeeded" or not setup.payment_method:
            return CheckoutOutcome("failed", contribution, error_key="authentication_failed")
        payment_method_id = setup.payment_method
        if _refuse_if_risky(contribution=contribution, payment_method_id=payment_method_id):
            return CheckoutOutcome("refused", contribution)
    earlier = attempt_begin(contribution=contribution)
    try:
        if contribution.frequency == Frequency.ONE_OFF:
            return _one_off_pay(contribution=contribution, payment_method_id=payment_method_id, earlier=earlier)
        row, client_secret = recurring.recurring_pay(
            contribution=contribution, payment_method_id=payment_method_id, earlier=earlier
        )
    except GatewayUnavailable as error:
        # A create may have reached Stripe without us hearing back: we can't say "nothing was charged",
        # but we can promise the retry won't charge again (see the module docstring).
        locale = contribution.locale
        raise CheckoutProblem("unconfirmed", message("unconfirmed", locale=locale), status=503) from error
    return _outcome(row, client_secret=client_secret)

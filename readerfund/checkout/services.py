"""Checkout services: start a contribution, then pay it, without ever charging twice.

How a double click, a reload or a retried request never charges twice:
1. Our record comes first. The page carries a request_key (kept in the tab's sessionStorage across
   reloads); `contribution_start` get-or-creates the Contribution by that unique key, so every retry lands
   on the same row.
2. Before the first create call at Stripe, `attempt_claim` commits `provider_attempted_at`, a lease held
   while this request talks to Stripe (checkout/attempts.py). A concurrent double click finds the lease
   and is told to ask again; it never waits on a database lock, since no transaction is open during a
   provider call (the gateway refuses one).
3. Every object we create carries metadata {"checkout": request_key, "contribution": id} and an idempotency
   key `<request_key>:<step>`, unique per deployment (a bare row id repeats after a restore).
   If a request dies after Stripe created the object but before we stored its id, the marker is set and the
   id is empty: the next request looks the object up by metadata (Stripe: search; localstripe: list) and
   reuses it. On Stripe the idempotency key returns the very same object as well; localstripe ignores keys,
   so the lookup is what holds there (tests/checkout/test_services.py breaks a request in exactly that spot).

All provider calls run with the newsroom's own Stripe account (payments/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from readerfund.checkout import card_testing, recurring
from readerfund.checkout.attempts import attempt_claim, attempt_release
from readerfund.checkout.messages import decline_key, message
from readerfund.checkout.validation import CheckoutProblem, CheckoutRequest
from readerfund.core.privacy import lookup_hash
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Contribution, Frequency, Supporter, request_key_new
from readerfund.payments.provider import (
    GatewayPaymentMethod,
    GatewaySetupIntent,
    GatewayUnavailable,
    PaymentDeclined,
)
from readerfund.payments.transitions import Signal

Status = Contribution.Status
FINISHED = {Status.SUCCEEDED, Status.ACTIVE}
DEAD = {Status.FAILED, Status.CANCELED, Status.REFUSED}


__all__ = ["CheckoutOutcome", "contribution_pay", "contribution_start", "request_key_new", "supporter_for"]


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
    changed = False
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
                # Only the reader's choices: the status and provider ids are the ledger's to write.
                contribution.save(
                    update_fields=[
                        "supporter",
                        "frequency",
                        "amount",
                        "currency",
                        "receipt_requested",
                        "locale",
                        "updated_at",
                    ]
                )
            elif _same_choice(contribution, request):
                # An earlier request reached Stripe (or may have): finish that one instead of starting over.
                return CheckoutOutcome("pay", contribution)
            else:
                changed = True
    with gateway.account_use(account_for(newsroom)):
        if changed:
            try:
                return _changed_after_attempt(contribution=contribution, locale=request.locale)
            except GatewayUnavailable as error:
                # An earlier request of this checkout reached Stripe: "nothing was charged" may be untrue.
                raise CheckoutProblem(
                    "unconfirmed", message("unconfirmed", locale=request.locale), status=503
                ) from error
        return _setup_intent_for(contribution=contribution, method=request.method)


def _same_choice(contribution: Contribution, request: CheckoutRequest) -> bool:
    money = request.money
    return (contribution.amount, contribution.currency, contribution.frequency) == (
        money.amount,
        money.currency,
        request.frequency,
    )


def _changed_after_attempt(*, contribution: Contribution, locale: str) -> CheckoutOutcome:
    """The tab's saved checkout reached Stripe, and the reader now asks for another amount or frequency
    (say they left 3-D Secure unfinished and chose again). Finish nothing they no longer want, and charge
    twice nothing: what Stripe holds decides."""
    state = _started_state(contribution)
    if state is None or state.state in ("done", "processing", "pay"):
        # Paid, on its way, or not known yet (a lost answer): that one is what happened; say so.
        return state or CheckoutOutcome("pay", contribution)
    # Waiting for 3-D Secure, failed or refused: nothing was charged for it, so a new checkout may start.
    raise CheckoutProblem(
        "earlier_unfinished",
        message("earlier_unfinished", locale=locale),
        status=409,
        next_request_key=request_key_new(),
    )


def _setup_intent_for(*, contribution: Contribution, method: str) -> CheckoutOutcome:
    previous = contribution.provider_setup_intent_id
    if previous and contribution.payment_method_type == method:
        setup = gateway.setup_intent_get(setup_intent_id=previous)
        if setup.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
            return CheckoutOutcome("setup", contribution, client_secret=setup.client_secret)
    key = f"{contribution.request_key}:setup" + (f"-after-{previous}" if previous else "")
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


def _refuse_if_risky(*, contribution: Contribution, method: GatewayPaymentMethod) -> bool:
    """Refuse cards (or IBANs) of the newsroom's risk countries before anything is charged."""
    risky = contribution.newsroom.risk_country_codes
    Contribution.objects.filter(id=contribution.id).update(provider_payment_method_id=method.id)
    contribution.provider_payment_method_id = method.id
    if risky and method.country in risky:
        # The country is not stored: only that this attempt was refused.
        refused = ledger.contribution_status_apply(
            contribution_id=contribution.id, signal=Signal.RISK_REFUSED, reason="risk_country"
        )
        contribution.status = refused.status
        return True
    return False


def _setup_declined(*, contribution: Contribution, setup: GatewaySetupIntent) -> CheckoutOutcome:
    """The card was declined when the page set it up (at Stripe, before our pay): count it; the checkout
    stays open for another card until it has had too many (card_testing.checkout_cancel)."""
    method = gateway.payment_method_get(payment_method_id=setup.payment_method)
    card_testing.decline_record(
        newsroom=contribution.newsroom,
        payment_method_id=method.id,
        contribution=contribution,
        fingerprint=method.fingerprint,
    )
    if contribution.status in DEAD:
        return _outcome(contribution)
    return CheckoutOutcome("failed", contribution, error_key="card_declined")


def _one_off_pay(*, contribution: Contribution, payment_method_id: str, earlier: bool) -> CheckoutOutcome:
    intent = None
    if earlier:
        intent = gateway.payment_intent_find(metadata_key=ledger.CHECKOUT_KEY, metadata_value=contribution.request_key)
    if intent is None:
        intent = gateway.payment_intent_create(
            amount=contribution.amount,
            currency=contribution.currency,
            payment_method_id=payment_method_id,
            payment_method_type=contribution.payment_method_type,
            metadata=ledger.provider_metadata(contribution),
            statement_descriptor=contribution.newsroom.statement_descriptor,
            idempotency_key=f"{contribution.request_key}:intent",
        )
    row = ledger.contribution_apply_intent(contribution=contribution, intent=intent)
    return _outcome(row, client_secret=intent.client_secret)


def _started_state(contribution: Contribution) -> CheckoutOutcome | None:
    """What Stripe says now about an object this checkout already made; None if it made none yet."""
    if contribution.provider_payment_intent_id:
        intent = gateway.payment_intent_get(intent_id=contribution.provider_payment_intent_id)
        row = ledger.contribution_apply_intent(contribution=contribution, intent=intent)
        return _outcome(row, client_secret=intent.client_secret)
    if contribution.provider_subscription_id:
        row, client_secret = recurring.recurring_state(contribution=contribution)
        return _outcome(row, client_secret=client_secret)
    return None


def contribution_pay(*, contribution: Contribution) -> CheckoutOutcome:
    """Charge (one-off) or subscribe (recurring) with the payment method the page set up, or report the
    state of what an earlier request already created. Safe to call any number of times, at once too."""
    contribution = Contribution.objects.select_related("newsroom", "supporter").get(id=contribution.id)
    if contribution.status in FINISHED or contribution.status in DEAD:
        return _outcome(contribution)
    with gateway.account_use(account_for(contribution.newsroom)):
        try:
            return _pay(contribution)
        except GatewayUnavailable as error:
            # A create may have reached Stripe without us hearing back: we can't say "nothing was charged",
            # but we can promise the retry won't charge again (see the module docstring).
            raise CheckoutProblem(
                "unconfirmed", message("unconfirmed", locale=contribution.locale), status=503
            ) from error


def _pay(contribution: Contribution) -> CheckoutOutcome:
    started = _started_state(contribution)
    if started is not None:
        return started
    payment_method_id = contribution.provider_payment_method_id
    if contribution.provider_attempted_at is None:
        setup = (
            gateway.setup_intent_get(setup_intent_id=contribution.provider_setup_intent_id)
            if contribution.provider_setup_intent_id
            else None
        )
        if setup is not None and setup.declined:
            return _setup_declined(contribution=contribution, setup=setup)
        if setup is None or setup.status != "succeeded" or not setup.payment_method:
            return CheckoutOutcome("failed", contribution, error_key="authentication_failed")
        method = gateway.payment_method_get(payment_method_id=setup.payment_method)
        payment_method_id = method.id
        if _refuse_if_risky(contribution=contribution, method=method):
            return CheckoutOutcome("refused", contribution)
        # Raises CardBlocked before any charge: the card was declined or charged too often here today.
        card_testing.card_guard(
            newsroom=contribution.newsroom, fingerprint=method.fingerprint, request_key=contribution.request_key
        )
    claim = attempt_claim(contribution=contribution)
    if not claim.owner:
        # Another request for this checkout is talking to Stripe right now: the page asks again shortly.
        return CheckoutOutcome("pay", contribution)
    try:
        outcome = _charge(contribution=contribution, payment_method_id=payment_method_id, earlier=claim.earlier)
    except PaymentDeclined:
        _charge_declined(contribution=contribution, payment_method_id=payment_method_id)
        raise
    finally:
        attempt_release(contribution=contribution)
    if outcome.state == "failed" and outcome.contribution.status == Status.FAILED:
        _charge_declined(contribution=contribution, payment_method_id=payment_method_id)
    return outcome


def _charge(*, contribution: Contribution, payment_method_id: str, earlier: bool) -> CheckoutOutcome:
    if contribution.frequency == Frequency.ONE_OFF:
        return _one_off_pay(contribution=contribution, payment_method_id=payment_method_id, earlier=earlier)
    row, client_secret = recurring.recurring_pay(
        contribution=contribution, payment_method_id=payment_method_id, earlier=earlier
    )
    return _outcome(row, client_secret=client_secret)


def _charge_declined(*, contribution: Contribution, payment_method_id: str) -> None:
    # The checkout is failed already (a decline at charging ends it); the card and the newsroom count it.
    fingerprint = ""
    if payment_method_id:
        fingerprint = gateway.payment_method_get(payment_method_id=payment_method_id).fingerprint
    card_testing.decline_record(
        newsroom=contribution.newsroom,
        payment_method_id=payment_method_id,
        fingerprint=fingerprint,
        charge_counted=True,
    )

"""The card-testing defence: velocity limits, a circuit breaker, declines counted, a proof of work.

Card testers run thousands of stolen numbers through a donation form to learn which are live. What holds
them off here, each limit a setting (README, "Configuration"):

- starts per IP and per e-mail address (hard limits, 429);
- past a few starts from one IP, or many at one newsroom, or while the newsroom's circuit breaker is open
  (its decline rate jumped), a start needs a proof of work solved in the browser (checkout/proof.py);
- per card fingerprint and newsroom: how many checkouts one card is charged in, and how many declines it
  has had, before we charge it (the fingerprint is Stripe's: the same card gives the same one at one
  account, whatever address, IP or X-Forwarded-For it comes with);
- per checkout (one client secret): after CHECKOUT_LIMIT_INTENT_DECLINES declined confirmations its intent
  is cancelled at Stripe, outside any transaction, and the checkout is failed, so the secret tests no more.

Declines are counted once each, by their payment method (one per card typed), whether our pay endpoint or a
webhook (payment_intent.payment_failed, setup_intent.setup_failed) saw them first. Every window is a keyed
hash in core/ratelimit.py; what the defence did is counted per newsroom and day (`DefenceCount`), with
nothing about the reader, their address or their card.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from readerfund.checkout.models import DefenceCount
from readerfund.checkout.proof import challenge_new, proof_check
from readerfund.core.counting import counter_add
from readerfund.core.ratelimit import RateLimited, rate_limit_count, rate_limit_first, rate_limit_hit, rate_limit_peek
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution
from readerfund.payments.provider import GatewayError
from readerfund.payments.transitions import Signal

logger = logging.getLogger(__name__)

# What DefenceCount counts. Blocks: a request refused. The rest: what the defence saw or did.
KINDS = (
    "blocked_ip",  # starts per IP
    "blocked_email",  # starts per address
    "blocked_pay_ip",  # pay calls per IP
    "blocked_card",  # a card charged in too many checkouts, or declined too often
    "proof_missing",  # a start that needed a proof of work came without one
    "proof_invalid",  # ... with a wrong, expired or another newsroom's one
    "proof_replayed",  # ... with one already used
    "proof_passed",  # a start with a good proof of work
    "decline",  # a declined confirmation, counted once
    "intent_cancelled",  # a checkout cancelled after too many declines
)
DECLINE_MEMORY = timedelta(days=2)  # a decline is counted once even if its webhook comes a day late
INTENT_WINDOW = 7 * 86400  # a checkout's declines are counted for its whole life


class ProofRequired(Exception):
    """A start needs a (new) proof of work. `reason`: what was wrong with the one sent, or "missing"."""

    def __init__(self, *, reason: str, challenge: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.challenge = challenge


class CardBlocked(Exception):
    """This card may not be charged at this newsroom now (too many checkouts or declines today)."""


def defence_count(*, newsroom: Newsroom, kind: str) -> None:
    counter_add(
        DefenceCount,
        key={"newsroom": newsroom, "day": timezone.localdate(), "kind": kind},
        increments={"count": 1},
    )


def _hit(*, newsroom: Newsroom, scope: str, key: str, limit: tuple[int, int], kind: str) -> None:
    try:
        rate_limit_hit(scope=scope, key=key, limit=limit[0], window_seconds=limit[1])
    except RateLimited:
        defence_count(newsroom=newsroom, kind=kind)
        raise


def source_limit(*, newsroom: Newsroom, ip: str) -> None:
    """Starts per IP: counted before the request is even read, so garbage counts too."""
    _hit(newsroom=newsroom, scope="checkout:ip", key=ip, limit=settings.CHECKOUT_LIMIT_IP, kind="blocked_ip")


def pay_limit(*, newsroom: Newsroom, ip: str) -> None:
    _hit(newsroom=newsroom, scope="checkout:pay", key=ip, limit=settings.CHECKOUT_LIMIT_PAY_IP, kind="blocked_pay_ip")


def _newsroom_key(newsroom: Newsroom) -> str:
    return str(newsroom.id)


def breaker_open(*, newsroom: Newsroom) -> bool:
    """Declines at this newsroom in the window reached the setting's count and rate (declines over charge
    attempts): card testing, most likely, so every start there needs a proof of work for now."""
    count, window = settings.CHECKOUT_BREAKER_DECLINES
    key = _newsroom_key(newsroom)
    declines = rate_limit_peek(scope="checkout:newsroom-declines", key=key, window_seconds=window)
    if declines < count:
        return False
    attempts = rate_limit_peek(scope="checkout:newsroom-attempts", key=key, window_seconds=window)
    return declines >= settings.CHECKOUT_BREAKER_RATE * max(attempts, declines)


def _proof_needed(*, newsroom: Newsroom, ip: str) -> bool:
    per_ip, ip_window = settings.CHECKOUT_PROOF_AFTER_IP
    per_newsroom, newsroom_window = settings.CHECKOUT_PROOF_AFTER_NEWSROOM
    from_ip = rate_limit_count(scope="checkout:proof-ip", key=ip, window_seconds=ip_window)
    at_newsroom = rate_limit_count(
        scope="checkout:proof-newsroom", key=_newsroom_key(newsroom), window_seconds=newsroom_window
    )
    return from_ip > per_ip or at_newsroom > per_newsroom or breaker_open(newsroom=newsroom)


def start_guard(*, newsroom: Newsroom, ip: str, email: str, proof: Any) -> None:
    """Before a start may make anything at Stripe: the address's limit, then the proof of work if one is
    needed now. Raises RateLimited or ProofRequired (with a fresh challenge)."""
    _hit(
        newsroom=newsroom,
        scope="checkout:email",
        key=f"{newsroom.id}:{email}",
        limit=settings.CHECKOUT_LIMIT_EMAIL,
        kind="blocked_email",
    )
    if not _proof_needed(newsroom=newsroom, ip=ip):
        return
    verdict = proof_check(newsroom_id=newsroom.id, payload=proof)
    if verdict == "ok":
        defence_count(newsroom=newsroom, kind="proof_passed")
        return
    kind = {"missing": "proof_missing", "replayed": "proof_replayed"}.get(verdict, "proof_invalid")
    defence_count(newsroom=newsroom, kind=kind)
    raise ProofRequired(reason=verdict, challenge=challenge_new(newsroom_id=newsroom.id))


def card_guard(*, newsroom: Newsroom, fingerprint: str, request_key: str) -> None:
    """Before a card is charged: its declines and the checkouts it was charged in at this newsroom. Counts
    this checkout's charge attempt (for the breaker's rate as well), once however often its pay is called
    (a double click, a retry)."""
    card = f"{newsroom.id}:{fingerprint}"
    declines, decline_window = settings.CHECKOUT_LIMIT_CARD_DECLINES
    if (
        fingerprint
        and rate_limit_peek(scope="checkout:card-declines", key=card, window_seconds=decline_window) >= declines
    ):
        defence_count(newsroom=newsroom, kind="blocked_card")
        raise CardBlocked
    charges, charge_window = settings.CHECKOUT_LIMIT_CARD
    keep = timezone.now() + timedelta(seconds=max(charge_window, settings.CHECKOUT_BREAKER_DECLINES[1]))
    if not rate_limit_first(scope="checkout:charge-seen", key=f"{request_key}:{fingerprint}", keep_until=keep):
        count = rate_limit_peek(scope="checkout:card", key=card, window_seconds=charge_window) if fingerprint else 0
    else:
        rate_limit_count(
            scope="checkout:newsroom-attempts",
            key=_newsroom_key(newsroom),
            window_seconds=settings.CHECKOUT_BREAKER_DECLINES[1],
        )
        count = rate_limit_count(scope="checkout:card", key=card, window_seconds=charge_window) if fingerprint else 0
    if count > charges:
        defence_count(newsroom=newsroom, kind="blocked_card")
        raise CardBlocked


def decline_record(
    *,
    newsroom: Newsroom,
    payment_method_id: str,
    contribution: Contribution | None = None,
    fingerprint: str = "",
    charge_counted: bool = False,
) -> None:
    """One declined confirmation, counted once by its payment method whoever saw it first. `charge_counted`:
    card_guard already counted it as a charge attempt (a decline at charging, not at the card's set-up).
    Cancels the checkout after too many."""
    if not payment_method_id:
        return
    keep = timezone.now() + DECLINE_MEMORY
    if not rate_limit_first(scope="checkout:decline-seen", key=payment_method_id, keep_until=keep):
        return
    window = settings.CHECKOUT_BREAKER_DECLINES[1]
    key = _newsroom_key(newsroom)
    rate_limit_count(scope="checkout:newsroom-declines", key=key, window_seconds=window)
    if not charge_counted:
        rate_limit_count(scope="checkout:newsroom-attempts", key=key, window_seconds=window)
    if fingerprint:
        rate_limit_count(
            scope="checkout:card-declines",
            key=f"{newsroom.id}:{fingerprint}",
            window_seconds=settings.CHECKOUT_LIMIT_CARD_DECLINES[1],
        )
    defence_count(newsroom=newsroom, kind="decline")
    if contribution is None:
        return
    declines = rate_limit_count(
        scope="checkout:intent-declines", key=contribution.request_key, window_seconds=INTENT_WINDOW
    )
    if declines >= settings.CHECKOUT_LIMIT_INTENT_DECLINES:
        checkout_cancel(contribution=contribution)


def checkout_cancel(*, contribution: Contribution) -> None:
    """Too many declines on one checkout: cancel its intents at Stripe (no transaction is open: the gateway
    refuses a call inside one), then fail it here, so neither its client secret nor our pay endpoint can
    test or charge another card with it."""
    row = Contribution.objects.get(id=contribution.id)
    if row.status not in (Contribution.Status.PENDING, Contribution.Status.REQUIRES_ACTION):
        return
    key = f"{row.request_key}:cancel-declines"
    if row.provider_setup_intent_id:
        try:
            gateway.setup_intent_cancel(setup_intent_id=row.provider_setup_intent_id, idempotency_key=f"{key}:setup")
        except GatewayError as error:  # already succeeded or cancelled at Stripe: failing it here still holds
            logger.info("set-up not cancelled after declines: %s %s", error.kind, error.code)
    if row.provider_payment_intent_id:
        try:
            gateway.payment_intent_cancel(intent_id=row.provider_payment_intent_id, idempotency_key=f"{key}:intent")
        except GatewayError as error:
            logger.info("intent not cancelled after declines: %s %s", error.kind, error.code)
    failed = ledger.contribution_status_apply(
        contribution_id=row.id, signal=Signal.DECLINED, reason="too_many_declines"
    )
    contribution.status = failed.status
    contribution.failure_reason = failed.failure_reason
    defence_count(newsroom=row.newsroom, kind="intent_cancelled")


def decline_from_event(*, newsroom: Newsroom, obj: dict[str, Any]) -> None:
    """A payment_intent.payment_failed or setup_intent.setup_failed event: the intent's copy names the
    declined payment method (Stripe: in last_*_error; localstripe: payment_method) and our checkout (its
    metadata). The card's fingerprint is read from Stripe when the event does not carry it."""
    error = obj.get("last_payment_error") or obj.get("last_setup_error") or {}
    method = error.get("payment_method") or obj.get("payment_method") or ""
    payment_method_id = method.get("id", "") if isinstance(method, dict) else str(method)
    if not payment_method_id:
        return
    fingerprint = ""
    if isinstance(method, dict):
        fingerprint = str((method.get(method.get("type") or "card") or {}).get("fingerprint") or "")
    if not fingerprint:
        try:
            fingerprint = gateway.payment_method_get(payment_method_id=payment_method_id).fingerprint
        except GatewayError:
            fingerprint = ""
    request_key = (obj.get("metadata") or {}).get(ledger.CHECKOUT_KEY) or ""
    contribution = (
        Contribution.objects.select_related("newsroom").filter(newsroom=newsroom, request_key=request_key).first()
        if request_key
        else None
    )
    decline_record(
        newsroom=newsroom, payment_method_id=payment_method_id, contribution=contribution, fingerprint=fingerprint
    )

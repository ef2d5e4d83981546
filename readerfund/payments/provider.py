"""What a payment provider gives the ledger and the checkout, in our own types.

payments/gateway/ implements these for Stripe; a second provider would implement the same functions
returning the same dataclasses. No provider SDK is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class GatewayError(Exception):
    """A provider error in our words.

    `kind`: card | invalid | not_found | unavailable | rate_limited | idempotency_in_flight | idempotency |
    configuration | other. `retryable`: the same call may succeed later, unchanged (nothing was done).
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        kind: str = "other",
        code: str = "",
        decline_code: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code or ""
        self.decline_code = decline_code or ""
        self.http_status = http_status


class PaymentDeclined(GatewayError):
    """The card or bank refused: a reader can try another card."""


class GatewayUnavailable(GatewayError):
    """We could not reach the provider, or it failed: nothing new was charged by this call."""

    retryable = True


class GatewayRateLimited(GatewayUnavailable):
    """Too many requests (429 `rate_limit`), or the object is locked by another request (429 `lock_timeout`).

    `retry_after`: seconds from a Retry-After header, None without one (Stripe documents none: back off
    exponentially). `reason`: Stripe-Rate-Limited-Reason (global-rate, endpoint-concurrency, ...), a
    name of the limiter and not a duration; empty for a lock timeout.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, reason: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.reason = reason


class GatewayIdempotencyInFlight(GatewayUnavailable):
    """409 `idempotency_key_in_use`: a request with this key is still running at Stripe. Retry later with
    the same key: its answer will be the first request's."""


class GatewayIdempotencyConflict(GatewayError):
    """400 `idempotency_error`: this key was used before with other parameters or another endpoint.

    Our keys come from our own rows, so this is a bug of ours (a key reused for a different request):
    log it and refuse; retrying cannot help."""


class GatewayConfigurationError(GatewayError):
    """401 / 403: Stripe refused the secret key itself (wrong, revoked, or a restricted key without the
    permission). Not the reader's doing and not retryable until someone fixes the setting."""


class GatewayNotFound(GatewayError):
    pass


# Stripe's answers carry one of four `type`s (api_error, card_error, idempotency_error,
# invalid_request_error); rate limits, lock timeouts, bad keys and in-flight idempotent requests all
# arrive as invalid_request_error, told apart only by the HTTP status and `code`. The first rule that
# matches wins, so the order matters: a 429 is a rate limit whatever its type says.
_RATE_LIMIT_CODES = frozenset({"rate_limit", "lock_timeout"})
_CONFIGURATION_TYPES = frozenset({"authentication_error", "permission_error"})
_KIND_BY_TYPE = {"card_error": "card", "invalid_request_error": "invalid", "api_error": "unavailable"}
_CLASS_BY_KIND: dict[str, type[GatewayError]] = {
    "card": PaymentDeclined,
    "unavailable": GatewayUnavailable,
    "not_found": GatewayNotFound,
    "rate_limited": GatewayRateLimited,
    "idempotency_in_flight": GatewayIdempotencyInFlight,
    "idempotency": GatewayIdempotencyConflict,
    "configuration": GatewayConfigurationError,
}


def error_kind(*, error_type: str, code: str, http_status: int | None) -> str:
    """Our `kind` for Stripe's error `type`, `code` and the HTTP status of the answer."""
    status = http_status or 0
    # A 409 first: whatever its type says, the other request may still finish, so it is worth a retry.
    if code == "idempotency_key_in_use" or status == 409:
        return "idempotency_in_flight"
    if error_type == "idempotency_error":
        return "idempotency"
    if status == 429 or code in _RATE_LIMIT_CODES:
        return "rate_limited"
    if status in (401, 403) or error_type in _CONFIGURATION_TYPES:
        return "configuration"
    if status == 404 or code == "resource_missing":
        return "not_found"
    if status >= 500:
        return "unavailable"
    if status == 402:
        return "card"
    return _KIND_BY_TYPE.get(error_type, "other")


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After as seconds, when it is given as a number of seconds (Stripe documents no such header)."""
    value = _header(headers, "retry-after")
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: the caller backs off on its own schedule
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    # The SDK hands over requests' case-insensitive headers, tests and other HTTP clients a plain dict.
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _configuration_message(http_status: int | None) -> str:
    # Never Stripe's own message: for a bad key it repeats the key's prefix and last characters.
    if http_status == 403:
        return "The newsroom's Stripe key lacks a permission this request needs (restricted?): check STRIPE_SECRET_KEY."
    return "Stripe refused the newsroom's Stripe secret key (wrong, revoked or expired): check STRIPE_SECRET_KEY."


def error_from_payload(
    payload: dict[str, Any], *, http_status: int | None = None, headers: Mapping[str, str] | None = None
) -> GatewayError:
    """Build our error from Stripe's error object ({"type", "code", "decline_code", "message"}), the HTTP
    status of the answer and, for a rate limit, its headers."""
    code = payload.get("code") or ""
    kind = error_kind(error_type=payload.get("type") or "", code=code, http_status=http_status)
    message = payload.get("message") or "The payment provider refused the request."
    if kind == "configuration":
        message = _configuration_message(http_status)
    fields: dict[str, Any] = {
        "kind": kind,
        "code": code,
        "decline_code": payload.get("decline_code") or "",
        "http_status": http_status,
    }
    if kind == "rate_limited":
        return GatewayRateLimited(
            message,
            retry_after=retry_after_seconds(headers),
            reason=_header(headers, "stripe-rate-limited-reason"),
            **fields,
        )
    return _CLASS_BY_KIND.get(kind, GatewayError)(message, **fields)


@dataclass(frozen=True)
class GatewayLastError:
    code: str
    decline_code: str
    message: str


@dataclass(frozen=True)
class GatewayPaymentMethod:
    id: str
    type: str  # card | sepa_debit
    country: str  # issuing country of the card, or the IBAN's country
    last4: str
    customer: str
    # The same card (or IBAN) gives the same fingerprint in every checkout at one account: what the
    # card-testing limits count by. localstripe fills it as Stripe does (card.fingerprint).
    fingerprint: str = ""
    exp_month: int = 0  # a card's expiry as the provider reports it today (0: not a card)
    exp_year: int = 0


@dataclass(frozen=True)
class GatewaySetupIntent:
    id: str
    status: str
    client_secret: str
    payment_method: str
    customer: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # A declined confirmation: Stripe leaves the intent requires_payment_method with last_setup_error (its
    # payment method named there); localstripe marks it canceled, the declined card still its payment_method.
    declined: bool = False


@dataclass(frozen=True)
class GatewayIntent:
    id: str
    status: str  # requires_payment_method | requires_action | processing | succeeded | canceled ...
    amount: int
    currency: str  # upper case, as our Money
    client_secret: str
    customer: str
    payment_method: str
    last_error: GatewayLastError | None
    latest_charge: str = ""
    invoice: str = ""
    created: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    # Unix time of the latest charge (when the money moved), when the gateway read it; 0 if unknown.
    charged_at: int = 0


@dataclass(frozen=True)
class GatewayPlan:
    id: str
    amount: int
    currency: str
    interval: str  # month | year


@dataclass(frozen=True)
class GatewaySubscription:
    id: str
    status: str  # incomplete | active | past_due | canceled | incomplete_expired | unpaid | trialing
    customer: str
    plan_id: str
    amount: int
    currency: str
    interval: str
    latest_invoice: str
    payment_intent: GatewayIntent | None  # of the latest invoice, when it has one
    metadata: dict[str, str] = field(default_factory=dict)
    # The latest invoice itself, when the read expanded it (saves reading it again).
    invoice: GatewayInvoice | None = None
    item_id: str = ""  # its one subscription item (a plan change names it)
    current_period_end: int = 0  # Unix time the paid period ends
    cancel_at_period_end: bool = False
    # Unix time before which the provider charges nothing: a pause (pause_collection.resumes_at on
    # Stripe, a trial_end on the emulator; see gateway/recurring.py subscription_pause). 0: none.
    held_until: int = 0


@dataclass(frozen=True)
class GatewayInvoice:
    id: str
    status: str  # draft | open | paid | void | uncollectible
    paid: bool
    subscription: str
    customer: str
    amount_due: int
    amount_paid: int
    currency: str
    payment_intent: str
    charge: str
    attempt_count: int
    created: int
    paid_at: int = 0  # Unix time the provider marked it paid (status_transitions.paid_at); 0 if unpaid


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    amount: int
    currency: str
    status: str
    charge: str
    created: int


@dataclass(frozen=True)
class GatewayCharge:
    id: str
    status: str
    amount: int
    amount_refunded: int
    currency: str
    payment_intent: str
    invoice: str
    created: int
    refunds: list[GatewayRefund]


@dataclass(frozen=True)
class GatewayDispute:
    id: str
    # warning_needs_response | warning_under_review | warning_closed | needs_response | under_review | won | lost
    status: str
    amount: int
    currency: str
    charge: str
    payment_intent: str
    reason: str
    created: int
    # From the dispute's balance transactions: what was taken from the balance (net of any reinstatement)
    # and Stripe's dispute fee; None when the object carried no balance transactions.
    withdrawn: int | None
    fee: int
    fee_currency: str

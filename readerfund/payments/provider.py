"""What a payment provider gives the ledger and the checkout, in our own types.

payments/gateway/ implements these for Stripe; a second provider would implement the same functions
returning the same dataclasses. No provider SDK is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class GatewayError(Exception):
    """A provider error in our words. `kind`: card | invalid | not_found | unavailable | other."""

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


class GatewayNotFound(GatewayError):
    pass


def error_from_payload(payload: dict[str, Any], *, http_status: int | None = None) -> GatewayError:
    """Build our error from Stripe's error object ({"type", "code", "decline_code", "message"})."""
    kind_by_type = {"card_error": "card", "invalid_request_error": "invalid", "api_error": "unavailable"}
    kind = kind_by_type.get(payload.get("type") or "", "other")
    if http_status == 404 or payload.get("code") == "resource_missing":
        kind = "not_found"
    elif http_status == 402 and kind == "other":
        kind = "card"
    cls: type[GatewayError] = {
        "card": PaymentDeclined,
        "unavailable": GatewayUnavailable,
        "not_found": GatewayNotFound,
    }.get(kind, GatewayError)
    return cls(
        payload.get("message") or "The payment provider refused the request.",
        kind=kind,
        code=payload.get("code") or "",
        decline_code=payload.get("decline_code") or "",
        http_status=http_status,
    )


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


@dataclass(frozen=True)
class GatewaySetupIntent:
    id: str
    status: str
    client_secret: str
    payment_method: str


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

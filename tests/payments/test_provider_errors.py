"""Stripe's error answers -> our error types, with payloads as Stripe's documentation and real logs show them.

localstripe sends none of these (declines without decline_code, everything else as invalid_request_error),
so each documented answer runs three ways: straight through error_from_payload; through error_translate,
from the exception the SDK raises for it; and over loopback HTTP, from a stand-in Stripe answering with it,
through the real SDK and our gateway.

Sources: https://docs.stripe.com/api/errors (the four error types, HTTP statuses),
https://docs.stripe.com/declines/codes and /error-codes (codes), /rate-limits (429, lock_timeout,
Stripe-Rate-Limited-Reason), /idempotency; bodies of 401, 403, 409 and lock_timeout answers as Stripe sent
them in issues filed against stripe-node, dj-stripe and stripity-stripe.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from readerfund.checkout.messages import MESSAGES, decline_key, message
from readerfund.payments import gateway
from readerfund.payments.accounts import default_account
from readerfund.payments.provider import (
    GatewayConfigurationError,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayIdempotencyInFlight,
    GatewayNotFound,
    GatewayRateLimited,
    GatewayUnavailable,
    PaymentDeclined,
    error_from_payload,
    error_kind,
    retry_after_seconds,
)


@dataclass(frozen=True)
class Answer:
    """One error answer from Stripe, and what we must make of it."""

    status: int
    body: dict[str, Any] | str  # a str is a body that is not Stripe's JSON (a proxy's error page)
    sdk_class: type[stripe.StripeError]  # what stripe-python raises for it (checked over HTTP below)
    expected: type[GatewayError]
    kind: str
    code: str = ""
    decline_code: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    reason: str = ""

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"] if isinstance(self.body, dict) else {}


def _decline(decline_code: str, message: str = "Your card was declined.", *, code: str = "card_declined") -> Answer:
    error = {
        "charge": "ch_3NirD82eZvKYlo2C1J2Yb7hb",
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "param": "",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_sUO5hDqxf0dNGh?t=1693397734",
        "type": "card_error",
    }
    return Answer(402, {"error": error}, stripe.CardError, PaymentDeclined, "card", code, decline_code)


DECLINES = {
    "insufficient_funds": _decline("insufficient_funds", "Your card has insufficient funds."),
    # Stripe itself answers lost, stolen and fraudulent cards with the plain "Your card was declined."
    "lost_card": _decline("lost_card"),
    "stolen_card": _decline("stolen_card"),
    "fraudulent": _decline("fraudulent"),
    "do_not_honor": _decline("do_not_honor"),
    "generic_decline": _decline("generic_decline"),
    "expired_card": _decline("expired_card", "Your card has expired.", code="expired_card"),
    "incorrect_cvc": _decline("incorrect_cvc", "Your card's security code is incorrect.", code="incorrect_cvc"),
    "processing_error": _decline(
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
        code="processing_error",
    ),
    # Off-session charge of a card whose bank wants 3-D Secure (test card 4000 0027 6000 3184).
    "authentication_required": _decline(
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
        code="authentication_required",
    ),
}

# What the reader is told for each: lost, stolen and fraudulent get the plain decline, as Stripe advises.
DECLINE_KEYS = {
    "insufficient_funds": "insufficient_funds",
    "lost_card": "card_declined",
    "stolen_card": "card_declined",
    "fraudulent": "card_declined",
    "do_not_honor": "card_declined",
    "generic_decline": "card_declined",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "processing_error": "processing_error",
    "authentication_required": "authentication_failed",
}

KEY = "contribution-12-subscription"
RATE_LIMIT = {
    "code": "rate_limit",
    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
    "type": "invalid_request_error",
}
LOCK_TIMEOUT = {
    "code": "lock_timeout",
    "doc_url": "https://stripe.com/docs/error-codes/lock-timeout",
    "message": "This object cannot be accessed right now because another API request or Stripe process is currently "
    "accessing it. If you see this error intermittently, retry the request. If you see this error frequently "
    "and are making multiple concurrent requests to a single object, make your requests serially or at a lower "
    "rate.",
    "request_log_url": "https://dashboard.stripe.com/logs/req_red55E8FlXf3Nz?t=1681195609",
    "type": "invalid_request_error",
}
BAD_KEY = "Invalid API Key provided: sk_test_************************Aso0"
RESTRICTED_KEY = (
    "The provided key 'rk_test_*****************************************qs8Kgd' does not have the required "
    "permissions for this endpoint on account 'acct_1PJBLEBBLEfV'. Having the 'rak_payment_intent_write' "
    "permission would allow this request to continue."
)

OTHERS = {
    # Same key, different parameters: a bug of ours.
    "idempotency_error": Answer(
        400,
        {
            "error": {
                "message": "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{KEY}' if you meant to execute a different request.",
                "type": "idempotency_error",
            }
        },
        stripe.IdempotencyError,
        GatewayIdempotencyConflict,
        "idempotency",
    ),
    # Same key, the first request still running. The SDK has no class for a 409: it raises APIError.
    "idempotency_key_in_use": Answer(
        409,
        {
            "error": {
                "code": "idempotency_key_in_use",
                "doc_url": "https://stripe.com/docs/error-codes/idempotency-key-in-use",
                "message": "There is currently another in-progress request using this Idempotent Key (that probably "
                f"means you submitted twice, and the other request is still going through): {KEY}. Please try "
                "again later.",
                "type": "invalid_request_error",
            }
        },
        stripe.APIError,
        GatewayIdempotencyInFlight,
        "idempotency_in_flight",
        "idempotency_key_in_use",
    ),
    "rate_limit": Answer(
        429,
        {"error": RATE_LIMIT},
        stripe.RateLimitError,
        GatewayRateLimited,
        "rate_limited",
        "rate_limit",
        headers={"Stripe-Rate-Limited-Reason": "global-rate", "Request-Id": "req_9kcsYS4sBEdR6B"},
        reason="global-rate",
    ),
    # Stripe documents no Retry-After; a proxy in front of it, or a later Stripe, may add one.
    "rate_limit_with_retry_after": Answer(
        429,
        {"error": RATE_LIMIT},
        stripe.RateLimitError,
        GatewayRateLimited,
        "rate_limited",
        "rate_limit",
        headers={"Stripe-Rate-Limited-Reason": "endpoint-concurrency", "Retry-After": "3"},
        retry_after=3.0,
        reason="endpoint-concurrency",
    ),
    "lock_timeout": Answer(
        429, {"error": LOCK_TIMEOUT}, stripe.RateLimitError, GatewayRateLimited, "rate_limited", "lock_timeout"
    ),
    # Older API versions answered a rate limit with a 400; the SDK still raises RateLimitError for it.
    "rate_limit_as_400": Answer(
        400,
        {"error": {"code": "rate_limit", "message": "Request rate limit exceeded", "type": "invalid_request_error"}},
        stripe.RateLimitError,
        GatewayRateLimited,
        "rate_limited",
        "rate_limit",
    ),
    "api_error": Answer(
        500,
        {"error": {"message": "An unknown error occurred", "type": "api_error"}},
        stripe.APIError,
        GatewayUnavailable,
        "unavailable",
    ),
    "bad_gateway_page": Answer(
        502, "<html><body>502 Bad Gateway</body></html>", stripe.APIError, GatewayUnavailable, "unavailable"
    ),
    # A wrong key: Stripe says invalid_request_error and 401, and repeats part of the key in its message.
    "invalid_api_key": Answer(
        401,
        {"error": {"message": BAD_KEY, "type": "invalid_request_error"}},
        stripe.AuthenticationError,
        GatewayConfigurationError,
        "configuration",
    ),
    "restricted_key_without_permission": Answer(
        403,
        {"error": {"message": RESTRICTED_KEY, "type": "invalid_request_error"}},
        stripe.PermissionError,
        GatewayConfigurationError,
        "configuration",
    ),
    "resource_missing": Answer(
        404,
        {
            "error": {
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such payment_intent: 'pi_3MtwBwLkdIwHu7ix28a3tqPa'",
                "param": "intent",
                "request_log_url": "https://dashboard.stripe.com/test/logs/req_gYpF2fRiTdLdJa?t=1680197233",
                "type": "invalid_request_error",
            }
        },
        stripe.InvalidRequestError,
        GatewayNotFound,
        "not_found",
        "resource_missing",
    ),
    "parameter_missing": Answer(
        400,
        {
            "error": {
                "code": "parameter_missing",
                "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
                "message": "Missing required param: amount.",
                "param": "amount",
                "type": "invalid_request_error",
            }
        },
        stripe.InvalidRequestError,
        GatewayError,
        "invalid",
        "parameter_missing",
    ),
}

ANSWERS = {**DECLINES, **OTHERS}
CASES = [pytest.param(answer, id=name) for name, answer in ANSWERS.items()]
RETRYABLE = (GatewayUnavailable, GatewayRateLimited, GatewayIdempotencyInFlight)


def _check(error: GatewayError, answer: Answer) -> None:
    assert type(error) is answer.expected
    assert (error.kind, error.code, error.decline_code, error.http_status) == (
        answer.kind,
        answer.code,
        answer.decline_code,
        answer.status,
    )
    assert error.retryable is (answer.expected in RETRYABLE)
    # Callers that catch GatewayUnavailable (checkout: "try again, you won't be charged twice") still do.
    assert isinstance(error, GatewayUnavailable) is error.retryable
    if isinstance(error, GatewayRateLimited):
        assert (error.retry_after, error.reason) == (answer.retry_after, answer.reason)
    if answer.kind == "configuration":
        assert "Stripe" in error.message and "key" in error.message
        assert "_test_" not in error.message and "Aso0" not in error.message and "qs8Kgd" not in error.message


def _sdk_error(answer: Answer) -> stripe.StripeError:
    """The exception stripe-python builds for this answer (_api_requestor.specific_v1_api_error)."""
    error = answer.error
    body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
    json_body = answer.body if isinstance(answer.body, dict) else None
    common: dict[str, Any] = {
        "http_body": body,
        "http_status": answer.status,
        "json_body": json_body,
        "headers": answer.headers,
    }
    message = error.get("message") or f"Invalid response body from API: {body}"
    if answer.sdk_class in (stripe.CardError, stripe.InvalidRequestError):
        return answer.sdk_class(message, error.get("param"), error.get("code"), **common)  # type: ignore[call-arg]
    return answer.sdk_class(message, **common)


@pytest.mark.parametrize("answer", CASES)
def test_stripe_error_payload_becomes_our_error(answer: Answer) -> None:
    _check(error_from_payload(answer.error, http_status=answer.status, headers=answer.headers), answer)


@pytest.mark.parametrize("answer", CASES)
def test_sdk_exception_translates_to_our_error(answer: Answer) -> None:
    exc = _sdk_error(answer)
    assert type(exc) is answer.sdk_class
    _check(gateway.error_translate(exc), answer)


@pytest.mark.parametrize("name", DECLINES)
def test_every_documented_decline_gives_the_reader_a_sensible_message(name: str) -> None:
    error = error_from_payload(DECLINES[name].error, http_status=402)
    key = decline_key(code=error.code, decline_code=error.decline_code)
    assert key == DECLINE_KEYS[name]
    for locale in ("en", "ru"):
        assert message(key, locale=locale) == MESSAGES[locale][key]


@pytest.mark.parametrize("decline_code", ["lost_card", "stolen_card", "fraudulent", "merchant_blacklist"])
@pytest.mark.parametrize("code", ["card_declined", "incorrect_cvc", "expired_card", "processing_error"])
def test_fraud_hinting_declines_stay_generic_whatever_the_code(decline_code: str, code: str) -> None:
    assert decline_key(code=code, decline_code=decline_code) == "card_declined"


@pytest.mark.parametrize(
    ("error_type", "status", "kind"),
    [
        # Types some SDKs and older docs name; Stripe's answers say invalid_request_error, but if a body
        # ever says these, they mean the same as the 401 and 403.
        ("authentication_error", None, "configuration"),
        ("permission_error", None, "configuration"),
        ("card_error", None, "card"),
        ("invalid_request_error", None, "invalid"),
        ("api_error", None, "unavailable"),
        ("", 503, "unavailable"),
        ("", None, "other"),
        # A 409 is an in-flight request whatever the body says: retrying it is safe.
        ("idempotency_error", 409, "idempotency_in_flight"),
    ],
)
def test_error_kind_without_the_usual_status(error_type: str, status: int | None, kind: str) -> None:
    assert error_kind(error_type=error_type, code="", http_status=status) == kind


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),  # requests hands over case-insensitive headers, others lower-case
        ({"RETRY-AFTER": " 10 "}, 10.0),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),  # a date: back off on our own schedule
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Stripe-Rate-Limited-Reason": "global-concurrency"}, None),  # a limiter's name, not a duration
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_only(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds


# --- over HTTP: the SDK's own dispatch, requests' headers, our gateway -----------------------------------


class _StandInStripe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        answer = self.server.answer  # type: ignore[attr-defined]
        body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
        data = body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json" if isinstance(answer.body, dict) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in_stripe() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandInStripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("answer", CASES)
def test_stripe_answer_over_http_reaches_callers_as_our_error(
    answer: Answer, stand_in_stripe: ThreadingHTTPServer, settings: Any
) -> None:
    stand_in_stripe.answer = answer  # type: ignore[attr-defined]
    host, port = stand_in_stripe.server_address[:2]
    settings.STRIPE_API_BASE = f"http://{host!s}:{port}"  # and so no retries by the SDK
    with gateway.account_use(default_account()), pytest.raises(GatewayError) as raised:
        gateway.payment_intent_get(intent_id="pi_3MtwBwLkdIwHu7ix28a3tqPa")
    assert type(raised.value.__cause__) is answer.sdk_class
    _check(raised.value, answer)

"""Provider errors -> what the reader reads, with error payloads as Stripe's documentation shows them
(https://docs.stripe.com/declines/codes, https://docs.stripe.com/error-codes, https://docs.stripe.com/api/errors)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from readerfund.checkout.copy import script_messages
from readerfund.checkout.messages import MESSAGES, decline_key, message
from readerfund.payments import gateway
from readerfund.payments.provider import GatewayUnavailable, PaymentDeclined, error_from_payload

INSUFFICIENT_FUNDS = {
    "error": {
        "charge": "ch_1NirD82eZvKYlo2CIvbtLWuY",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "param": "",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_xxx?t=1693397734",
        "type": "card_error",
    }
}
EXPIRED_CARD = {
    "error": {
        "code": "expired_card",
        "doc_url": "https://stripe.com/docs/error-codes/expired-card",
        "message": "Your card has expired.",
        "param": "exp_month",
        "type": "card_error",
    }
}
INCORRECT_CVC = {
    "error": {
        "code": "incorrect_cvc",
        "doc_url": "https://stripe.com/docs/error-codes/incorrect-cvc",
        "message": "Your card's security code is incorrect.",
        "param": "cvc",
        "type": "card_error",
    }
}
GENERIC_DECLINE = {
    "error": {
        "code": "card_declined",
        "decline_code": "generic_decline",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card was declined.",
        "type": "card_error",
    }
}
STOLEN_CARD = {
    "error": {
        "code": "card_declined",
        "decline_code": "stolen_card",
        "message": "Your card was declined.",
        "type": "card_error",
    }
}
PROCESSING_ERROR = {
    "error": {
        "code": "processing_error",
        "doc_url": "https://stripe.com/docs/error-codes/processing-error",
        "message": "An error occurred while processing your card. Try again in a little bit.",
        "type": "card_error",
    }
}
AUTHENTICATION_FAILURE = {
    "error": {
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data or "
        "a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
        "type": "invalid_request_error",
    }
}
API_ERROR = {"error": {"message": "An unknown error occurred", "type": "api_error"}}


@pytest.mark.parametrize(
    ("payload", "key", "english"),
    [
        (INSUFFICIENT_FUNDS, "insufficient_funds", "Your card has insufficient funds. Nothing was charged."),
        (EXPIRED_CARD, "expired_card", "Your card has expired."),
        (INCORRECT_CVC, "incorrect_cvc", "security code (CVC) is incorrect"),
        (GENERIC_DECLINE, "card_declined", "Your card was declined. Nothing was charged."),
        # Fraud-related codes get the plain decline, as Stripe advises.
        (STOLEN_CARD, "card_declined", "Your card was declined."),
        (PROCESSING_ERROR, "processing_error", "Please try again."),
        (AUTHENTICATION_FAILURE, "authentication_failed", "verification was not completed"),
    ],
)
def test_documented_card_errors_become_reader_messages(payload: dict[str, Any], key: str, english: str) -> None:
    error = error_from_payload(payload["error"], http_status=402)
    assert decline_key(code=error.code, decline_code=error.decline_code) == key
    assert english in message(key, locale="en")
    russian = message(key, locale="ru")
    assert russian == MESSAGES["ru"][key] and "Деньги не списаны" in russian


def _sdk_error(cls: type[stripe.StripeError], payload: dict[str, Any], status: int) -> stripe.StripeError:
    body = json.dumps(payload)
    error = payload["error"]
    if cls is stripe.CardError:
        return stripe.CardError(
            error["message"],
            error.get("param"),
            error.get("code"),
            http_body=body,
            http_status=status,
            json_body=payload,
        )
    if cls is stripe.InvalidRequestError:
        return stripe.InvalidRequestError(
            error["message"],
            error.get("param"),
            error.get("code"),
            http_body=body,
            http_status=status,
            json_body=payload,
        )
    return cls(payload["error"]["message"], http_body=body, http_status=status, json_body=payload)


def test_the_sdks_card_error_keeps_code_and_decline_code() -> None:
    translated = gateway.error_translate(_sdk_error(stripe.CardError, INSUFFICIENT_FUNDS, 402))
    assert isinstance(translated, PaymentDeclined)
    assert (translated.code, translated.decline_code, translated.kind) == (
        "card_declined",
        "insufficient_funds",
        "card",
    )


def test_server_errors_and_lost_connections_mean_unavailable() -> None:
    assert isinstance(gateway.error_translate(_sdk_error(stripe.APIError, API_ERROR, 500)), GatewayUnavailable)
    lost = stripe.APIConnectionError("Could not connect to Stripe")
    translated = gateway.error_translate(lost)
    assert isinstance(translated, GatewayUnavailable)
    assert "Nothing was charged" in message("unavailable", locale="en")
    assert "Деньги не списаны" in message("unavailable", locale="ru")


def test_not_found_is_its_own_kind() -> None:
    missing = {
        "error": {
            "code": "resource_missing",
            "message": "No such payment_intent: 'pi_x'",
            "param": "intent",
            "type": "invalid_request_error",
        }
    }
    translated = gateway.error_translate(_sdk_error(stripe.InvalidRequestError, missing, 404))
    assert isinstance(translated, gateway.GatewayNotFound)


def test_both_locales_have_every_message() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["ru"])
    assert message("below_minimum", locale="ru", minimum="$2") == "Минимальная сумма здесь — $2."
    assert message("no_such_key", locale="en") == MESSAGES["en"]["generic"]


NOTHING_CHARGED = {"en": "Nothing was charged", "ru": "Деньги не списаны"}


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("key", ["generic", "unconfirmed"])
def test_when_we_cannot_know_we_never_say_nothing_was_charged(key: str, locale: str) -> None:
    # An HTML 500 or a lost answer can follow a charge (3-D Secure done, the subscription made): say what is true.
    text = message(key, locale=locale)
    assert NOTHING_CHARGED[locale].lower() not in text.lower()
    assert {"en": "not be charged twice", "ru": "дважды деньги не спишутся"}[locale] in text


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_the_page_script_gets_honest_messages_for_lost_and_broken_answers(locale: str) -> None:
    shown = script_messages(locale)
    assert shown["unconfirmed"] == MESSAGES[locale]["unconfirmed"]  # fetch failed: no answer at all
    assert shown["generic"] == MESSAGES[locale]["generic"]  # an answer that is not our JSON
    # What the script shows by itself, apart from Stripe.js's own declines before any charge, claims nothing.
    for key in set(shown) - {"card_declined", "authentication_failed", "sepa_failed"}:
        assert NOTHING_CHARGED[locale] not in shown[key], key

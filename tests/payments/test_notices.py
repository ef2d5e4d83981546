"""The e-mail a reader gets when a SEPA debit fails after the checkout thanked them: once, neutral, with a way back."""

from __future__ import annotations

import json
import re
import secrets
import time
from email.header import decode_header, make_header
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import Client

from readerfund.checkout import services
from readerfund.checkout.validation import checkout_request_parse
from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import worker_run_once
from readerfund.payments import ledger
from readerfund.payments.models import Contribution, Payment, WebhookEvent
from tests.checkout import stripe_browser as browser
from tests.payments.events import event_body, signature_header

Status = Contribution.Status
FAILS_LATER = "DE62370400440532013001"  # localstripe: the debit fails half a second after it is confirmed
CLEARS = "DE89370400440532013000"


def _checkout(newsroom: Any, *, method: str = "sepa_debit", iban: str = FAILS_LATER, **overrides: Any) -> Any:
    """A one-off through the checkout services, the IBAN (or card) set up as Stripe.js would."""
    variant = newsroom.campaigns.get().variants.get(key="a")
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": "one_off",
        "amount": 900,
        "currency": "EUR",
        "email": "Reader@Example.org",
        "name": "Ada",
        "receipt": True,
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": "en",
        "method": method,
        "return": "http://127.0.0.1:8000/demo/2/",
        **overrides,
    }
    started = services.contribution_start(newsroom=newsroom, request=checkout_request_parse(data, newsroom=newsroom))
    if method == "sepa_debit":
        browser.iban_set_up(started.client_secret, iban)
    else:
        browser.card_set_up(started.client_secret, iban)
    return services.contribution_pay(contribution=started.contribution)


def _text(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    assert isinstance(part, Message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _failure_notices() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(message_key__startswith="payment-failed-"))


@pytest.mark.django_db(transaction=True)
def test_a_sepa_debit_failing_days_later_reaches_the_ledger_and_the_reader_once(
    localstripe: str, live_server: Any, demo_newsroom: Any, smtp_server: Any, emulator_webhooks: Any
) -> None:
    """The real asynchronous path: localstripe fails the debit and posts its own signed event to the newsroom's
    endpoint, registered the demo's way; the worker processes it and sends the e-mail to a real SMTP server."""
    emulator_webhooks(demo_newsroom)
    outcome = _checkout(demo_newsroom)
    assert outcome.state == "processing"  # the reader is thanked and told the debit takes days
    contribution = outcome.contribution
    intent_id = Contribution.objects.get(id=contribution.id).provider_payment_intent_id
    assert Contribution.objects.get(id=contribution.id).status == Status.PENDING

    deadline = time.monotonic() + 15
    delivered = WebhookEvent.objects.none()
    while time.monotonic() < deadline and not delivered.exists():
        time.sleep(0.2)
        delivered = WebhookEvent.objects.filter(newsroom=demo_newsroom, type="payment_intent.payment_failed")
    (event,) = delivered
    assert event.event_id.startswith("evt_") and event.payload["data"]["object"]["id"] == intent_id

    worker_run_once()  # the event, then the e-mail it queued
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    contribution.refresh_from_db()
    assert contribution.status == Status.FAILED
    assert not Payment.objects.exists()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "reader@example.org"
    assert "Reader support" in message["From"]
    assert _subject(message) == "Your direct debit did not go through"
    assert demo_newsroom.name not in _subject(message)  # a neutral subject: the inbox may be read by others
    text = _text(message)
    assert "Your one-off contribution of €9 did not go through" in text
    assert "Nothing was taken from your account" in text
    again = next(line for line in text.splitlines() if "/support/demo/" in line).strip()
    assert again.startswith(settings.SITE_URL + "/support/demo/?")
    query = parse_qs(urlsplit(again).query)
    assert {k: v[0] for k, v in query.items() if k in ("frequency", "currency", "amount", "return", "locale")} == {
        "frequency": "one_off",
        "currency": "EUR",
        "amount": "900",
        "return": "http://127.0.0.1:8000/demo/2/",
        "locale": "en",
    }

    # Stripe may deliver the event again, and reconcile syncs the intent again: neither writes a second time.
    body = event_body(event.payload)
    replay = requests.post(
        f"{live_server.url}/webhooks/stripe/{demo_newsroom.slug}",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(body)},
        timeout=10,
    )
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=intent_id).status == Status.FAILED
    worker_run_once()
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1
    assert len(_failure_notices()) == 1


@pytest.mark.django_db
def test_the_way_back_opens_the_checkout_with_the_same_choices(
    localstripe: str, demo_newsroom: Any, client: Client
) -> None:
    contribution = _checkout(demo_newsroom).contribution
    time.sleep(0.8)  # localstripe settles SEPA debits after half a second
    ledger.payment_intent_sync(
        newsroom=demo_newsroom, intent_id=Contribution.objects.get(id=contribution.id).provider_payment_intent_id
    )
    (notice,) = _failure_notices()
    url = urlsplit(json.loads(notice.context)["url"])
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    config = re.search(r'<script id="checkout-config" type="application/json">(.*?)</script>', page.content.decode())
    assert config, "the checkout page carries its configuration"
    chosen = json.loads(config.group(1))
    assert {key: chosen[key] for key in ("frequency", "currency", "amount", "locale", "return")} == {
        "frequency": "one_off",
        "currency": "EUR",
        "amount": 900,
        "locale": "en",
        "return": "http://127.0.0.1:8000/demo/2/",
    }


@pytest.mark.django_db
def test_the_notice_in_russian_names_no_outlet(localstripe: str, demo_newsroom: Any, smtp_server: Any) -> None:
    contribution = _checkout(demo_newsroom, locale="ru").contribution
    time.sleep(0.8)
    intent_id = Contribution.objects.get(id=contribution.id).provider_payment_intent_id
    assert ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=intent_id).status == Status.FAILED
    (notice,) = _failure_notices()
    assert notice.locale == "ru"
    assert outbox_deliver(message_id=notice.id) == "sent"
    (message,) = smtp_server.wait_for(1)
    assert _subject(message) == "Списание с вашего счёта не прошло"
    text = _text(message)
    assert "Ваш разовый взнос 9\u00a0€ не состоялся" in text
    assert "С вашего счёта ничего не списано" in text
    assert "Gazette" not in _subject(message)


@pytest.mark.django_db
def test_only_a_pending_sepa_debit_that_fails_is_e_mailed(localstripe: str, demo_newsroom: Any) -> None:
    # A card declined while the reader is on the page: the page says so, no e-mail.
    declined = _checkout(demo_newsroom, method="card", iban=browser.FAILS_WHEN_CHARGED, currency="USD")
    assert declined.state == "failed"
    # A debit that clears: the receipt they asked for, no failure notice.
    cleared = _checkout(demo_newsroom, iban=CLEARS, email="other@example.org")
    time.sleep(0.8)
    intent_id = Contribution.objects.get(id=cleared.contribution.id).provider_payment_intent_id
    assert ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=intent_id).status == Status.SUCCEEDED
    assert _failure_notices() == []
    assert OutboxMessage.objects.filter(template="receipt").count() == 1

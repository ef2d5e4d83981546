"""The link in a failed renewal's e-mail, against localstripe: it leads its own supporter to their card page
(through the sign-in when needed), and the new card pays the renewal; for anyone else, or once the renewal
is settled, it leads nowhere and says so with a 4xx."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from readerfund.notifications.models import OutboxMessage
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution, Payment, RenewalFailure
from readerfund.payments.notices import RENEWAL_CARD_MAX_AGE, renewal_card_token
from readerfund.supporters.renewal_link import NEXT_COOKIE
from readerfund.supporters.session import COOKIE_NAME
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid
from tests.supporters.conftest import signed_in_client, signin_deliveries_run, signin_secrets

pytestmark = pytest.mark.django_db
Status = Contribution.Status


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


def _past_due(newsroom: Any, email: str = "reader@example.org", locale: str = "en") -> tuple[Contribution, str]:
    """A plan whose renewal was declined and recorded by the ledger: (contribution, the e-mail's link path)."""
    contribution = contribution_paid(newsroom, amount=700, email=email, locale=locale)
    card = {"number": browser.FAILS_WHEN_CHARGED, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = browser.client().v1.payment_methods.create(params={"type": "card", "card": card})
    customer = contribution.provider_customer_id
    gateway.payment_method_attach(payment_method_id=method.id, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=method.id, idempotency_key=_key()
    )
    invoice = gateway.invoice_create(
        customer_id=customer, subscription_id=contribution.provider_subscription_id, idempotency_key=_key()
    )
    with contextlib.suppress(gateway.PaymentDeclined):
        gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=_key())
    ledger.invoice_sync(newsroom=newsroom, invoice_id=invoice.id, failed_attempt_seen=True)
    contribution = Contribution.objects.get(id=contribution.id)
    assert contribution.status == Status.PAST_DUE
    mail = OutboxMessage.objects.get(
        template="renewal_failed", message_key__endswith=_failure(contribution).request_key
    )
    url = json.loads(mail.context)["url"]
    return contribution, re.sub(r"^https?://[^/]+", "", url)


def _failure(contribution: Contribution) -> RenewalFailure:
    return RenewalFailure.objects.get(contribution=contribution)


def _card_path(contribution: Contribution) -> str:
    return f"/account/{contribution.newsroom.slug}/contribution/{contribution.id}/card/"


def _text(response: Any) -> str:
    return response.content.decode()


def test_the_link_signs_its_supporter_in_to_the_card_page_and_the_new_card_pays_the_renewal(
    localstripe: str, demo_newsroom: Any, django_capture_on_commit_callbacks: Any
) -> None:
    contribution, path = _past_due(demo_newsroom)
    client = Client()
    opened = client.get(path)
    # Not signed in: to the sign-in page, the card page remembered; nobody is signed in by the link itself.
    assert opened.status_code == 303 and opened["Location"] == "/account/demo/?locale=en"
    assert opened["Referrer-Policy"] == "no-referrer" and opened["Cache-Control"] == "no-store"
    assert NEXT_COOKIE in opened.cookies and COOKIE_NAME not in opened.cookies
    assert client.get(_card_path(contribution)).status_code == 302  # still the sign-in's redirect

    # The sign-in (by its code, as the e-mail offers) lands on the card page.
    assert client.post("/account/demo/", {"email": "reader@example.org", "locale": "en"}).status_code == 200
    signin_deliveries_run()  # the worker's part
    _, code = signin_secrets(OutboxMessage.objects.filter(template="signin").latest("id"))
    signed = client.post("/account/demo/code", {"email": "reader@example.org", "code": code, "locale": "en"})
    assert signed.status_code == 303 and signed["Location"] == _card_path(contribution) + "?locale=en"
    assert client.cookies[NEXT_COOKIE].value == ""  # used once
    assert client.get(signed["Location"]).status_code == 200

    # The new card, as the card page's script confirms it: the open renewal is paid with it, a recovery.
    secret = client.post(_card_path(contribution) + "start", {"locale": "en"}).json()["client_secret"]
    browser.card_set_up(secret, browser.GOOD)
    finish = client.post(_card_path(contribution) + "finish", {"setup_intent_id": secret.split("_secret_")[0]})
    assert finish.status_code == 303
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE
    failure = _failure(contribution)
    assert failure.status == RenewalFailure.Status.RECOVERED and failure.recovered_amount == 700
    assert Payment.objects.get(provider_invoice_id=failure.provider_invoice_id).recovered

    # The same link afterwards (a replay, a second click): settled, nothing to do, nothing to sign in to.
    again = Client().get(path)
    assert again.status_code == 410 and "This payment has been made since" in _text(again)


def test_a_signed_in_supporter_goes_straight_to_the_card_page(localstripe: str, demo_newsroom: Any) -> None:
    contribution, path = _past_due(demo_newsroom, locale="ru")
    opened = signed_in_client(contribution.supporter).get(path)
    assert opened.status_code == 303 and opened["Location"] == _card_path(contribution) + "?locale=ru"


def test_someone_elses_link_leads_a_signed_in_stranger_to_their_own_page_only(
    localstripe: str, demo_newsroom: Any
) -> None:
    victim, path = _past_due(demo_newsroom, email="victim@example.org")
    stranger = contribution_paid(demo_newsroom, amount=500, email="stranger@example.org")
    client = signed_in_client(stranger.supporter)
    opened = client.get(path)
    assert opened.status_code == 303 and opened["Location"].startswith("/account/demo/?")
    assert client.get(_card_path(victim)).status_code == 404
    # Even after signing in again in that browser, the remembered card page is not theirs: their own page.
    client.post("/account/demo/", {"email": "stranger@example.org", "locale": "en"})
    signin_deliveries_run()  # the worker's part
    _, code = signin_secrets(OutboxMessage.objects.filter(template="signin").latest("id"))
    signed = client.post("/account/demo/code", {"email": "stranger@example.org", "code": code, "locale": "en"})
    assert signed.status_code == 303 and signed["Location"].startswith("/account/demo/home/")
    assert Contribution.objects.get(id=victim.id).status == Status.PAST_DUE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda path: path[:-6] + "AAAAA/",  # edited signature
        lambda path: path.replace("/renewal/", "/renewal/x"),
        lambda path: "/account/demo/renewal/%ED%A0%80/",  # a lone surrogate, as UTF-8 bytes
        lambda path: "/account/demo/renewal/%5Cud800/",  # the JSON escape of one, as text
        lambda path: "/account/demo/renewal/" + "A" * 3000 + "/",
        lambda path: path.replace("/account/demo/", "/account/nowhere/"),
    ],
)
def test_an_edited_or_foreign_link_is_a_404_never_a_500(localstripe: str, demo_newsroom: Any, mangle: Any) -> None:
    _, path = _past_due(demo_newsroom)
    opened = Client().get(mangle(path))
    assert opened.status_code == 404
    assert NEXT_COOKIE not in opened.cookies


def test_a_link_for_another_newsrooms_contribution_is_not_found_here(
    localstripe: str, demo_newsroom: Any, other_newsroom: Any
) -> None:
    contribution, path = _past_due(demo_newsroom)
    assert Client().get(path.replace("/account/demo/", f"/account/{other_newsroom.slug}/")).status_code == 404
    # A token made for a contribution whose failure is not on record (another invoice) is no link either.
    token = renewal_card_token(contribution=contribution, invoice_id="in_someone_else")
    assert Client().get(f"/account/demo/renewal/{token}/").status_code == 404


def test_an_expired_link_says_so(localstripe: str, demo_newsroom: Any, monkeypatch: Any) -> None:
    contribution, _ = _past_due(demo_newsroom)
    invoice_id = _failure(contribution).provider_invoice_id
    now = time.time
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: now() - RENEWAL_CARD_MAX_AGE - 60)
        token = renewal_card_token(contribution=contribution, invoice_id=invoice_id)
    opened = Client().get(f"/account/demo/renewal/{token}/")
    assert opened.status_code == 410 and "three weeks" in _text(opened)


def test_after_the_plan_ended_the_link_says_so(localstripe: str, demo_newsroom: Any) -> None:
    contribution, path = _past_due(demo_newsroom, locale="ru")
    gateway.subscription_cancel(subscription_id=contribution.provider_subscription_id, idempotency_key=_key())
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    opened = Client().get(path)
    assert opened.status_code == 410 and "Этот взнос прекращён" in _text(opened)


def test_a_planted_next_cookie_leads_nowhere_but_home(localstripe: str, demo_newsroom: Any) -> None:
    contribution = contribution_paid(demo_newsroom, amount=500)
    client = Client()
    client.cookies[NEXT_COOKIE] = "/admin/"  # unsigned: ignored
    client.post("/account/demo/", {"email": "reader@example.org", "locale": "en"})
    signin_deliveries_run()  # the worker's part
    _, code = signin_secrets(OutboxMessage.objects.filter(template="signin").latest("id"))
    signed = client.post("/account/demo/code", {"email": "reader@example.org", "code": code, "locale": "en"})
    assert signed.status_code == 303 and signed["Location"].startswith("/account/demo/home/")
    assert contribution.status == Status.ACTIVE

"""The supporter's page against localstripe: each change made through it, with the ledger and Stripe agreeing
afterwards; anyone else's ids answer 404 and change nothing; receipts, statements, the data and its erasure."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from readerfund.checkout import services
from readerfund.core.dates import date_long
from readerfund.notifications.models import OutboxMessage
from readerfund.payments import changes, gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.models import CancellationReason, Contribution, ContributionChange, Payment, Supporter
from readerfund.payments.provider import GatewayError
from readerfund.supporters.models import SupporterSession
from readerfund.supporters.session import COOKIE_NAME
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid, subscription_state
from tests.supporters.conftest import signed_in_client

pytestmark = pytest.mark.django_db
Status = Contribution.Status
ADDRESS = "reader@example.org"
OTHER_CARD = "5555555555554444"


def _checkout(
    newsroom: Any, *, frequency: str = "monthly", amount: int = 500, currency: str = "USD", email: str = ADDRESS
) -> Contribution:
    """A contribution made through the real checkout services, its card confirmed as Stripe.js would."""
    return contribution_paid(newsroom, frequency=frequency, amount=amount, currency=currency, email=email, name="Ада")


def _row(contribution: Contribution) -> Contribution:
    return Contribution.objects.get(id=contribution.id)


def _url(contribution: Contribution, action: str) -> str:
    return f"/account/demo/contribution/{contribution.id}/{action}"


def _body(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def monthly(localstripe: str, demo_newsroom: Any) -> Contribution:
    return _checkout(demo_newsroom)


@pytest.fixture
def client_in(monthly: Contribution) -> Client:
    return signed_in_client(monthly.supporter)


# --- the page --------------------------------------------------------------------------------------


def test_the_page_lists_contributions_and_payments_newest_first_with_the_actions(
    monthly: Contribution, client_in: Client, demo_newsroom: Any
) -> None:
    one_off = _checkout(demo_newsroom, frequency="one_off", amount=2500, currency="EUR")
    assert one_off.supporter_id == monthly.supporter_id
    response = client_in.get("/account/demo/home/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = _body(response)
    assert body.index("One-off, €25") < body.index("Monthly, $5")
    assert "Active" in body and "Paid" in body
    for action in ("amount", "pause", "cancel", "card/"):
        assert f'action="{_url(monthly, action)}"' in body or f'href="{_url(monthly, action)}' in body
    assert _url(one_off, "pause") not in body  # a one-off has nothing to change
    payment = Payment.objects.get(contribution=monthly)
    assert f"/account/demo/receipt/{payment.id}/" in body
    assert f"/account/demo/statement/{timezone.now().year}/" in body
    assert "csrfmiddlewaretoken" in body
    assert re.search(r'<label for="amount-\d+">New amount \(USD\)</label>', body)


def test_a_supporter_with_nothing_sees_the_empty_state(localstripe: str, demo_newsroom: Any) -> None:
    supporter = services.supporter_for(newsroom=demo_newsroom, email="new@example.org", name="", locale="en")
    body = _body(signed_in_client(supporter).get("/account/demo/home/"))
    assert "There are no contributions to show." in body and "There are no payments to show." in body


def test_without_a_session_every_page_sends_to_sign_in_and_nothing_changes(monthly: Contribution) -> None:
    anonymous = Client()
    payment = Payment.objects.get(contribution=monthly)
    for path in ("/account/demo/home/", f"/account/demo/receipt/{payment.id}/", "/account/demo/erase/"):
        response = anonymous.get(path)
        assert (response.status_code, response["Location"]) == (302, "/account/demo/")
    response = anonymous.post(_url(monthly, "pause"), {"months": "1"})
    assert (response.status_code, response["Location"]) == (302, "/account/demo/")
    assert anonymous.post("/account/demo/data").status_code == 302
    assert _row(monthly).status == Status.ACTIVE
    assert not ContributionChange.objects.exists()


def test_a_change_needs_the_csrf_token(monthly: Contribution, client_in: Client) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client_in.cookies
    assert strict.post(_url(monthly, "pause"), {"months": "1"}).status_code == 403
    assert _row(monthly).status == Status.ACTIVE


# --- the changes -----------------------------------------------------------------------------------


def test_a_lower_amount_is_changed_once_and_confirmed(monthly: Contribution, client_in: Client) -> None:
    for _ in range(2):  # a double submit
        response = client_in.post(_url(monthly, "amount"), {"amount": "3", "frequency": "monthly", "locale": "en"})
        assert response.status_code == 303
        assert response["Location"] == f"/account/demo/home/?locale=en&done=amount&contribution={monthly.id}"
    row = _row(monthly)
    assert (row.amount, row.frequency, row.status) == (300, "monthly", Status.ACTIVE)
    stripe = subscription_state(monthly)
    assert (stripe["amount"], stripe["interval"]) == (300, "month")
    assert ContributionChange.objects.filter(contribution=monthly).count() == 1
    assert OutboxMessage.objects.filter(template="plan_changed").count() == 1
    body = _body(client_in.get(response["Location"]))
    assert "Monthly, $3" in body
    # The confirmation is in the changed contribution's card, focused.
    assert re.search(
        rf'id="contribution-{monthly.id}".*<p class="status" id="status" role="status" tabindex="-1" autofocus>'
        r"Your contribution is changed\.",
        body,
        re.S,
    )


def test_an_amount_below_the_minimum_is_refused_in_russian(monthly: Contribution, client_in: Client) -> None:
    response = client_in.post(_url(monthly, "amount"), {"amount": "0,40", "frequency": "monthly", "locale": "ru"})
    assert response.status_code == 400
    body = _body(response)
    assert "Минимальная сумма здесь — 2\u00a0$." in body
    assert re.search(r'id="amount-\d+"[^>]*aria-invalid="true" autofocus', body)
    assert 'role="alert"' in body
    assert _row(monthly).amount == 500 and subscription_state(monthly)["amount"] == 500
    typo = client_in.post(_url(monthly, "amount"), {"amount": "пять", "frequency": "monthly", "locale": "ru"})
    assert typo.status_code == 400 and "Введите сумму" in _body(typo)
    assert not ContributionChange.objects.exists()


def test_pause_then_resume_early(monthly: Contribution, client_in: Client) -> None:
    response = client_in.post(_url(monthly, "pause"), {"months": "2", "locale": "en"})
    assert response.status_code == 303 and "done=pause" in response["Location"]
    until = changes.pause_end(today=timezone.now().date(), months=2)
    row = _row(monthly)
    assert (row.status, row.paused_until) == (Status.PAUSED, until)
    assert subscription_state(monthly)["trial_end"] == int(
        datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp()
    )
    body = _body(client_in.get(response["Location"]))
    assert "Your contribution is paused." in body and f"charges resume on {date_long(until, 'en')}" in body
    assert _url(monthly, "resume") in body and _url(monthly, "pause") not in body
    # The same click again changes nothing; a pause of another length now is refused, in words.
    assert client_in.post(_url(monthly, "pause"), {"months": "2"}).status_code == 303
    refused = client_in.post(_url(monthly, "pause"), {"months": "1"})
    assert refused.status_code == 400
    # A paused plan shows no pause form: the refusal shows at the top of its card.
    assert "This contribution is paused already." in _body(refused)

    response = client_in.post(_url(monthly, "resume"), {"locale": "en"})
    assert response.status_code == 303 and "done=resume" in response["Location"]
    row = _row(monthly)
    assert (row.status, row.paused_until) == (Status.ACTIVE, None)
    assert subscription_state(monthly)["trial_end"] <= int(timezone.now().timestamp())
    assert client_in.post(_url(monthly, "resume")).status_code == 303  # a double submit
    assert OutboxMessage.objects.filter(template="plan_changed").count() == 2


def test_a_pause_of_another_length_is_refused(monthly: Contribution, client_in: Client) -> None:
    response = client_in.post(_url(monthly, "pause"), {"months": "6", "locale": "ru"})
    assert response.status_code == 400
    assert "на 1, 2 или 3 месяца" in _body(response)
    assert _row(monthly).status == Status.ACTIVE


def test_cancel_at_the_end_of_the_period_with_a_reason(monthly: Contribution, client_in: Client) -> None:
    response = client_in.post(_url(monthly, "cancel"), {"reason": "Moving abroad", "locale": "en"})
    assert response.status_code == 303 and "done=cancel" in response["Location"]
    stripe = subscription_state(monthly)
    row = _row(monthly)
    assert stripe["cancel_at_period_end"] is True and stripe["status"] == "active"
    assert row.cancels_at == datetime.fromtimestamp(stripe["current_period_end"], tz=UTC).date()
    assert row.status == Status.ACTIVE
    assert CancellationReason.objects.get().reason == "Moving abroad"
    assert client_in.post(_url(monthly, "cancel"), {"reason": "again"}).status_code == 303
    assert CancellationReason.objects.count() == 1
    body = _body(client_in.get(response["Location"]))
    assert "Your contribution is cancelled." in body and f"it ends on {date_long(row.cancels_at, 'en')}" in body
    assert _url(monthly, "pause") not in body and _url(monthly, "amount") not in body


def test_a_nul_or_control_character_in_the_reason_is_dropped_and_the_cancel_recorded(
    monthly: Contribution, client_in: Client
) -> None:
    # PostgreSQL text cannot hold NUL: the reason's write, after Stripe had cancelled, failed the whole ledger
    # write (a 500, Stripe cancelling and our row not).
    response = client_in.post(_url(monthly, "cancel"), {"reason": "Moving\x00abroad\x1b[2J\u200b", "locale": "en"})
    assert response.status_code == 303 and "done=cancel" in response["Location"]
    assert _row(monthly).cancels_at is not None
    assert CancellationReason.objects.get().reason == "Moving abroad [2J"


def test_a_nul_in_the_setup_intent_id_is_refused_in_words(monthly: Contribution, client_in: Client) -> None:
    finish = client_in.post(_url(monthly, "card/finish"), {"setup_intent_id": "seti_\x00", "locale": "en"})
    assert finish.status_code == 400
    assert not ContributionChange.objects.exists()


def test_replace_the_card(monthly: Contribution, client_in: Client, localstripe: str) -> None:
    old_card = subscription_state(monthly)["card"]
    page = client_in.get(_url(monthly, "card/"))
    assert page.status_code == 200
    body = _body(page)
    assert f'<script src="{localstripe}/js.stripe.com/v3/"></script>' in body
    assert account_for(monthly.newsroom).publishable_key in body
    assert 'id="card-element"' in body and 'role="status"' in body
    assert not ContributionChange.objects.exists()  # the GET made nothing at Stripe

    start = client_in.post(_url(monthly, "card/start"), {"locale": "en"})
    secret = start.json()["client_secret"]
    assert client_in.post(_url(monthly, "card/start")).json()["client_secret"] == secret
    browser.card_set_up(secret, OTHER_CARD)
    setup_id = secret.split("_secret_")[0]
    for _ in range(2):
        finish = client_in.post(_url(monthly, "card/finish"), {"setup_intent_id": setup_id, "locale": "en"})
        assert finish.status_code == 303 and "done=card" in finish["Location"]
    new_card = subscription_state(monthly)["card"]
    assert new_card != old_card and new_card == _row(monthly).provider_payment_method_id
    with gateway.account_use(account_for(monthly.newsroom)):
        assert gateway.payment_method_get(payment_method_id=new_card).last4 == "4444"
    assert "The new card is saved." in _body(client_in.get(finish["Location"]))


def test_an_unconfirmed_card_is_refused_in_words(monthly: Contribution, client_in: Client) -> None:
    secret = client_in.post(_url(monthly, "card/start")).json()["client_secret"]
    finish = client_in.post(
        _url(monthly, "card/finish"), {"setup_intent_id": secret.split("_secret_")[0], "locale": "ru"}
    )
    assert finish.status_code == 400
    assert "Банк не подтвердил карту" in _body(finish)


def test_someone_elses_contribution_is_not_found_and_unchanged(
    monthly: Contribution, client_in: Client, demo_newsroom: Any
) -> None:
    theirs = _checkout(demo_newsroom, amount=700, email="stranger@example.org")
    assert theirs.supporter_id != monthly.supporter_id
    before = subscription_state(theirs)
    posts = {
        "amount": {"amount": "3", "frequency": "monthly"},
        "pause": {"months": "1"},
        "resume": {},
        "cancel": {"reason": "x"},
        "card/start": {},
        "card/finish": {"setup_intent_id": theirs.provider_setup_intent_id},
    }
    for action, data in posts.items():
        assert client_in.post(_url(theirs, action), data).status_code == 404, action
    assert client_in.get(_url(theirs, "card/")).status_code == 404
    assert client_in.post("/account/demo/contribution/999999/pause", {"months": "1"}).status_code == 404
    their_payment = Payment.objects.get(contribution=theirs)
    assert client_in.get(f"/account/demo/receipt/{their_payment.id}/").status_code == 404
    row = _row(theirs)
    assert (row.amount, row.status, row.cancels_at, row.paused_until) == (700, Status.ACTIVE, None, None)
    assert subscription_state(theirs) == before
    assert not ContributionChange.objects.exists() and not CancellationReason.objects.exists()
    assert "$7" not in _body(client_in.get("/account/demo/home/"))


# --- receipts and statements -----------------------------------------------------------------------


def test_a_printable_receipt_of_ones_own_payment(monthly: Contribution, client_in: Client, demo_newsroom: Any) -> None:
    payment = Payment.objects.get(contribution=monthly)
    response = client_in.get(f"/account/demo/receipt/{payment.id}/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = _body(response)
    assert "Receipt" in body and "$5" in body and date_long(payment.paid_at.date(), "en") in body
    assert (payment.provider_charge_id or payment.provider_payment_id) in body
    assert monthly.supporter.reference in body
    assert demo_newsroom.statement_descriptor in body and demo_newsroom.name in body
    assert "@media print" in body
    # No script but the print button's, inline with the response's CSP nonce (an onclick would be blocked).
    (nonce,) = re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert re.findall(r"<script[^>]*>", body) == [f'<script nonce="{nonce}">']
    download = client_in.get(f"/account/demo/receipt/{payment.id}/?download=1")
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and "receipt-" in disposition
    assert "gazette" not in disposition.lower() and demo_newsroom.slug not in disposition
    # A Russian date ("2 декабря 2026 г.") in the name made the whole header MIME-encoded, no disposition left.
    ru_download = client_in.get(f"/account/demo/receipt/{payment.id}/?locale=ru&download=1")
    assert ru_download["Content-Disposition"] == (
        f'attachment; filename="receipt-{payment.paid_at.date().isoformat()}-{payment.id}.html"'
    )
    ru = _body(client_in.get(f"/account/demo/receipt/{payment.id}/?locale=ru"))
    assert "Квитанция" in ru and "В выписке по карте" in ru


def test_the_yearly_statement_totals_each_currency_and_shows_refunds(
    monthly: Contribution, client_in: Client, demo_newsroom: Any
) -> None:
    one_off = _checkout(demo_newsroom, frequency="one_off", amount=1000, currency="EUR")
    Payment.objects.filter(contribution=one_off).update(amount_refunded=400, status=Payment.Status.PARTIALLY_REFUNDED)
    year = timezone.now().year
    response = client_in.get(f"/account/demo/statement/{year}/")
    assert response.status_code == 200
    body = _body(response)
    assert f"Statement for {year}" in body
    totals = re.findall(r'<tr class="total"><th scope="row">(\w+)</th>(.*?)</tr>', body, re.S)
    cells = {currency: re.findall(r'<td class="money">([^<]*)</td>', rest) for currency, rest in totals}
    assert cells == {"EUR": ["€10", "€4", "€6"], "USD": ["$5", "$0", "$5"]}
    assert body.count('<tr class="payment">') == 2
    empty = _body(client_in.get(f"/account/demo/statement/{year - 1}/?locale=ru"))
    assert f"В {year - 1} году платежей не было." in empty
    assert client_in.get(f"/account/demo/statement/{year + 1}/").status_code == 404


# --- the data --------------------------------------------------------------------------------------


def test_download_my_data_is_a_json_file_with_the_address(monthly: Contribution, client_in: Client) -> None:
    assert client_in.get("/account/demo/data").status_code == 405
    response = client_in.post("/account/demo/data")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["supporter"]["email"] == ADDRESS and data["supporter"]["name"] == "Ада"
    assert [c["amount"]["minor_units"] for c in data["contributions"]] == [500]


def test_erase_asks_first_then_erases_signs_out_and_is_final(
    monthly: Contribution, client_in: Client, demo_newsroom: Any
) -> None:
    confirm = client_in.get("/account/demo/erase/")
    assert confirm.status_code == 200 and 'id="erase-form"' in _body(confirm)
    assert Supporter.objects.get(id=monthly.supporter_id).erased_at is None
    response = client_in.post("/account/demo/erase/", {"locale": "en"})
    assert (response.status_code, response["Location"]) == (303, "/account/demo/erased/?locale=en")
    assert response.cookies[COOKIE_NAME].value == ""
    supporter = Supporter.objects.get(id=monthly.supporter_id)
    assert supporter.erased_at is not None and supporter.email == ""
    assert not SupporterSession.objects.filter(supporter=supporter, ended_at__isnull=True).exists()
    assert _stripe_status(monthly) == "canceled"
    assert _row(monthly).status == Status.CANCELED
    done = client_in.get(response["Location"])
    assert done.status_code == 200 and "Your data is erased" in _body(done)
    assert client_in.get("/account/demo/home/").status_code == 302
    # No sign-in is possible any more: the address finds no one, so no e-mail is sent.
    before = OutboxMessage.objects.filter(template="signin").count()
    Client().post("/account/demo/", {"email": ADDRESS, "locale": "en"})
    assert OutboxMessage.objects.filter(template="signin").count() == before


def test_erase_cancels_a_paused_plan_too(monthly: Contribution, client_in: Client) -> None:
    # A paused plan charges again by itself on its date: erasure must end it, at Stripe and in the ledger.
    changes.contribution_pause(contribution=monthly, months=1)
    assert client_in.post("/account/demo/erase/", {"locale": "en"}).status_code == 303
    assert _stripe_status(monthly) == "canceled"
    row = _row(monthly)
    assert (row.status, row.paused_until) == (Status.CANCELED, None)


def test_erase_while_stripe_is_unreachable_says_so_and_erases_nothing(
    monthly: Contribution, client_in: Client, monkeypatch: Any
) -> None:
    def unreachable(**kwargs: Any) -> None:
        raise GatewayError("Stripe did not answer", kind="unavailable")

    monkeypatch.setattr(gateway, "customer_delete", unreachable)
    response = client_in.post("/account/demo/erase/", {"locale": "ru"})
    assert response.status_code == 503 and response["Cache-Control"] == "no-store"
    assert "данные пока не удалены" in _body(response) and 'id="erase-form"' in _body(response)
    supporter = Supporter.objects.get(id=monthly.supporter_id)
    assert supporter.erased_at is None and supporter.email == ADDRESS
    assert client_in.get("/account/demo/home/").status_code == 200  # still signed in, to try again


def _stripe_status(contribution: Contribution) -> str:
    return str(browser.client().v1.subscriptions.retrieve(contribution.provider_subscription_id).status)

"""The checkout's pages and JSON endpoints: messages a reader can act on, never a 500."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from django.test import Client

from readerfund.appeals.models import Variant
from readerfund.demo.processes import free_port
from readerfund.payments.models import Contribution
from tests.checkout import stripe_browser as browser

pytestmark = pytest.mark.django_db


def _config(response: Any) -> dict[str, Any]:
    match = re.search(r'<script id="checkout-config" type="application/json">(.*?)</script>', response.content.decode())
    assert match, "the page carries its configuration"
    return json.loads(match.group(1))


def _body(newsroom: Any, **overrides: Any) -> dict[str, Any]:
    variant = newsroom.campaigns.get().variants.get(key="a")
    body = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": "monthly",
        "amount": 200,
        "currency": "USD",
        "email": "reader@example.org",
        "receipt": True,
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": "en",
    }
    body.update(overrides)
    return body


def _post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_page_preselects_the_appeals_choice_and_loads_only_stripe_js(
    client: Client, demo_newsroom: Any, settings: Any
) -> None:
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    variant = demo_newsroom.campaigns.get().variants.get(key="a")
    response = client.get(
        f"/support/demo/?campaign={variant.campaign_id}&variant={variant.id}&frequency=monthly&amount=500"
        "&currency=EUR&locale=en&return=http://testserver/demo/3/"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    config = _config(response)
    assert (config["frequency"], config["currency"], config["amount"]) == ("monthly", "EUR", 500)
    assert config["return"] == "http://testserver/demo/3/"
    assert len(config["request_key"]) >= 16
    assert config["options"]["EUR"]["monthly"]["minimum_label"] == "€2"
    html = response.content.decode()
    assert re.findall(r'<script[^>]+src="([^"]+)"', html) == [
        "https://js.stripe.com/v3/",
        "/support/proof.js",
        "/support/checkout.js",
    ]
    assert "<link" not in html and "@import" not in html and "fonts.googleapis" not in html
    assert '<label for="email">E-mail address</label>' in html
    assert 'aria-describedby="amount-hint amount-error"' in html and 'aria-live="polite"' in html
    # Each render gets its own key: a reload is a new checkout.
    assert _config(client.get("/support/demo/"))["request_key"] != config["request_key"]


def test_page_in_russian_and_without_a_variant(client: Client, demo_newsroom: Any) -> None:
    response = client.get(
        "/support/demo/?locale=ru&frequency=one_off&amount=100&currency=JPY&return=https://evil.example/"
    )
    html = response.content.decode()
    assert '<html lang="ru">' in html and "Электронная почта" in html
    config = _config(response)
    assert (config["currency"], config["amount"], config["return"], config["variant"]) == ("USD", None, "", None)
    assert config["options"]["USD"]["one_off"]["minimum"] == 200


def test_unknown_newsroom_is_a_404_page(client: Client, db: Any) -> None:
    response = client.get("/support/nobody/")
    assert response.status_code == 404
    assert "does not take contributions" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "code", "field", "text"),
    [
        ({"amount": 150}, "below_minimum", "amount", "The smallest amount we can take here is $2."),
        ({"amount": "1.50"}, "below_minimum", "amount", "$2"),
        ({"amount": "two"}, "invalid_amount", "amount", "Please enter an amount"),
        ({"currency": "JPY"}, "unsupported_currency", "currency", "USD, EUR, GBP"),
        ({"frequency": "weekly"}, "unsupported_frequency", "frequency", "one-off, monthly or annual"),
        ({"email": "not-an-address"}, "invalid_email", "email", "valid e-mail address"),
        ({"method": "sepa_debit"}, "sepa_currency", "method", "only available in euros"),
        ({"request_key": "short"}, "expired_page", "", "reload"),
    ],
)
def test_start_explains_what_to_fix(
    client: Client, demo_newsroom: Any, overrides: dict[str, Any], code: str, field: str, text: str
) -> None:
    response = _post(client, "/support/demo/start", _body(demo_newsroom, **overrides))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert text in error["message"]
    assert not Contribution.objects.exists()


def test_start_refuses_one_cent_even_when_the_stored_variant_allows_it(client: Client, demo_newsroom: Any) -> None:
    # Written straight to the database, as rows saved before the admin knew Stripe's floor may be.
    variant = demo_newsroom.campaigns.get().variants.get(key="a")
    Variant.objects.filter(id=variant.id).update(minimums={"USD": {"monthly": 1}})
    response = _post(client, "/support/demo/start", _body(demo_newsroom, amount=1))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("below_minimum", "amount")
    assert error["message"] == "The smallest amount we can take here is $0.50."
    assert not Contribution.objects.exists()


def test_page_shows_stripes_floor_as_the_minimum_when_the_variant_says_less(client: Client, demo_newsroom: Any) -> None:
    variant = demo_newsroom.campaigns.get().variants.get(key="a")
    Variant.objects.filter(id=variant.id).update(minimums={"USD": {"monthly": 1}, "GBP": {"one_off": 60}})
    config = _config(client.get(f"/support/demo/?campaign={variant.campaign_id}&variant={variant.id}&amount=1"))
    assert config["amount"] is None  # one cent from the appeal's link is not preselected
    usd_monthly, gbp_one_off = config["options"]["USD"]["monthly"], config["options"]["GBP"]["one_off"]
    assert (usd_monthly["minimum"], usd_monthly["minimum_label"]) == (50, "$0.50")
    assert (gbp_one_off["minimum"], gbp_one_off["minimum_label"]) == (60, "£0.60")


def test_start_in_russian(client: Client, demo_newsroom: Any) -> None:
    response = _post(client, "/support/demo/start", _body(demo_newsroom, amount=100, locale="ru"))
    assert response.json()["error"]["message"] == "Минимальная сумма здесь — 2\u00a0$."  # as Russian writes it


def test_malformed_body_is_a_400(client: Client, demo_newsroom: Any) -> None:
    response = client.post("/support/demo/start", data="{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


def test_stripe_unreachable_says_nothing_was_charged(client: Client, demo_newsroom: Any, settings: Any) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = _post(client, "/support/demo/start", _body(demo_newsroom), **{"X-Readerfund-Locale": "en"})
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "unavailable",
        "message": "We could not reach our payment provider. Nothing was charged, please try again in a moment.",
    }
    # Our record exists; the retry with the same key reuses it once Stripe is back.
    assert Contribution.objects.count() == 1


@pytest.mark.parametrize("endpoint", ["start", "pay"])
def test_a_busy_database_is_a_json_503_the_page_reads_out_not_an_html_500(
    client: Client, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    """SQLite's one writer busy past busy_timeout (another request's long write, a backup): the page
    gets an answer in the reader's language that promises no double charge, and may retry."""
    from django.db import OperationalError

    from readerfund.checkout import services

    def busy(**kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "contribution_start", busy)
    monkeypatch.setattr(services, "contribution_pay", busy)
    body = _body(demo_newsroom)
    if endpoint == "pay":
        browser_less = Contribution.objects.create(
            newsroom=demo_newsroom,
            supporter=services.supporter_for(newsroom=demo_newsroom, email="a@example.org", name="", locale="ru"),
            frequency="one_off",
            amount=500,
            currency="USD",
            request_key=body["request_key"],
        )
        assert browser_less.id
    response = _post(client, f"/support/demo/{endpoint}", body, **{"X-Readerfund-Locale": "ru"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "3"
    error = response.json()["error"]
    assert error["code"] == "busy" and "дважды деньги не спишутся" in error["message"]


def test_attempts_per_ip_are_limited(client: Client, demo_newsroom: Any, settings: Any) -> None:
    settings.CHECKOUT_LIMIT_IP = (2, 600)
    for _ in range(2):
        _post(client, "/support/demo/start", _body(demo_newsroom, amount=1))
    response = _post(client, "/support/demo/start", _body(demo_newsroom, amount=1), **{"X-Readerfund-Locale": "ru"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["message"].startswith("Слишком много попыток")


def test_attempts_per_email_are_limited(client: Client, demo_newsroom: Any, localstripe: str, settings: Any) -> None:
    settings.CHECKOUT_LIMIT_EMAIL = (2, 3600)
    statuses = [
        _post(client, "/support/demo/start", _body(demo_newsroom), REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_start_then_pay_over_json(client: Client, demo_newsroom: Any, localstripe: str) -> None:
    body = _body(
        demo_newsroom, frequency="one_off", amount="7.50", currency="GBP", **{"return": "http://testserver/demo/"}
    )
    started = _post(client, "/support/demo/start", body).json()
    assert started["state"] == "setup" and started["method"] == "card"
    browser.card_set_up(started["client_secret"])
    paid = _post(client, "/support/demo/pay", {"request_key": body["request_key"]}).json()
    assert paid["state"] == "done"
    thanks = client.get(paid["redirect"])
    html = thanks.content.decode()
    assert "We received your contribution of £7.50." in html
    assert "A receipt is on its way to your inbox." in html
    assert 'href="http://testserver/demo/#readerfund-supporter"' in html
    assert "readerfund:demo:supporter" in html
    # A double submit of the finished checkout answers with the same thank-you page.
    again = _post(client, "/support/demo/start", body).json()
    assert again == {"state": "done", "redirect": paid["redirect"]}


@pytest.mark.parametrize(
    ("locale", "said", "not_said"),
    [
        (
            "en",
            [
                "Your direct debit of €9 is being processed. It takes a few working days to go through.",
                "If it does not go through, nothing is taken and we will let you know by e-mail.",
                "We will e-mail your receipt once the payment has gone through.",
            ],
            ["A receipt is on its way", "We received", "has started"],
        ),
        (
            "ru",
            [
                "Списание 9 € по прямому дебетованию обрабатывается. Банку на это нужно несколько рабочих дней.",
                "Если списание не пройдёт, деньги не спишутся, а мы сообщим вам об этом письмом.",
                "Квитанцию пришлём письмом, когда платёж пройдёт.",
            ],
            ["Квитанция уже в пути", "Мы получили"],
        ),
    ],
)
def test_thanks_for_a_debit_still_processing_promises_neither_the_money_nor_the_receipt(
    client: Client, demo_newsroom: Any, localstripe: str, locale: str, said: list[str], not_said: list[str]
) -> None:
    body = _body(
        demo_newsroom, frequency="one_off", amount=900, currency="EUR", method="sepa_debit", locale=locale, receipt=True
    )
    started = _post(client, "/support/demo/start", body).json()
    assert (started["state"], started["method"]) == ("setup", "sepa_debit")
    browser.iban_set_up(started["client_secret"], "DE62370400440532013001")  # fails days later (here: 0.5 s)
    paid = _post(client, "/support/demo/pay", {"request_key": body["request_key"]}).json()
    assert paid["state"] == "processing"
    assert Contribution.objects.get(request_key=body["request_key"]).status == Contribution.Status.PENDING
    text = re.sub(r"\s+", " ", client.get(paid["redirect"]).content.decode())
    for sentence in said:
        assert sentence in text
    for sentence in not_said:
        assert sentence not in text


def test_declined_answer_carries_a_fresh_request_key(client: Client, demo_newsroom: Any, localstripe: str) -> None:
    body = _body(demo_newsroom, frequency="one_off", amount=500)
    started = _post(client, "/support/demo/start", body).json()
    browser.card_set_up(started["client_secret"], browser.FAILS_WHEN_CHARGED)
    response = _post(client, "/support/demo/pay", {"request_key": body["request_key"], "locale": "en"})
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "card_declined" and "Nothing was charged" in error["message"]
    assert error["next_request_key"] != body["request_key"]


def test_pay_for_an_unknown_checkout_is_a_404(client: Client, demo_newsroom: Any) -> None:
    response = _post(client, "/support/demo/pay", {"request_key": secrets.token_urlsafe(24)})
    assert response.status_code == 404 and response.json()["error"]["code"] == "expired_page"


def test_thanks_and_refused_pages_for_unknown_keys(client: Client, demo_newsroom: Any) -> None:
    assert client.get("/support/demo/thanks/unknown-key-0000000/").status_code == 404
    assert client.get("/support/demo/refused/unknown-key-0000000/").status_code == 404


def test_endpoints_require_the_csrf_token(demo_newsroom: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, "/support/demo/start", _body(demo_newsroom)).status_code == 403


def test_checkout_script_is_served(client: Client) -> None:
    response = client.get("/support/checkout.js")
    assert response.status_code == 200 and b"confirmCardSetup" in response.content

"""Checkout journeys in headless chromium: the appeal, the checkout page, localstripe's Stripe.js, the
thank-you page, the receipt at a real SMTP server, and the appeal gone on the next article."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe
from django.conf import settings
from playwright.sync_api import expect

from readerfund.notifications.worker import worker_run_once
from readerfund.payments.models import Contribution, Payment
from tests.browser.embed import decision_wait
from tests.checkout import stripe_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADING = "Please support us monthly starting from just $2"


def _card(page: Any, number: str) -> None:
    """Type into localstripe's card element (Stripe's real one is an iframe with the same four fields)."""
    element = page.locator("#card-element")
    element.locator("input[placeholder=number]").fill(number)
    element.locator("input[placeholder=exp_month]").fill("12")
    element.locator("input[placeholder=exp_year]").fill("35")
    element.locator("input[placeholder=cvc]").fill("123")
    element.locator("input[placeholder=postal_code]").fill("10115")


def _complete_authentication(page: Any, times: int) -> None:
    """localstripe's 3-D Secure stand-in: a dialog with 'Complete authentication' / 'Fail authentication'."""
    for _ in range(times):
        button = page.get_by_role("button", name="Complete authentication")
        button.wait_for(timeout=10_000)
        button.click()


def _foreign(requests: list[str], *allowed: str) -> list[str]:
    return [url for url in requests if not url.startswith((*allowed, "data:", "blob:"))]


def _checkout_filled(page: Any, live_server: Any, newsroom: Any, *, card: str, **query: str) -> None:
    """Open the appeal's checkout with `query` chosen, and fill in a reader's address and `card`."""
    page.goto(_checkout_url(live_server, newsroom, **query))
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, card)


def _checkout_url(live_server: Any, newsroom: Any, **query: str) -> str:
    variant = newsroom.campaigns.get().variants.get(key="a")
    params = {"campaign": str(variant.campaign_id), "variant": str(variant.id), **query}
    return f"{live_server.url}/support/{newsroom.slug}/?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_monthly_two_dollars_from_the_appeal_to_receipt_and_no_more_appeal(
    live_server: Any, demo_newsroom: Any, localstripe: str, smtp_server: Any, browser_session: Any
) -> None:
    page = browser_session.page
    page.goto(f"{live_server.url}/demo/")
    appeal = page.locator("section[aria-labelledby]")
    page.get_by_role("heading", name=HEADING).wait_for()
    appeal.get_by_role("radio", name="Monthly").check()
    appeal.get_by_role("radio", name="$2").check()
    appeal.get_by_role("link", name="Support us").click()

    page.wait_for_url(re.compile(r"/support/demo/\?"))
    assert page.get_by_role("radio", name="Monthly").is_checked()
    assert page.get_by_role("radio", name=re.compile(r"^\$2 per month")).is_checked()
    page.get_by_label("E-mail address").fill("reader@example.org")
    page.get_by_label("Name (optional)").fill("Ada")
    receipt_box = page.get_by_label("E-mail me a receipt")
    assert not receipt_box.is_checked()  # opt-in: nothing is sent unless the reader asks
    receipt_box.check()
    _card(page, "4242424242424242")
    page.get_by_role("button", name="Contribute").click()

    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert "Your monthly contribution of $2 has started." in page.locator("#thanks").inner_text()
    contribution = Contribution.objects.get()
    assert (contribution.status, contribution.amount, contribution.frequency) == ("active", 200, "monthly")
    assert Payment.objects.filter(contribution=contribution).count() == 1
    assert page.evaluate("localStorage.getItem('readerfund:demo:supporter')") == "1"

    # No third-party request from our pages; Stripe.js comes from STRIPE_JS_URL (localstripe here).
    assert _foreign(browser_session.requests, live_server.url + "/", localstripe + "/") == []

    worker_run_once()
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    receipt = messages[0]
    assert receipt["To"] == "reader@example.org"
    assert "Reader support" in receipt["From"]
    assert receipt["Subject"].startswith("Your receipt")
    assert "Gazette" not in receipt["Subject"]  # a neutral subject line
    text = receipt.get_payload(0).get_payload(decode=True).decode() if receipt.is_multipart() else receipt.get_payload()
    assert "$2" in text and "monthly" in text

    back = page.get_by_role("link", name="Back to the article")
    assert back.get_attribute("href").endswith("/demo/#readerfund-supporter")
    back.click()
    page.wait_for_url(re.compile(r"/demo/"))
    page.goto(f"{live_server.url}/demo/2/")
    page.locator("article h1").wait_for()
    assert decision_wait(page) == "none"
    assert page.get_by_role("heading", name=HEADING).count() == 0


def test_one_off_euros_with_three_d_secure(
    live_server: Any, demo_newsroom: Any, localstripe: str, smtp_server: Any, browser_session: Any
) -> None:
    page = browser_session.page
    page.goto(_checkout_url(live_server, demo_newsroom, frequency="one_off", amount="1000", currency="EUR"))
    assert page.get_by_role("radio", name="One-off").is_checked()
    assert page.get_by_label("Currency").input_value() == "EUR"
    page.get_by_label("E-mail address").fill("reader@example.org")
    assert not page.get_by_label("E-mail me a receipt").is_checked()
    _card(page, "4000002760003184")
    page.get_by_role("button", name="Contribute").click()
    # Once when the card is set up, once when the payment is confirmed: the bank asks each time.
    _complete_authentication(page, times=2)
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert "€10" in page.locator("#thanks").inner_text()
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency) == (1000, "EUR")
    worker_run_once()
    assert smtp_server.messages == []  # no receipt asked for, none sent


def test_card_from_a_listed_risk_country_is_refused_calmly(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    demo_newsroom.risk_countries = "FR"  # every localstripe card reports FR
    demo_newsroom.save()
    before = stripe_browser.counts()
    page = browser_session.page
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="monthly", amount="500", currency="USD", card="4242424242424242"
    )
    page.get_by_role("button", name="Contribute").click()
    page.get_by_role("heading", name="We could not accept this card").wait_for(timeout=15_000)
    assert "Nothing was charged" in page.locator("#refused").inner_text()
    assert "bank transfer" in page.locator("#refused").inner_text()  # the newsroom's safer options
    assert Contribution.objects.get().status == Contribution.Status.REFUSED
    # Only the PaymentMethod (and the SetupIntent that made it) exist at Stripe: no customer, intent, subscription.
    assert stripe_browser.counts() == before


def test_declined_cards_show_the_reason_and_record_nothing_paid(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    page = browser_session.page
    # 4000 0000 0000 0341 attaches, then fails when charged.
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="one_off", amount="500", currency="USD", card="4000000000000341"
    )
    page.get_by_role("button", name="Contribute").click()
    error = page.locator("#payment-error")
    error.wait_for(timeout=15_000)
    assert "Your card was declined. Nothing was charged." in error.inner_text()
    assert "declined" in page.get_by_role("status").inner_text()
    assert Contribution.objects.get().status == Contribution.Status.FAILED

    # The reader tries again on the same page with a card declined as soon as it is set up.
    page.get_by_role("radio", name="Monthly").check()
    _card(page, "4000000000000002")
    page.get_by_role("button", name="Contribute").click()
    # Not wait_for_function("…"): a string is evaluated in the page, and the page's CSP forbids eval.
    expect(page.locator("#submit")).to_be_enabled(timeout=15_000)
    error.wait_for()
    assert "declined" in error.inner_text()
    assert not Payment.objects.exists()
    assert not Contribution.objects.filter(status__in=["succeeded", "active"]).exists()
    # The failed one-off used a fresh request key for the second attempt.
    assert Contribution.objects.count() == 2
    assert urlsplit(page.url).path == "/support/demo/"


# --- one checkout, however often the reader clicks or reloads -------------------------------------------

CHECKOUT_KEY = "readerfund:demo:checkout"  # sessionStorage: the tab's unfinished checkout


def _subscriptions(localstripe: str, request_key: str | None = None) -> list[Any]:
    """Subscriptions at the (session-wide) localstripe, or only those made for one of our checkouts."""
    client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": localstripe})
    listed = client.v1.subscriptions.list(params={"status": "all", "limit": 100}).auto_paging_iter()
    return [
        s for s in listed if request_key is None or (s.to_dict().get("metadata") or {}).get("checkout") == request_key
    ]


def _saved_key(page: Any) -> str | None:
    return page.evaluate(f"sessionStorage.getItem('{CHECKOUT_KEY}')")


def _rendered_key(page: Any) -> str:
    return page.evaluate("JSON.parse(document.getElementById('checkout-config').textContent).request_key")


def _sent_key(request: Any) -> str:
    return json.loads(request.post_data)["request_key"]


def test_a_double_click_makes_one_monthly_subscription(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    before = len(_subscriptions(localstripe))
    page = browser_session.page
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="monthly", amount="500", currency="USD", card="4242424242424242"
    )
    page.get_by_role("button", name="Contribute").dblclick()
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    contribution = Contribution.objects.get()
    assert (contribution.status, contribution.frequency) == ("active", "monthly")
    assert len(_subscriptions(localstripe, contribution.request_key)) == 1
    assert len(_subscriptions(localstripe)) == before + 1


def test_a_busy_database_during_pay_is_retried_by_the_page_and_charges_once(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's one writer busy past its timeout answers a JSON 503 "busy": the page sends the same request
    again by itself after Retry-After, and the checkout ends once, without the reader doing anything."""
    from django.db import OperationalError

    from readerfund.checkout import services

    real_pay = services.contribution_pay
    busy = {"left": 2}

    def pay_while_the_database_is_busy(**kwargs: Any) -> Any:
        if busy["left"]:
            busy["left"] -= 1
            raise OperationalError("database is locked")
        return real_pay(**kwargs)

    monkeypatch.setattr(services, "contribution_pay", pay_while_the_database_is_busy)
    before = len(_subscriptions(localstripe))
    page = browser_session.page
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="monthly", amount="500", currency="USD", card="4242424242424242"
    )
    page.get_by_role("button", name="Contribute").click()
    page.get_by_role("heading", name="Thank you").wait_for(timeout=20_000)
    assert busy["left"] == 0
    contribution = Contribution.objects.get()
    assert contribution.status == "active"
    assert len(_subscriptions(localstripe)) == before + 1


@pytest.mark.parametrize("reload_at", ["setup", "payment"])
def test_a_reload_during_three_d_secure_finishes_the_same_monthly_checkout(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any, reload_at: str
) -> None:
    """The reader reloads when the bank's dialog appears: when the card is being set up, or when the first
    payment of the subscription, made already, asks for confirmation. Submitting again finishes that one."""
    before = len(_subscriptions(localstripe))
    page = browser_session.page
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="monthly", amount="500", currency="USD", card="4000002760003184"
    )
    page.get_by_role("button", name="Contribute").click()
    if reload_at == "payment":
        _complete_authentication(page, times=1)  # the card is set up; the subscription's first invoice asks next
    page.get_by_role("button", name="Complete authentication").wait_for(timeout=10_000)
    if reload_at == "payment":
        assert len(_subscriptions(localstripe)) == before + 1  # made, waiting for 3-D Secure
    page.reload()

    page.get_by_role("button", name="Contribute").wait_for()
    assert page.get_by_role("radio", name=re.compile(r"^\$5 per month")).is_checked()
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4000002760003184")
    page.get_by_role("button", name="Contribute").click()
    # The earlier subscription's payment needs one confirmation; a card set-up interrupted needs it again too.
    _complete_authentication(page, times=1 if reload_at == "payment" else 2)
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert "Your monthly contribution of $5 has started." in page.locator("#thanks").inner_text()
    contribution = Contribution.objects.get()
    assert (contribution.status, contribution.amount) == ("active", 500)
    assert len(_subscriptions(localstripe, contribution.request_key)) == 1
    assert len(_subscriptions(localstripe)) == before + 1


def test_the_tab_keeps_its_request_key_until_the_checkout_ends(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    page = browser_session.page
    page.goto(_checkout_url(live_server, demo_newsroom, frequency="one_off", amount="500", currency="USD"))
    assert _saved_key(page) is None  # nothing is kept for a page the reader only looked at
    first = _rendered_key(page)
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Contribute").click()
    page.locator("#email-error").wait_for()
    assert _saved_key(page) == first

    page.reload()
    page.get_by_role("button", name="Contribute").wait_for()
    assert _rendered_key(page) != first  # the server rendered a new one; the page must not use it
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4000000000000341")  # declined when charged: that contribution is over, the next gets a new key
    with page.expect_request(re.compile(r"/support/demo/start$")) as start:
        page.get_by_role("button", name="Contribute").click()
    assert _sent_key(start.value) == first
    page.locator("#payment-error").wait_for(timeout=15_000)
    after_decline = _saved_key(page)
    assert after_decline not in (None, first)
    assert Contribution.objects.get().request_key == first

    page.reload()
    page.get_by_role("button", name="Contribute").wait_for()
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4242424242424242")
    with page.expect_request(re.compile(r"/support/demo/start$")) as start:
        page.get_by_role("button", name="Contribute").click()
    assert _sent_key(start.value) == after_decline
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert _saved_key(page) is None  # the checkout has ended: nothing about it outlives it
    assert urlsplit(page.url).path == f"/support/demo/thanks/{after_decline}/"


def test_a_key_the_server_cannot_use_is_dropped_so_the_reload_it_asks_for_works(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    page = browser_session.page
    page.goto(_checkout_url(live_server, demo_newsroom, frequency="one_off", amount="500", currency="USD"))
    page.evaluate(f"sessionStorage.setItem('{CHECKOUT_KEY}', 'not/a key')")  # malformed: never used
    page.reload()
    page.get_by_role("button", name="Contribute").wait_for()
    rendered = _rendered_key(page)
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4242424242424242")
    with page.expect_request(re.compile(r"/support/demo/start$")) as start:
        page.get_by_role("button", name="Contribute").click()
    assert _sent_key(start.value) == rendered
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert _saved_key(page) is None


def test_an_expired_checkout_is_forgotten_so_the_reload_it_asks_for_starts_afresh(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    page = browser_session.page
    _checkout_filled(
        page, live_server, demo_newsroom, frequency="one_off", amount="500", currency="USD", card="4000002760003184"
    )
    page.get_by_role("button", name="Contribute").click()
    page.get_by_role("button", name="Complete authentication").wait_for(timeout=10_000)
    assert _saved_key(page) is not None
    Contribution.objects.all().delete()  # gone from under the page (a restore, say): pay answers expired_page
    _complete_authentication(page, times=1)
    page.locator("#form-error").wait_for(timeout=15_000)
    assert "reload" in page.locator("#form-error").inner_text()
    assert _saved_key(page) is None

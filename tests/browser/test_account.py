"""The supporter's page in chromium: a monthly supporter of the demo signs in from the e-mail caught by aiosmtpd,
lowers the amount, pauses, resumes, replaces the card in localstripe's Stripe.js stand-in, downloads a receipt
and their data, and cancels. After each step the ledger and localstripe must say the same thing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from readerfund.core.dates import date_long
from readerfund.notifications.worker import worker_run_once
from readerfund.payments import changes
from readerfund.payments.models import Contribution, Payment
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_checkout import _card, _foreign
from tests.factories import contribution_paid, subscription_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Status = Contribution.Status
ADDRESS = "reader@example.org"


def _monthly(newsroom: Any, *, amount: int = 500, locale: str = "en") -> Contribution:
    """A monthly contribution through the checkout's services, the card confirmed as Stripe.js does."""
    return contribution_paid(newsroom, amount=amount, email=ADDRESS, name="", locale=locale)


def _text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_payload(decode=True).decode())


def _signin_email(page: Any, smtp_server: Any, base: str, locale: str) -> str:
    """Ask for the sign-in e-mail on the page; the worker sends it to aiosmtpd; its text."""
    before = len(smtp_server.messages)
    page.goto(f"{base}/account/demo/?locale={locale}")
    page.locator("#send-email").fill(ADDRESS)
    page.locator("#send-form button").click()
    page.locator("#code-form").wait_for()
    assert page.locator("#status").inner_text().strip()
    worker_run_once()
    messages = smtp_server.wait_for(before + 1)
    assert len(messages) == before + 1
    message = messages[-1]
    assert message["To"] == ADDRESS
    return _text(message)


def _ledger(contribution: Contribution) -> Contribution:
    return Contribution.objects.get(id=contribution.id)


def _unix(day: Any) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _said(page: Any, text: str) -> None:
    """The confirmation after a change, in the page's live status region, which has the focus."""
    status = page.locator("#status")
    status.filter(has_text=text).wait_for(timeout=15_000)
    assert page.evaluate("document.activeElement.id") == "status"


def test_a_monthly_supporter_changes_everything_from_their_page(
    live_server: Any,
    demo_newsroom: Any,
    localstripe: str,
    smtp_server: Any,
    browser_session: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.SITE_URL = live_server.url
    contribution = _monthly(demo_newsroom, amount=500)
    first_card = subscription_state(contribution)["card"]
    page = browser_session.page

    # Sign in through the link in the e-mail: its page asks for one press, then the supporter's page.
    text = _signin_email(page, smtp_server, live_server.url, "en")
    link = next(word for word in text.split() if "/account/demo/signin/" in word)
    assert link.startswith(f"{live_server.url}/account/demo/signin/")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#contributions").wait_for()
    card = page.locator(f"#contribution-{contribution.id}")
    assert "Monthly, $5" in card.inner_text() and "Active" in card.inner_text()
    assert_accessible(page, "the supporter's page with its actions")

    # A lower amount.
    card.get_by_label("New amount (USD)").fill("3")
    card.get_by_role("button", name="Change").click()
    _said(page, "Your contribution is changed.")
    assert page.locator(f"#contribution-{contribution.id} h3").inner_text() == "Monthly, $3"
    assert (_ledger(contribution).amount, subscription_state(contribution)["amount"]) == (300, 300)

    # A pause of two months, then resumed early.
    card.get_by_role("radio", name="2 months").check()
    card.get_by_role("button", name="Pause").click()
    _said(page, "Your contribution is paused.")
    until = changes.pause_end(today=timezone.now().date(), months=2)
    row = _ledger(contribution)
    assert (row.status, row.paused_until) == (Status.PAUSED, until)
    assert subscription_state(contribution)["trial_end"] == _unix(until)
    assert f"charges resume on {date_long(until, 'en')}" in card.inner_text()
    assert card.get_by_role("button", name="Pause").count() == 0  # after the positive signal above

    card.get_by_role("button", name="Resume now").click()
    _said(page, "Your contribution continues.")
    row = _ledger(contribution)
    assert (row.status, row.paused_until) == (Status.ACTIVE, None)
    assert subscription_state(contribution)["trial_end"] <= int(timezone.now().timestamp())

    # A new card, typed into localstripe's stand-in of Stripe's card element.
    card.get_by_role("link", name="Replace the card").click()
    page.get_by_role("heading", name="Replace the card").wait_for()
    _card(page, "4242424242424242")
    page.get_by_role("button", name="Save the new card").click()
    _said(page, "The new card is saved.")
    new_card = subscription_state(contribution)["card"]
    assert new_card != first_card and new_card == _ledger(contribution).provider_payment_method_id
    assert _foreign(browser_session.requests, live_server.url + "/", localstripe + "/") == []

    # The receipt of the first payment, downloaded from its printable page.
    payment = Payment.objects.get(contribution=contribution)
    page.get_by_role("link", name=f"Receipt of {date_long(payment.paid_at.date(), 'en')}").click()
    page.get_by_role("heading", name="Receipt").wait_for()
    assert "$5" in page.locator("#receipt").inner_text()
    with page.expect_download() as receipt_download:
        page.get_by_role("link", name="Download").click()
    receipt = receipt_download.value
    assert receipt.suggested_filename.startswith("receipt-") and "demo" not in receipt.suggested_filename
    receipt_file = tmp_path / "receipt.html"
    receipt.save_as(receipt_file)
    assert "$5" in receipt_file.read_text() and demo_newsroom.statement_descriptor in receipt_file.read_text()
    page.get_by_role("link", name="Back to your support").click()
    page.locator("#contributions").wait_for()

    # Their data, as a file.
    with page.expect_download() as data_download:
        page.get_by_role("button", name="Download my data").click()
    data_file = tmp_path / "data.json"
    data_download.value.save_as(data_file)
    assert data_download.value.suggested_filename.startswith("my-data-")
    data = json.loads(data_file.read_text())
    assert data["supporter"]["email"] == ADDRESS
    assert [c["amount"]["minor_units"] for c in data["contributions"]] == [300]

    # Cancelled: it runs to the end of the paid period.
    card = page.locator(f"#contribution-{contribution.id}")
    card.get_by_label(re.compile("Why are you leaving")).fill("Moving abroad")
    card.get_by_role("button", name="Cancel my contribution").click()
    _said(page, "Your contribution is cancelled.")
    stripe = subscription_state(contribution)
    row = _ledger(contribution)
    assert stripe["cancel_at_period_end"] is True and stripe["status"] == "active"
    assert row.cancels_at == datetime.fromtimestamp(stripe["current_period_end"], tz=UTC).date()
    assert row.status == Status.ACTIVE
    assert f"it ends on {date_long(row.cancels_at, 'en')}" in card.inner_text()
    assert card.get_by_role("button", name="Cancel my contribution").count() == 0
    assert_accessible(page, "the supporter's page after a cancel")

    # Each change queued its confirmation; the worker sends them (plus the sign-in e-mail before).
    worker_run_once()
    messages = smtp_server.wait_for(6)
    assert len(messages) == 6
    assert all(demo_newsroom.name not in str(message["Subject"]) for message in messages)


def test_the_short_code_signs_in_on_another_device_in_russian(
    live_server: Any,
    demo_newsroom: Any,
    localstripe: str,
    smtp_server: Any,
    browser_session: Any,
    new_browser_session: Any,
    settings: Any,
) -> None:
    settings.SITE_URL = live_server.url
    contribution = _monthly(demo_newsroom, amount=500, locale="ru")
    text = _signin_email(browser_session.page, smtp_server, live_server.url, "ru")
    code = re.search(r"^\s*(\d[\d ]{6,}\d)\s*$", text, re.M)
    assert code is not None

    laptop = new_browser_session().page
    laptop.goto(f"{live_server.url}/account/demo/?locale=ru")
    laptop.locator("#code-email").fill(ADDRESS)
    laptop.locator("#code").fill(code.group(1))
    laptop.get_by_role("button", name="Войти").click()
    laptop.locator("#contributions").wait_for()
    card = laptop.locator(f"#contribution-{contribution.id}")
    assert "Ежемесячно, 5\u00a0$" in card.inner_text()

    # Below the minimum: refused in Russian, next to the amount, and nothing changes anywhere.
    card.get_by_label("Новая сумма (USD)").fill("1")
    card.get_by_role("button", name="Изменить").click()
    laptop.locator(f"#problem-{contribution.id}").filter(has_text="Минимальная сумма здесь — 2\u00a0$.").wait_for()
    assert laptop.evaluate("document.activeElement.id") == f"amount-{contribution.id}"
    assert (_ledger(contribution).amount, subscription_state(contribution)["amount"]) == (500, 500)

    card = laptop.locator(f"#contribution-{contribution.id}")
    card.get_by_role("radio", name="1 месяц").check()
    card.get_by_role("button", name="Приостановить").click()
    _said(laptop, "Взнос приостановлен.")
    until = changes.pause_end(today=timezone.now().date(), months=1)
    assert (_ledger(contribution).status, _ledger(contribution).paused_until) == (Status.PAUSED, until)
    assert subscription_state(contribution)["trial_end"] == _unix(until)
    assert_accessible(laptop, "the supporter's page in Russian, paused")

    # The code worked once: the first device cannot use it again.
    first = browser_session.page
    first.locator("#code-email").fill(ADDRESS)
    first.locator("#code").fill(code.group(1))
    first.locator("#code-form button").click()
    first.locator("#code-error").wait_for()

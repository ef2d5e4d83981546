"""The proof of work in the reader's browser: chromium solves our ALTCHA challenge with proof.js, served by
us, and the checkout goes on to the thank-you page. No captcha service, no request to anyone else."""

from __future__ import annotations

from typing import Any

import pytest

from readerfund.checkout.models import DefenceCount
from readerfund.payments.models import Contribution
from tests.browser.test_checkout import _card, _checkout_url, _foreign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_a_reader_solves_the_proof_of_work_and_pays(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any, settings: Any, locale: str
) -> None:
    settings.CHECKOUT_PROOF_AFTER_IP = (0, 600)  # as while the newsroom's breaker is open: every start needs one
    page = browser_session.page
    answers: list[int] = []
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/start") else None)
    page.goto(_checkout_url(live_server, demo_newsroom, frequency="one_off", amount="500", locale=locale))
    page.locator("#email").fill("reader@example.org")
    _card(page, "4242424242424242")
    page.locator("#submit").click()
    page.locator("#thanks").wait_for(timeout=30_000)
    assert answers == [428, 200], "asked for the proof, then started with it"
    assert Contribution.objects.get().status == Contribution.Status.SUCCEEDED
    assert DefenceCount.objects.get(newsroom=demo_newsroom, kind="proof_passed").count == 1
    assert f"{live_server.url}/support/proof.js" in browser_session.requests
    assert _foreign(browser_session.requests, live_server.url + "/", localstripe + "/") == []
    assert script_errors == []

"""The sign-in journey in chromium, with axe-core's WCAG 2.2 AA check on every page of it, in both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from readerfund.notifications.models import OutboxMessage
from tests.browser.test_accessibility import assert_accessible
from tests.supporters.conftest import ADDRESS, signin_deliveries_run, supporter_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_sign_in_by_link_and_by_code_is_accessible(
    live_server: Any, demo_newsroom: Any, browser_session: Any, settings: Any, locale: str
) -> None:
    settings.SITE_URL = live_server.url
    supporter_make(demo_newsroom)
    page = browser_session.page
    base = f"{live_server.url}/account/demo/"
    page.goto(f"{base}?locale={locale}")
    assert_accessible(page, f"the sign-in page ({locale})")
    page.fill("#send-email", "not an address")
    page.locator("#send-form button").click()
    page.locator("#send-error").wait_for()
    assert page.evaluate("document.activeElement.id") == "send-email"
    assert_accessible(page, f"the sign-in page with an error ({locale})")
    page.fill("#send-email", ADDRESS)
    page.locator("#send-form button").click()
    page.locator("#code-form").wait_for()
    assert page.locator("#status").inner_text().strip()
    assert page.evaluate("document.activeElement.id") == "code"
    assert_accessible(page, f"the 'check your inbox' page ({locale})")

    page.fill("#code", "0000 0000")
    page.locator("#code-form button").click()
    page.locator("#code-error").wait_for()
    assert page.evaluate("document.activeElement.id") == "code"
    assert_accessible(page, f"the wrong-code page ({locale})")

    signin_deliveries_run()  # the worker's part
    context = json.loads(OutboxMessage.objects.get(template="signin").context)
    page.goto(context["url"])
    assert_accessible(page, f"the link's page ({locale})")
    page.get_by_role("button").click()
    page.locator("#contributions").wait_for()
    assert_accessible(page, f"the supporter's page ({locale})")
    page.locator("#signout").click()
    page.locator("#send-form").wait_for()
    assert_accessible(page, f"the signed-out page ({locale})")
    page.goto(context["url"])
    assert_accessible(page, f"a used link's page ({locale})")

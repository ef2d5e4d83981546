"""WCAG 2.2 AA on every page a reader sees, checked by axe-core in chromium, plus the keyboard basics axe can't see:
every control of the appeal and the checkout is reached with Tab, in reading order, and shows where focus is.

axe-core looks inside the appeal's open Shadow DOM; the e-mails themselves are checked by eye (see the report).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from readerfund.demo.seed import COPY_RU
from readerfund.notifications.worker import worker_run_once
from readerfund.reminders.services import reminder_schedule, reminder_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADING = "Please support us monthly starting from just $2"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def _axe_violations(page: Any) -> list[str]:
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    results = AXE.run(page, options=options).response
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> {node['target']}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


def assert_accessible(page: Any, where: str) -> None:
    violations = _axe_violations(page)
    assert violations == [], f"axe found WCAG 2.2 AA violations on {where}:\n" + "\n".join(violations)


# What has focus, looking through open shadow roots, and how it shows it. A visually hidden radio
# (the appeal's pill buttons) shows focus on the label text right after it.
FOCUSED = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}"""
DESCRIBE = """(el) => {
  const shown = el.matches('input[type=radio], input[type=checkbox]') && getComputedStyle(el).opacity === '0'
    ? el.nextElementSibling : el;
  const style = getComputedStyle(shown);
  const label = el.labels && el.labels[0];
  const name = (label ? label.textContent : el.textContent || el.placeholder || el.name || '').trim();
  return {
    role: el.tagName.toLowerCase() + (el.type ? ':' + el.type : ''),
    name,
    look: [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow].join(' '),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    ring: style.boxShadow !== 'none',
  };
}"""


def _tab_through(page: Any, steps: int) -> list[dict[str, Any]]:
    """Press Tab `steps` times; for each stop record what got focus, its look then, and its look once focus moved on."""
    stops: list[dict[str, Any]] = []
    previous = None
    for _ in range(steps):
        page.keyboard.press("Tab")
        handle = page.evaluate_handle(FOCUSED)
        stops.append(handle.evaluate(DESCRIBE))
        if previous is not None:
            stops[-2]["look_unfocused"] = previous.evaluate(DESCRIBE)["look"]
        previous = handle
    return stops


def _assert_focus_visible(stops: list[dict[str, Any]]) -> None:
    for stop in stops:
        assert stop["outline"] or stop["ring"], f"no visible focus indicator on {stop}"
        if "look_unfocused" in stop:
            assert stop["look"] != stop["look_unfocused"], f"focus changes nothing on {stop}"


def _assert_reflows(page: Any, where: str) -> None:
    """WCAG 1.4.10: at 320 CSS pixels wide nothing scrolls sideways."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{where} scrolls {overflow}px sideways at 320px wide"
    finally:
        page.set_viewport_size(size)


def _appeal_shown(page: Any, url: str, heading: str) -> None:
    with page.expect_response(lambda response: "appeals.json" in response.url):
        page.goto(url)
    page.get_by_role("heading", name=heading).wait_for()


def test_demo_article_with_the_appeal_in_english_and_russian(
    live_server: Any, demo_newsroom: Any, chromium: Any
) -> None:
    context = chromium.new_context(reduced_motion="reduce")
    page = context.new_page()
    try:
        _appeal_shown(page, f"{live_server.url}/demo/", HEADING)
        assert_accessible(page, "/demo/ (en) with the appeal")
        _assert_reflows(page, "/demo/ with the appeal")

        # Tab from the article's top: no link in the article, so the appeal's controls come first, in order.
        page.locator("body").focus()
        stops = _tab_through(page, 6)
        order = [(stop["role"], stop["name"]) for stop in stops]
        assert order == [
            ("input:radio", "Monthly"),
            ("input:radio", "$2"),
            ("a", "Support us"),
            ("button:submit", "Remind me later"),
            ("button:submit", "Not now"),
            ("button:submit", "Don’t count my reading"),
        ], order
        _assert_focus_visible(stops)

        # Remind me later: the form opens with focus on its first choice; its controls follow in order.
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.get_by_role("textbox", name="E-mail").wait_for()
        assert page.evaluate_handle(FOCUSED).evaluate(DESCRIBE)["role"] == "input:radio"
        assert_accessible(page, "/demo/ with the remind-me-later form open")
        stops = _tab_through(page, 5)
        assert [stop["role"] for stop in stops] == [
            "input:radio",
            "input:email",
            "input:checkbox",
            "button:submit",
            "button:button",
        ], stops
        _assert_focus_visible(stops)

        # An error from the server (a missing consent) is announced and marks the field.
        page.get_by_role("textbox", name="E-mail").fill("reader@example.org")
        page.locator("input[name=consent]").evaluate("el => { el.required = false; }")
        page.get_by_role("button", name="Remind me", exact=True).click()
        page.locator("[aria-invalid=true]").wait_for()
        assert_accessible(page, "/demo/ with the remind-me-later form showing an error")

        _appeal_shown(page, f"{live_server.url}/demo/?lang=ru", str(COPY_RU["heading"]))
        assert_accessible(page, "/demo/?lang=ru with the appeal")
    finally:
        context.close()


PILLS = """() => {
  const root = [...document.querySelectorAll('div')].find((div) => div.shadowRoot).shadowRoot;
  return [...root.querySelectorAll('.o input')].map((input) => {
    const style = getComputedStyle(input.nextElementSibling);
    return { checked: input.checked, look: style.backgroundColor + ' ' + style.color };
  });
}"""


def test_the_chosen_amount_shows_in_high_contrast_mode(live_server: Any, demo_newsroom: Any, chromium: Any) -> None:
    """Windows' contrast themes repaint backgrounds: the chosen pill must still look unlike the others."""
    context = chromium.new_context(forced_colors="active")
    page = context.new_page()
    try:
        _appeal_shown(page, f"{live_server.url}/demo/", HEADING)
        pills = page.evaluate(PILLS)
        chosen = {pill["look"] for pill in pills if pill["checked"]}
        others = {pill["look"] for pill in pills if not pill["checked"]}
        assert chosen and others and not chosen & others, pills
    finally:
        context.close()


def _checkout_url(live_server: Any, newsroom: Any, **query: str) -> str:
    variant = newsroom.campaigns.get().variants.get(key="a")
    params = {"campaign": str(variant.campaign_id), "variant": str(variant.id), **query}
    return f"{live_server.url}/support/{newsroom.slug}/?" + "&".join(f"{k}={v}" for k, v in params.items())


def _card(page: Any, number: str) -> None:
    element = page.locator("#card-element")
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "35"), ("cvc", "123")):
        element.locator(f"input[placeholder={placeholder}]").fill(value)
    element.locator("input[placeholder=postal_code]").fill("10115")


def test_checkout_thanks_and_refusal_pages(
    live_server: Any, demo_newsroom: Any, localstripe: str, browser_session: Any
) -> None:
    page = browser_session.page
    monthly = {"frequency": "monthly", "amount": "200", "currency": "USD"}
    page.goto(_checkout_url(live_server, demo_newsroom, **monthly, locale="ru"))
    page.locator("#card-element input").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert_accessible(page, "the checkout page (ru)")

    page.goto(_checkout_url(live_server, demo_newsroom, **monthly))
    page.locator("#card-element input").first.wait_for()
    assert_accessible(page, "the checkout page (en)")
    _assert_reflows(page, "the checkout page")

    page.locator("body").focus()
    stops = _tab_through(page, 13)
    order = [stop["name"] or stop["role"] for stop in stops]
    assert order[:7] == [
        "Monthly",
        "Currency",
        "$2 per month",
        "Other amount",
        "E-mail address",
        "Name (optional)",
        order[6],
    ], order
    assert stops[6]["role"] == "input:checkbox"
    assert [stop["name"] for stop in stops[7:12]] == ["number", "exp_month", "exp_year", "cvc", "postal_code"]
    assert (stops[12]["role"], stops[12]["name"]) == ("button:submit", "Contribute"), stops[12]
    _assert_focus_visible(stops)

    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Contribute").click()
    page.locator("#email-error").wait_for()
    assert page.get_by_label("E-mail address").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "the checkout page after a validation error")

    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4242424242424242")
    page.get_by_role("button", name="Contribute").click()
    page.get_by_role("heading", name="Thank you").wait_for(timeout=15_000)
    assert_accessible(page, "the thank-you page")

    demo_newsroom.risk_countries = "FR"  # every localstripe card reports FR
    demo_newsroom.save()
    page.goto(_checkout_url(live_server, demo_newsroom, **monthly))
    page.get_by_label("E-mail address").fill("reader@example.org")
    _card(page, "4242424242424242")
    page.get_by_role("button", name="Contribute").click()
    page.get_by_role("heading", name="We could not accept this card").wait_for(timeout=15_000)
    assert_accessible(page, "the risk-country refusal page")

    page.goto(f"{live_server.url}/support/no-such-newsroom/?locale=ru")
    assert_accessible(page, "the checkout's not-found page")


def test_unsubscribe_confirm_and_demo_outbox(
    live_server: Any, demo_newsroom: Any, smtp_server: Any, browser_session: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SITE_URL = live_server.url
    page = browser_session.page
    for locale in ("en", "ru"):
        scheduled = reminder_schedule(
            newsroom=demo_newsroom,
            email=f"reader-{locale}@example.org",
            remind_on=timezone.now().date() + timedelta(days=3),
            locale=locale,
            campaign_id=None,
            variant_id=None,
        )
        reminder_id = scheduled.reminder.id
        page.goto(f"{live_server.url}/reminders/unsubscribe/{reminder_token(reminder_id)}/")
        page.get_by_role("button").wait_for()
        assert_accessible(page, f"the unsubscribe confirm page ({locale})")
    page.get_by_role("button").click()
    page.get_by_role("status").wait_for()
    assert_accessible(page, "the unsubscribe page once done")
    page.goto(f"{live_server.url}/reminders/unsubscribe/not-a-token/")
    assert_accessible(page, "the unsubscribe page for a broken link")

    # The outbox shows what the demo's SMTP sink saved: here the real reminder e-mail, as it was sent.
    settings.VAR_DIR = tmp_path
    (tmp_path / "outbox").mkdir()
    page.goto(f"{live_server.url}/demo/outbox/")
    assert_accessible(page, "/demo/outbox/ empty")
    worker_run_once(now=timezone.now() + timedelta(days=4))
    for number, envelope in enumerate(smtp_server.wait_for(1)):
        (tmp_path / "outbox" / f"{number}.eml").write_bytes(envelope.as_bytes())
    page.goto(f"{live_server.url}/demo/outbox/")
    page.locator("article h2").first.wait_for()
    assert_accessible(page, "/demo/outbox/ with an e-mail")

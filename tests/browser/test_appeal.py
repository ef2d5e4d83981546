"""The embed on the demo article pages, in headless chromium against the live server.

Playwright's CSS locators pierce the appeal's open Shadow DOM, so the tests find it like any element.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from readerfund.appeals import counters
from readerfund.appeals.models import Campaign, VariantDailyCount
from readerfund.appeals.services import appeals_publish
from readerfund.demo.seed import COPY_EN, COPY_RU
from tests.browser.embed import decision_wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADING = COPY_EN["heading"]


def _open(page: Any, url: str) -> None:
    """Load a page and wait until the embed has fetched its appeals and decided."""
    with page.expect_response(lambda response: "appeals.json" in response.url):
        page.goto(url)
    decision_wait(page)


def _shown(page: Any) -> bool:
    return page.locator("section[aria-labelledby] h2").count() > 0


def _foreign(requests: list[str], live_server_url: str) -> list[str]:
    return [url for url in requests if not url.startswith((live_server_url + "/", "blob:", "data:"))]


def test_appeal_shows_and_not_now_hides_it(
    live_server: Any, demo_newsroom: Any, browser_session: Any, new_browser_session: Any
) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    page.get_by_role("heading", name=HEADING).wait_for()
    assert page.get_by_text(COPY_EN["paragraphs"][0]).is_visible()
    assert page.get_by_role("radio", name="Monthly").is_checked()

    # The site's hostile `button{background:hotpink;font-size:40px}` stops at the shadow root.
    not_now = page.get_by_role("button", name="Not now")
    style = not_now.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).fontSize]")
    assert style != ["rgb(255, 105, 180)", "40px"] and style[1] != "40px"

    not_now.click()
    page.get_by_role("status").wait_for()
    _open(page, f"{live_server.url}/demo/")
    assert not _shown(page)
    assert page.locator("article h1").is_visible()

    fresh = new_browser_session()
    _open(fresh.page, f"{live_server.url}/demo/2/")
    fresh.page.get_by_role("heading", name=HEADING).wait_for()

    for session in (browser_session, fresh):
        assert session.requests, "no requests recorded"
        assert _foreign(session.requests, live_server.url) == []
        assert not [m for m in session.console if m.startswith("error")], "\n".join(session.console + session.requests)
    assert any("/api/v1/events" in url for url in browser_session.requests)


def test_checkout_link_follows_the_chosen_frequency_and_amount(
    live_server: Any, demo_newsroom: Any, browser_session: Any
) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    cta = page.get_by_role("link", name=COPY_EN["cta"])
    query = parse_qs(urlsplit(cta.get_attribute("href")).query)
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    assert query["campaign"] == [str(campaign.id)]
    assert int(query["variant"][0]) in set(campaign.variants.values_list("id", flat=True))
    assert (query["frequency"], query["amount"], query["currency"], query["locale"]) == (
        ["monthly"],
        ["200"],
        ["USD"],
        ["en"],
    )
    assert query["return"] == [f"{live_server.url}/demo/"]
    assert urlsplit(cta.get_attribute("href")).path == "/support/demo/"

    page.get_by_role("radio", name="Annual").check()
    page.get_by_role("radio", name="$50").check()
    query = parse_qs(urlsplit(cta.get_attribute("href")).query)
    assert (query["frequency"], query["amount"]) == (["annual"], ["5000"])

    with page.expect_request(lambda r: r.url.endswith("/api/v1/events") and '"click"' in (r.post_data or "")):
        cta.click()
    page.wait_for_url("**/support/demo/**")


def test_keyboard_reaches_the_cta(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    page.get_by_role("heading", name=HEADING).wait_for()
    deepest_focus = """() => { let e = document.activeElement;
        while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
        return e ? e.textContent : null }"""
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(deepest_focus))
        if reached[-1] == COPY_EN["cta"]:
            break
    assert reached[-1] == COPY_EN["cta"], reached
    # Arrow keys move within the frequency radio group, as for any native radio group.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")
    href = page.get_by_role("link", name=COPY_EN["cta"]).get_attribute("href")
    assert "frequency=annual" in href


def test_threshold_campaign_shows_only_from_the_third_article(
    live_server: Any, demo_newsroom: Any, browser_session: Any
) -> None:
    Campaign.objects.filter(newsroom=demo_newsroom).update(min_articles=3)
    appeals_publish(newsroom=demo_newsroom)
    page = browser_session.page
    for path in ("/demo/", "/demo/2/", "/demo/2/"):
        _open(page, f"{live_server.url}{path}")
        assert not _shown(page), path
    _open(page, f"{live_server.url}/demo/3/")
    page.get_by_role("heading", name=HEADING).wait_for()

    # Switching counting off forgets the count, so the threshold campaign no longer applies.
    toggle = page.get_by_role("button", name="Don’t count my reading")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    _open(page, f"{live_server.url}/demo/")
    assert not _shown(page)


def test_russian_page_shows_russian_copy(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/?lang=ru")
    page.get_by_role("heading", name=COPY_RU["heading"]).wait_for()
    assert page.get_by_role("link", name=COPY_RU["cta"]).is_visible()
    assert page.get_by_role("radio", name="Ежемесячно").is_checked()
    assert page.get_by_role("button", name=COPY_RU["not_now"]).is_visible()
    assert "locale=ru" in page.get_by_role("link", name=COPY_RU["cta"]).get_attribute("href")
    page.get_by_role("button", name=COPY_RU["remind"]).click()
    assert page.get_by_role("radio", name="Через 2 недели").is_checked()
    assert page.get_by_role("button", name="Напомнить", exact=True).is_visible()


@pytest.mark.parametrize("failure", ["abort", "hang"])
def test_failing_server_leaves_the_article_alone(
    live_server: Any, demo_newsroom: Any, browser_session: Any, failure: str
) -> None:
    page = browser_session.page
    if failure == "abort":
        page.route("**/appeals.json*", lambda route: route.abort())
    else:
        page.route("**/appeals.json*", lambda route: None)  # never answers: the embed gives up after 3 s
    page.goto(f"{live_server.url}/demo/")
    deadline = time.monotonic() + 6
    while not any(m.startswith("warning") for m in browser_session.console) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert decision_wait(page) == "failed"
    assert page.locator("article h1").is_visible()
    assert not _shown(page)
    assert page.evaluate("document.querySelectorAll('main > div').length") == 0
    warnings = [m for m in browser_session.console if m.startswith("warning")]
    # chromium itself logs the failed load; nothing else may reach the console as an error.
    errors = [m for m in browser_session.console if m.startswith("error") and "Failed to load resource" not in m]
    assert len(warnings) == 1 and errors == [], browser_session.console


def test_supporter_flag_hides_the_appeal(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/#readerfund-supporter")
    assert not _shown(page)
    assert "readerfund-supporter" not in page.url
    _open(page, f"{live_server.url}/demo/2/")
    assert not _shown(page)


def test_view_event_is_counted(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    with page.expect_request(lambda request: request.url.endswith("/api/v1/events")) as beacon:
        _open(page, f"{live_server.url}/demo/")
    assert beacon.value.post_data_json["event"] == "view"
    deadline = time.monotonic() + 5
    views = 0
    while views < 1 and time.monotonic() < deadline:
        counters.events_flush()
        views = sum(VariantDailyCount.objects.values_list("views", flat=True))
        time.sleep(0.1)
    assert views == 1


def test_calendar_reminder_downloads_an_ics_and_waits(
    live_server: Any, demo_newsroom: Any, browser_session: Any
) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    with page.expect_request(
        lambda request: request.url.endswith("/api/v1/events") and "remind" in (request.post_data or "")
    ):
        page.get_by_role("button", name=COPY_EN["remind"]).click()
    page.get_by_role("radio", name="In 1 month").check()
    page.get_by_role("radio", name="Add to my calendar").check()
    assert not page.locator("input[name=email]").is_visible()
    before = len(browser_session.requests)
    with page.expect_download() as download:
        page.get_by_role("button", name="Remind me", exact=True).click()
    assert download.value.suggested_filename == "support-reminder.ics"
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == date.today() + timedelta(days=30)
    assert str(event["SUMMARY"]) == "Support The Exile Gazette"
    link = urlsplit(str(event["URL"]))
    assert (link.netloc, link.path) == (urlsplit(live_server.url).netloc, "/support/demo/")
    assert str(event["DESCRIPTION"]) == str(event["URL"])
    assert event["UID"] and event["DTSTAMP"]
    assert _foreign(browser_session.requests[before:], live_server.url) == []
    page.get_by_role("status").wait_for()

    _open(page, f"{live_server.url}/demo/")
    assert not _shown(page)
    snooze = page.evaluate("JSON.parse(localStorage.getItem('readerfund:demo')).snoozes")
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    remind_on = date.today() + timedelta(days=30)
    assert snooze[str(campaign.id)] == page.evaluate(f"new Date('{remind_on.isoformat()}T00:00').getTime()")


def test_brand_colour_too_light_for_white_text_falls_back_to_dark(
    live_server: Any, demo_newsroom: Any, browser_session: Any
) -> None:
    demo_newsroom.brand_colour = "#ffd43b"
    demo_newsroom.save()
    appeals_publish(newsroom=demo_newsroom)
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    cta = page.get_by_role("link", name=COPY_EN["cta"])
    assert cta.evaluate("a => [getComputedStyle(a).backgroundColor, getComputedStyle(a).color]") == [
        "rgb(29, 29, 29)",
        "rgb(255, 255, 255)",
    ]


def test_reminder_error_is_shown_in_place(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    page.get_by_role("button", name=COPY_EN["remind"]).click()
    email = page.get_by_label("E-mail address")
    email.fill("reader@nodot")
    page.get_by_label("We’ll use this address once, for this reminder, then delete it.").check()
    page.get_by_role("button", name="Remind me", exact=True).click()
    page.locator("[aria-live=polite]:not(:empty)").wait_for()
    assert email.get_attribute("aria-invalid") == "true"
    assert email.evaluate("e => e.getRootNode().activeElement === e")
    assert page.get_by_role("heading", name=HEADING).is_visible()


def test_reduced_motion_means_no_animation(live_server: Any, demo_newsroom: Any, browser_session: Any) -> None:
    page = browser_session.page
    animation = "s => getComputedStyle(s).animationName"
    _open(page, f"{live_server.url}/demo/")
    assert page.locator("section[aria-labelledby]").evaluate(animation) != "none"
    page.emulate_media(reduced_motion="reduce")
    _open(page, f"{live_server.url}/demo/2/")
    assert page.locator("section[aria-labelledby]").evaluate(animation) == "none"


def test_cancel_closes_the_reminder_form_and_returns_focus(
    live_server: Any, demo_newsroom: Any, browser_session: Any
) -> None:
    page = browser_session.page
    _open(page, f"{live_server.url}/demo/")
    page.get_by_role("button", name=COPY_EN["remind"]).click()
    page.get_by_role("button", name="Cancel").press("Enter")
    assert page.locator("input[name=email]").count() == 0
    remind = page.get_by_role("button", name=COPY_EN["remind"])
    assert remind.evaluate("b => b.getRootNode().activeElement === b")

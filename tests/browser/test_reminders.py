"""Remind me later, end to end: the embed's form, the API, the worker, aiosmtpd, the unsubscribe link."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from readerfund.appeals.models import Campaign
from readerfund.demo.seed import COPY_RU
from readerfund.notifications.worker import worker_run_once
from readerfund.reminders.models import Reminder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _header(message: Any, name: str) -> str:
    return str(make_header(decode_header(message[name])))


def test_reminder_by_email_arrives_once_in_russian_and_unsubscribes(
    live_server: Any, demo_newsroom: Any, smtp_server: Any, browser_session: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    page = browser_session.page
    with page.expect_response(lambda response: "appeals.json" in response.url):
        page.goto(f"{live_server.url}/demo/?lang=ru")
    page.get_by_role("heading", name=COPY_RU["heading"]).wait_for()

    page.get_by_role("button", name=COPY_RU["remind"]).click()
    choice = page.locator('input[name="remind_on"]').nth(1)
    choice.check()
    remind_on = choice.get_attribute("value")
    page.locator('input[name="email"]').fill("Reader.Probe@Example.org")
    page.locator('input[name="consent"]').check()
    with page.expect_response(lambda response: "/api/v1/reminders" in response.url) as answer:
        page.get_by_role("button", name="Напомнить", exact=True).click()
    assert answer.value.status == 202
    page.get_by_role("status").wait_for()
    assert "Напомним вам" in page.get_by_role("status").inner_text()
    # The appeal closes down to its heading and the confirmation.
    assert page.get_by_text(COPY_RU["paragraphs"][0]).count() == 0
    assert page.get_by_role("link", name=COPY_RU["cta"]).count() == 0
    assert page.get_by_role("button", name=COPY_RU["remind"]).count() == 0

    reminder = Reminder.objects.get()
    assert (reminder.remind_on.isoformat(), reminder.locale, reminder.status) == (remind_on, "ru", "pending")
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    assert reminder.campaign_id == campaign.id
    assert reminder.variant_id in set(campaign.variants.values_list("id", flat=True))

    # Nothing before the day; then the clock moves past it and the worker's own code path runs, twice.
    worker_run_once(now=reminder.due_at - timedelta(hours=1))
    assert smtp_server.messages == []
    worker_run_once(now=reminder.due_at + timedelta(minutes=1))
    worker_run_once(now=reminder.due_at + timedelta(minutes=2))
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "reader.probe@example.org"
    assert message["Message-ID"] == f"<reminder-{reminder.id}@{urlsplit(live_server.url).hostname}>"
    assert _header(message, "Subject") == "Напоминание"  # neutral: the subject names no outlet
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Здравствуйте" in text
    link = next(word for word in text.split() if "/support/" in word)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(f"{live_server.url}/support/demo/?")
    assert (query["campaign"], query["variant"]) == ([str(campaign.id)], [str(reminder.variant_id)])
    assert query["locale"] == ["ru"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = "".join(message["List-Unsubscribe"].split()).strip("<>")
    assert unsubscribe.startswith(f"{live_server.url}/reminders/unsubscribe/")

    # The link opened in a browser asks first; a mail provider's one-click POST cancels.
    page.goto(unsubscribe)
    page.get_by_role("button", name="Отменить напоминание").wait_for()
    assert Reminder.objects.get().status == "sent"
    response = page.request.post(
        unsubscribe,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data="List-Unsubscribe=One-Click",
    )
    assert response.status == 200
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert (reminder.email, reminder.email_hash) == ("", "")
    assert page.request.post(unsubscribe, data="List-Unsubscribe=One-Click").status == 200
    worker_run_once(now=reminder.due_at + timedelta(days=1))
    assert len(smtp_server.messages) == 1

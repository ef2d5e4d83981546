"""The pause and cancel links of a recurring contribution's receipt (payments/contribution_links.py and
supporters/email_links.py), against localstripe: made through the real checkout services, delivered to a
real SMTP server, followed by a client that enforces CSRF as a browser's form would."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from readerfund.core.dates import date_long
from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.render import message_render
from readerfund.payments import changes
from readerfund.payments.contribution_links import LINK_MAX_AGE, contribution_link_token
from readerfund.payments.models import CancellationReason, Contribution, ContributionChange, EmailLinkUse
from readerfund.payments.notices import renewal_action_token
from readerfund.supporters.email_links_copy import LINK
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid
from tests.logwatch import sensitive, watch

pytestmark = pytest.mark.django_db
Status = Contribution.Status
EN, RU = LINK["en"], LINK["ru"]


def _contribution(newsroom: Any, *, frequency: str = "monthly", email: str = "reader@example.org") -> Contribution:
    """A contribution made through the real checkout services, with a receipt asked for."""
    return contribution_paid(newsroom, frequency=frequency, email=email, receipt=True)


def _receipt(contribution: Contribution) -> OutboxMessage:
    return OutboxMessage.objects.get(template="receipt", message_key__in=_receipt_keys(contribution))


def _receipt_keys(contribution: Contribution) -> list[str]:
    return [f"receipt-{payment.id}" for payment in contribution.payments.all()]


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _links(contribution: Contribution) -> dict[str, str]:
    """The receipt's pause and cancel links, as paths."""
    context = json.loads(_receipt(contribution).context)
    return {"pause": _path(context["pause_url"]), "cancel": _path(context["cancel_url"])}


def _subscription(contribution: Contribution) -> dict[str, Any]:
    return dict(browser.client().v1.subscriptions.retrieve(contribution.provider_subscription_id).to_dict())


def _unchanged(contribution: Contribution) -> None:
    row = Contribution.objects.get(id=contribution.id)
    assert (row.status, row.paused_until, row.cancels_at) == (Status.ACTIVE, None, None)
    assert not ContributionChange.objects.filter(contribution=contribution).exists()
    raw = _subscription(contribution)
    assert raw["cancel_at_period_end"] is False
    assert not raw.get("trial_end") or raw["trial_end"] <= int(time.time())


@pytest.fixture
def browser_client() -> Client:
    return Client(enforce_csrf_checks=True)


def _post(client: Client, path: str, **data: str) -> Any:
    """Press the page's button, as a browser would: with the CSRF token of a form of ours. A refused link's
    page has no form, so the token comes from the sign-in page (the POST of a page opened earlier)."""
    if "csrftoken" not in client.cookies:
        assert client.get("/account/demo/").status_code == 200
    return client.post(path, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "locale": "en", **data})


def _text(response: Any) -> str:
    return response.content.decode()


# --- the e-mail ------------------------------------------------------------------------------------


def test_a_monthly_receipt_carries_its_pause_cancel_and_manage_links(
    localstripe: str, demo_newsroom: Any, smtp_server: Any, client: Client
) -> None:
    contribution = _contribution(demo_newsroom)
    message = _receipt(contribution)
    for locale, words in (("en", "pause it for one, two or three months"), ("ru", "приостановить его на один")):
        message.locale = locale
        rendered = message_render(message)
        assert words in rendered.body and rendered.body.count("/email/") == 2
        assert demo_newsroom.name not in rendered.subject

    assert outbox_deliver(message_id=message.id) == "sent"
    (mail,) = smtp_server.wait_for(1)
    parts = [part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()]
    assert len(parts) == 2
    text, html = parts
    urls = set(re.findall(r"https?://[^\s\"<>]+", text))
    links = {url for url in urls if "/email/" in url}
    assert len(links) == 2, urls  # a pause link and a cancel link, each its own
    assert any(url.endswith(f"/account/{demo_newsroom.slug}/?locale=en") for url in urls)
    pages = []
    for url in links:
        assert url.startswith("http://") and f'href="{url}"' in html
        page = client.get(_path(url))
        assert page.status_code == 200
        pages.append(_text(page))
    assert sorted(EN["pause_title"] in page for page in pages) == [False, True]  # one pauses, one cancels
    assert sorted(EN["cancel_title"] in page for page in pages) == [False, True]


def test_a_one_off_receipt_has_no_links(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _contribution(demo_newsroom, frequency="one_off")
    rendered = message_render(_receipt(contribution))
    assert "/email/" not in rendered.body and "/account/" not in rendered.body


# --- the page --------------------------------------------------------------------------------------


def test_opening_either_link_changes_nothing(localstripe: str, demo_newsroom: Any, browser_client: Client) -> None:
    contribution = _contribution(demo_newsroom)
    links = _links(contribution)
    pause = browser_client.get(links["pause"])
    cancel = browser_client.get(links["cancel"])
    for response in (pause, cancel):
        assert response.status_code == 200
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]
        assert 'method="post"' in _text(response) and "csrfmiddlewaretoken" in _text(response)
        assert "<script" not in _text(response) and "fonts.googleapis" not in _text(response)
    assert EN["pause_title"] in _text(pause) and 'name="months"' in _text(pause)
    assert EN["cancel_title"] in _text(cancel) and 'name="reason"' in _text(cancel)
    _unchanged(contribution)
    assert not EmailLinkUse.objects.exists()
    # A POST without the page's CSRF token (another site's form) is refused, and changes nothing.
    assert browser_client.post(links["cancel"], {"reason": "x"}).status_code == 403
    _unchanged(contribution)


def test_the_pause_link_pauses_once(localstripe: str, demo_newsroom: Any, browser_client: Client) -> None:
    contribution = _contribution(demo_newsroom)
    path = _links(contribution)["pause"]
    done = _post(browser_client, path, months="2")
    assert done.status_code == 200, _text(done)
    assert EN["done_title"] in _text(done)
    assert done["Referrer-Policy"] == "no-referrer" and "no-store" in done["Cache-Control"]
    until = changes.pause_end(today=datetime.now(tz=UTC).date(), months=2)
    row = Contribution.objects.get(id=contribution.id)
    assert (row.status, row.paused_until) == (Status.PAUSED, until)
    assert _subscription(contribution)["trial_end"] == int(
        datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp()
    )

    # The same link again, pressed or opened: already done, nothing more changes.
    again = _post(browser_client, path, months="1")
    assert again.status_code == 410 and EN["used_title"] in _text(again)
    assert browser_client.get(path).status_code == 410
    row = Contribution.objects.get(id=contribution.id)
    assert (row.status, row.paused_until) == (Status.PAUSED, until)
    assert ContributionChange.objects.filter(contribution=contribution).count() == 1
    assert OutboxMessage.objects.filter(template="plan_changed").count() == 1


def test_the_pause_link_asks_for_one_to_three_months(
    localstripe: str, demo_newsroom: Any, browser_client: Client
) -> None:
    contribution = _contribution(demo_newsroom)
    path = _links(contribution)["pause"]
    for months in ("0", "4", "", "2.0"):
        refused = _post(browser_client, path, months=months)
        assert refused.status_code == 400 and EN["months_wrong"] in _text(refused)
    _unchanged(contribution)
    assert not EmailLinkUse.objects.exists()


def test_the_cancel_link_cancels_at_the_end_of_the_period_once(
    localstripe: str, demo_newsroom: Any, browser_client: Client
) -> None:
    contribution = _contribution(demo_newsroom)
    links = _links(contribution)
    done = _post(browser_client, links["cancel"], reason="  Moving abroad  ")
    assert done.status_code == 200, _text(done)
    raw = _subscription(contribution)
    assert raw["cancel_at_period_end"] is True and raw["status"] == "active"
    row = Contribution.objects.get(id=contribution.id)
    assert row.status == Status.ACTIVE
    assert row.cancels_at == datetime.fromtimestamp(raw["current_period_end"], tz=UTC).date()
    assert list(CancellationReason.objects.values_list("reason", flat=True)) == ["Moving abroad"]

    again = _post(browser_client, links["cancel"], reason="again")
    assert again.status_code == 410 and EN["used_title"] in _text(again)
    assert CancellationReason.objects.count() == 1
    assert ContributionChange.objects.filter(contribution=contribution).count() == 1
    # The receipt's pause link, unused, now says why it cannot pause, and does not.
    pause = browser_client.get(links["pause"])
    assert pause.status_code == 409 and EN["refused_cancel_pending"] in _text(pause)
    assert _post(browser_client, links["pause"], months="1").status_code == 409
    assert Contribution.objects.get(id=contribution.id).paused_until is None


def test_a_refused_csrf_check_on_the_link_logs_no_token(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _contribution(demo_newsroom)
    cancel = _links(contribution)["cancel"]
    sensitive(cancel.rstrip("/").rsplit("/", 1)[1])
    assert Client(enforce_csrf_checks=True).post(cancel, {"reason": "x"}).status_code == 403
    assert watch.leaks() == []
    _unchanged(contribution)


def test_the_page_speaks_russian(localstripe: str, demo_newsroom: Any, browser_client: Client) -> None:
    contribution = _contribution(demo_newsroom)
    Contribution.objects.filter(id=contribution.id).update(locale="ru")
    page = browser_client.get(_links(contribution)["pause"])
    assert page.status_code == 200
    assert '<html lang="ru">' in _text(page)
    assert RU["pause_title"] in _text(page) and "ежемесячный взнос" in _text(page)
    assert EN["pause_button"] not in _text(page)
    # Dates as the supporter's page and the e-mails write them (core/dates.py date_long), not Django's format.
    until = changes.pause_end(today=datetime.now(tz=UTC).date(), months=2)
    assert date_long(until, "ru") in _text(page)
    assert date_long(until, "en") in _text(browser_client.get(_links(contribution)["pause"] + "?locale=en"))
    done = _post(browser_client, _links(contribution)["pause"], months="2", locale="ru")
    assert done.status_code == 200 and date_long(until, "ru") in _text(done)


def test_the_russian_page_writes_the_amount_as_russian_does(
    localstripe: str, demo_newsroom: Any, browser_client: Client
) -> None:
    contribution = _contribution(demo_newsroom)
    Contribution.objects.filter(id=contribution.id).update(locale="ru")
    for action in ("pause", "cancel"):
        text = _text(browser_client.get(_links(contribution)[action]))
        assert "$5" not in text
        assert "5\xa0$" in text


# --- links that must not work ----------------------------------------------------------------------


def _parts(token: str) -> list[str]:
    # payload:timestamp:signature (django.core.signing); base64 holds no colon.
    parts = token.split(":")
    assert len(parts) == 3
    return parts


def test_a_link_cannot_be_turned_on_another_contribution(
    localstripe: str, demo_newsroom: Any, browser_client: Client
) -> None:
    mine = _contribution(demo_newsroom, email="a@example.org")
    theirs = _contribution(demo_newsroom, email="b@example.org")
    slug = demo_newsroom.slug
    my_cancel = contribution_link_token(contribution=mine, action="cancel")
    my_pause = contribution_link_token(contribution=mine, action="pause")
    their_pause = contribution_link_token(contribution=theirs, action="pause")
    payload, stamp, signature = _parts(my_cancel)

    forged = [
        # Their (pause) payload under my cancel link's signature.
        f"{_parts(their_pause)[0]}:{stamp}:{signature}",
        # My payload edited to name their contribution, signed by someone without our key.
        signing.dumps({"k": theirs.request_key, "a": "cancel"}, salt="readerfund.payments.contribution-link", key="x"),
        # My pause payload with my cancel link's signature: the action is signed too.
        f"{_parts(my_pause)[0]}:{stamp}:{signature}",
        # A character of the signature changed.
        f"{payload}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        # Another signed link of ours (the renewal's), for their contribution: another salt.
        renewal_action_token(contribution=theirs, invoice_id="in_1"),
    ]
    for token in forged:
        path = f"/account/{slug}/email/{token}/"
        assert browser_client.get(path).status_code == 404, token
        refused = _post(browser_client, path, reason="x", months="1")
        assert refused.status_code == 404 and EN["invalid_title"] in _text(refused)
    # The genuine link works, on mine only.
    assert _post(browser_client, f"/account/{slug}/email/{my_cancel}/").status_code == 200
    assert Contribution.objects.get(id=mine.id).cancels_at is not None
    _unchanged(theirs)


def test_another_newsrooms_address_refuses_the_link(
    localstripe: str, demo_newsroom: Any, other_newsroom: Any, browser_client: Client
) -> None:
    contribution = _contribution(demo_newsroom)
    token = contribution_link_token(contribution=contribution, action="cancel")
    for slug in (other_newsroom.slug, "no-such-newsroom"):
        path = f"/account/{slug}/email/{token}/"
        assert browser_client.get(path).status_code == 404
        assert _post(browser_client, path).status_code == 404
    _unchanged(contribution)


def test_an_expired_link_is_refused(
    localstripe: str, demo_newsroom: Any, browser_client: Client, monkeypatch: Any
) -> None:
    contribution = _contribution(demo_newsroom)

    now = time.time

    def signed_days_ago(days: int) -> str:
        with monkeypatch.context() as patched:
            patched.setattr(signing.time, "time", lambda: now() - days * 24 * 3600)
            return contribution_link_token(contribution=contribution, action="cancel")

    assert LINK_MAX_AGE == 60 * 24 * 3600
    path = f"/account/{demo_newsroom.slug}/email/{signed_days_ago(61)}/"
    opened = browser_client.get(path)
    assert opened.status_code == 410 and EN["expired_title"] in _text(opened)
    assert _post(browser_client, path).status_code == 410
    _unchanged(contribution)
    # 59 days old still works: the limit is the 60 days the page promises.
    assert browser_client.get(f"/account/{demo_newsroom.slug}/email/{signed_days_ago(59)}/").status_code == 200


def test_a_one_off_contributions_link_is_refused(localstripe: str, demo_newsroom: Any, browser_client: Client) -> None:
    contribution = _contribution(demo_newsroom, frequency="one_off")
    for action in ("pause", "cancel"):
        token = contribution_link_token(contribution=contribution, action=action)
        path = f"/account/{demo_newsroom.slug}/email/{token}/"
        opened = browser_client.get(path)
        assert opened.status_code == 409 and EN["refused_not_recurring"] in _text(opened)
        assert _post(browser_client, path, months="1").status_code == 409
    row = Contribution.objects.get(id=contribution.id)
    assert (row.status, row.cancels_at, row.paused_until) == (Status.SUCCEEDED, None, None)
    assert not ContributionChange.objects.exists() and not EmailLinkUse.objects.exists()


def test_an_ended_contributions_link_is_refused(localstripe: str, demo_newsroom: Any, browser_client: Client) -> None:
    contribution = _contribution(demo_newsroom)
    links = _links(contribution)
    browser.client().v1.subscriptions.cancel(contribution.provider_subscription_id)
    Contribution.objects.filter(id=contribution.id).update(status=Status.CANCELED)
    for path in links.values():
        opened = browser_client.get(path)
        assert opened.status_code == 409 and EN["refused_canceled"] in _text(opened)
        assert _post(browser_client, path, months="1").status_code == 409
    assert not ContributionChange.objects.exists()

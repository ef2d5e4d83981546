"""Cards about to expire (payments/card_expiry.py) against localstripe and a real SMTP server: the expiry is
read from Stripe on the day, one notice per card and expiry, none for a card replaced in the meantime."""

from __future__ import annotations

import secrets
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.utils import timezone

from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import worker_run_once
from readerfund.payments import gateway
from readerfund.payments.card_expiry import cards_expiring_notify, cards_expiring_notify_due
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid

pytestmark = pytest.mark.django_db


def _card(contribution: Any, *, exp_month: int, exp_year: int, number: str = browser.GOOD) -> str:
    """A card on the plan's own customer as its default, as a supporter's change or a card updater leaves it."""
    card = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}
    method = browser.client().v1.payment_methods.create(params={"type": "card", "card": card})
    key = secrets.token_hex(6)
    gateway.payment_method_attach(
        payment_method_id=method.id, customer_id=contribution.provider_customer_id, idempotency_key=f"t-{key}-a"
    )
    gateway.customer_default_payment_method_set(
        customer_id=contribution.provider_customer_id, payment_method_id=method.id, idempotency_key=f"t-{key}-d"
    )
    return str(method.id)


def _notices() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template="card_expiring").order_by("id"))


def test_a_card_expiring_this_month_gets_one_notice_and_a_replaced_one_none(
    localstripe: str, demo_newsroom: Any, smtp_server: Any
) -> None:
    demo_newsroom.neutral_emails = False
    demo_newsroom.save(update_fields=["neutral_emails"])
    now = timezone.now()
    soon = contribution_paid(demo_newsroom, amount=500, email="soon@example.org", locale="ru")
    later = contribution_paid(demo_newsroom, amount=500, email="later@example.org")  # its card: 12/2035
    expiring = _card(soon, exp_month=now.month, exp_year=now.year)

    worker_run_once(now=now)
    (notice,) = _notices()
    assert notice.message_key == f"card-expiring-{expiring}-{now.year:04d}{now.month:02d}"
    assert outbox_deliver(message_id=notice.id) == "sent"  # the test's transaction never commits: sent by hand
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "soon@example.org"
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"Срок действия карты для «{demo_newsroom.name}» скоро истекает"  # neutral e-mails off
    text = message.get_payload(0).get_payload(decode=True).decode()
    assert "4242" in text and f"{now.month:02d}/{now.year % 100:02d}" in text

    # The next days: the same card and expiry, no second notice. The daily claim holds within the day.
    assert cards_expiring_notify_due(now=now + timedelta(hours=1)) == 0
    cards_expiring_notify_due(now=now + timedelta(days=1))
    assert len(_notices()) == 1

    # A card updater replaced the card with next year's: read from Stripe on the day, nothing to say.
    _card(soon, exp_month=now.month, exp_year=now.year + 1)
    assert cards_expiring_notify(newsroom=demo_newsroom, now=now + timedelta(days=2)) == 0
    # A plan that ended gets nothing, whatever its card.
    later.status = later.Status.CANCELED
    later.save(update_fields=["status"])
    _card(later, exp_month=now.month, exp_year=now.year)
    assert cards_expiring_notify(newsroom=demo_newsroom, now=now + timedelta(days=2)) == 0
    assert len(_notices()) == 1

"""The demo's webhook endpoints at localstripe: the emulator posts its own signed events to each newsroom."""

from __future__ import annotations

import time
from typing import Any

import pytest

from readerfund.demo.stripe_webhooks import emulated_newsrooms
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.worker import worker_run_once
from readerfund.payments.handlers import HANDLERS
from readerfund.payments.models import Payment, WebhookEvent
from tests.payments import stripe_scenarios

pytestmark = pytest.mark.django_db(transaction=True)


def _rows_for(object_id: str) -> list[WebhookEvent]:
    return [row for row in WebhookEvent.objects.all() if row.payload["data"]["object"]["id"] == object_id]


def test_each_newsroom_at_the_emulator_gets_its_events_signed_with_its_own_secret(
    localstripe: str, live_server: Any, demo_newsroom: Newsroom, emulator_webhooks: Any
) -> None:
    Newsroom.objects.create(
        slug="second",
        name="Second Desk",
        stripe_secret_key="sk_test_second",
        stripe_publishable_key="pk_test_second",
        stripe_webhook_secret="whsec_second_own",
    )
    Newsroom.objects.create(
        slug="elsewhere", name="Elsewhere", stripe_secret_key="sk_test_3", stripe_api_base="http://127.0.0.1:9"
    )
    newsrooms = emulated_newsrooms(stripe_base=localstripe)
    assert [n.slug for n in newsrooms] == ["demo", "second"]  # "elsewhere" is served by another Stripe
    urls = emulator_webhooks(*newsrooms)
    assert urls == [f"{live_server.url}/webhooks/stripe/demo", f"{live_server.url}/webhooks/stripe/second"]

    story = stripe_scenarios.one_off(demo_newsroom, amount=4200)
    intent_id = story.events[0]["data"]["object"]["id"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(_rows_for(intent_id)) < 2:
        time.sleep(0.2)
    rows = {row.newsroom.slug: row for row in _rows_for(intent_id)}
    # Each endpoint verified the emulator's signature with its own newsroom's secret: a wrong one is a 400.
    assert set(rows) == {"demo", "second"}
    assert all(row.event_id.startswith("evt_") and row.type == "payment_intent.succeeded" for row in rows.values())

    worker_run_once()
    for row in rows.values():
        row.refresh_from_db()
    assert rows["demo"].status == WebhookEvent.Status.PROCESSED
    assert rows["second"].status == WebhookEvent.Status.IGNORED  # not the second newsroom's contribution
    assert Payment.objects.get(contribution=story.contribution).amount == 4200


def test_every_event_type_we_handle_is_asked_for(monkeypatch: pytest.MonkeyPatch, demo_newsroom: Newsroom) -> None:
    from readerfund.demo import stripe_webhooks

    asked: list[dict[str, Any]] = []
    monkeypatch.setattr(stripe_webhooks, "webhook_endpoint_register", lambda **kwargs: asked.append(kwargs))
    stripe_webhooks.webhook_endpoints_register(
        stripe_base="http://127.0.0.1:1", site_url="http://127.0.0.1:8000/", newsrooms=[demo_newsroom]
    )
    (one,) = asked
    assert one["url"] == "http://127.0.0.1:8000/webhooks/stripe/demo"
    assert set(one["events"]) == set(HANDLERS)
    assert one["endpoint_id"] == "readerfund-demo"

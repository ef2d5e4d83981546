"""The webhooks bench's request count: every HTTP request a handler sends, under its event's type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench._webhook_requests import RequestCount, call_name, counting_install, counting_uninstall, requests_table
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.handlers import HANDLERS, webhook_event_process
from readerfund.payments.models import WebhookEvent
from tests.payments import stripe_scenarios


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("get", "http://127.0.0.1:9/v1/payment_intents/pi_3NxYz0AbC", "GET /v1/payment_intents/{id}"),
        ("get", "http://127.0.0.1:9/v1/charges?customer=cus_Q1w2&limit=100", "GET /v1/charges"),
        ("post", "https://api.stripe.com/v1/subscriptions/sub_1AbC/cancel", "POST /v1/subscriptions/{id}/cancel"),
    ],
)
def test_a_call_is_named_by_its_endpoint_without_ids(method: str, url: str, name: str) -> None:
    assert call_name(method, url) == name


@pytest.fixture
def count() -> Iterator[RequestCount]:
    count = RequestCount()
    originals = dict(HANDLERS)
    counting_install(count)
    try:
        yield count
    finally:
        counting_uninstall()
    restored = dict(HANDLERS)
    assert restored == originals


@pytest.mark.usefixtures("localstripe")
def test_requests_are_counted_per_event_type(db: Any, count: RequestCount, tmp_path: Path) -> None:
    newsroom = Newsroom.objects.create(slug="north-desk", name="North Desk")
    story = stripe_scenarios.refunded(newsroom)
    before = sum(count.requests.values())
    for event in story.events:
        row = WebhookEvent.objects.create(newsroom=newsroom, event_id=event["id"], type=event["type"], payload=event)
        assert webhook_event_process(event_row_id=row.id) == WebhookEvent.Status.PROCESSED
    assert before == 0  # making the story at localstripe ran outside any handler: not counted
    assert count.events == Counter({"payment_intent.succeeded": 1, "charge.refunded": 1})
    assert count.calls["payment_intent.succeeded"]["GET /v1/payment_intents/{id}"] == 1
    assert count.calls["charge.refunded"]["GET /v1/charges/{id}"] == 1
    assert all(count.requests[kind] == sum(count.calls[kind].values()) for kind in count.events)

    path = tmp_path / "counts.json"
    count.dump(path)
    added = RequestCount()
    added.add(RequestCount.load(path))
    added.add(RequestCount.load(path))
    assert added.events == Counter({"payment_intent.succeeded": 2, "charge.refunded": 2})
    assert added.average == count.average
    table = requests_table(added)
    assert table[0].split()[:2] == ["event", "type"]
    assert table[-1].split()[:4] == ["all", "events", "4", str(2 * sum(count.requests.values()))]

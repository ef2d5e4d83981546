"""POST /webhooks/stripe with events signed as Stripe signs them, for real objects at localstripe."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.worker import tasks_run_ready, worker_run_once
from readerfund.payments import webhooks
from readerfund.payments.models import Contribution, Payment, WebhookEvent
from readerfund.payments.webhooks import (
    BUSY_RETRY_AFTER_SECONDS,
    MAX_ATTEMPTS,
    webhook_events_requeue,
)
from tests.factories import newsroom_make
from tests.payments import stripe_scenarios
from tests.payments.events import event_body, event_build, event_post, signature_header
from tests.payments.stripe_scenarios import ledger_forget, ledger_state

REQUEUE_AFTER_SECONDS = settings.WEBHOOK_REQUEUE_AFTER_SECONDS
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    return newsroom_make()


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


def deliver(client: Client, capture: Any, event: dict[str, Any]) -> Any:
    # The view enqueues on commit; the test's transaction never commits, so run the callbacks here.
    with capture(execute=True):
        response = event_post(client, event)
    assert response.status_code == 200, response.content
    return response


@pytest.mark.usefixtures("localstripe", "immediate_tasks")
def test_events_twice_and_reversed_end_in_the_same_ledger_as_once_in_order(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    stories = {
        "one_off": stripe_scenarios.one_off(newsroom, amount=500),
        "declined": stripe_scenarios.one_off(newsroom, amount=900, card=stripe_scenarios.CHARGE_FAILS_CARD),
        "refunded": stripe_scenarios.refunded(newsroom, amount=1000, refund=400),
        "monthly": stripe_scenarios.monthly(newsroom, amount=300, currency="EUR"),
        "recovered": stripe_scenarios.renewal_recovered(newsroom),
        "canceled": stripe_scenarios.canceled(newsroom),
    }
    events = [event for story in stories.values() for event in story.events]
    types = {event["type"] for event in events}
    assert types >= {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "charge.refunded",
    }

    for event in events:
        deliver(client, django_capture_on_commit_callbacks, event)
    in_order = ledger_state(newsroom)
    assert WebhookEvent.objects.count() == len(events)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}

    ledger_forget(newsroom)
    for event in [*reversed(events), *reversed(events)]:
        deliver(client, django_capture_on_commit_callbacks, event)
    assert ledger_state(newsroom) == in_order
    assert WebhookEvent.objects.count() == len(events)

    # And the ledger is the right one, not merely the same one.
    def status(name: str) -> str:
        return in_order["contributions"][stories[name].contribution.request_key][0]

    assert status("one_off") == Contribution.Status.SUCCEEDED
    assert status("declined") == Contribution.Status.FAILED
    assert status("monthly") == Contribution.Status.ACTIVE
    assert status("recovered") == Contribution.Status.ACTIVE
    assert status("canceled") == Contribution.Status.CANCELED
    by_contribution: dict[str, list[tuple[Any, ...]]] = {}
    for payment in in_order["payments"].values():
        by_contribution.setdefault(payment[0], []).append(payment)

    def payments(name: str) -> list[tuple[Any, ...]]:
        return sorted(by_contribution.get(stories[name].contribution.request_key, []), key=lambda p: p[5])

    assert [(p[1], p[2], p[3]) for p in payments("one_off")] == [(500, "USD", "succeeded")]
    assert payments("declined") == []
    assert [(p[1], p[3], p[4]) for p in payments("refunded")] == [(1000, "partially_refunded", 400)]
    assert [(p[1], p[2]) for p in payments("monthly")] == [(300, "EUR")]
    assert [(p[1], p[5]) for p in payments("recovered")] == [(700, False), (700, True)]
    assert [(p[1], p[2]) for p in payments("canceled")] == [(500, "GBP")]
    assert sorted(r[1] for r in in_order["refunds"].values()) == [400]


@pytest.mark.usefixtures("localstripe", "immediate_tasks")
def test_replay_is_acknowledged_and_stored_once(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    story = stripe_scenarios.one_off(newsroom, amount=1200)
    first = deliver(client, django_capture_on_commit_callbacks, story.events[0])
    again = deliver(client, django_capture_on_commit_callbacks, story.events[0])
    assert first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts, row.type) == ("processed", 1, "payment_intent.succeeded")
    assert Payment.objects.get().amount == 1200


@pytest.mark.usefixtures("immediate_tasks")
def test_unknown_event_type_is_ignored(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    event = event_build({"id": "cus_123", "object": "customer"}, "customer.created")
    deliver(client, django_capture_on_commit_callbacks, event)
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.IGNORED
    assert "customer.created" in row.error


@pytest.mark.usefixtures("localstripe", "immediate_tasks")
def test_event_for_an_object_that_is_not_ours_is_ignored(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    story = stripe_scenarios.one_off(newsroom)
    Contribution.objects.filter(id=story.contribution.id).update(provider_payment_intent_id="")
    # As if another application on the same Stripe account had made it: no contribution of ours.
    story.contribution.delete()
    story.contribution.supporter.delete()
    deliver(client, django_capture_on_commit_callbacks, story.events[0])
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED
    assert not Payment.objects.exists()


@pytest.mark.usefixtures("localstripe", "immediate_tasks")
def test_failure_is_recorded_and_a_replay_retries_it(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    story = stripe_scenarios.one_off(newsroom, amount=800)
    working_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    deliver(client, django_capture_on_commit_callbacks, story.events[0])
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.FAILED
    assert row.error
    assert not Payment.objects.exists()

    settings.STRIPE_API_BASE = working_base
    response = deliver(client, django_capture_on_commit_callbacks, story.events[0])
    assert response.json()["duplicate"] is True
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (WebhookEvent.Status.PROCESSED, 2, "")
    assert Payment.objects.get().amount == 800


# --- refusals: nothing is stored, nothing changes ------------------------------------------------------


@pytest.fixture
def signed_event(newsroom: Newsroom) -> dict[str, Any]:
    return event_build({"id": "pi_doesnotmatter", "object": "payment_intent"}, "payment_intent.succeeded")


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused(client: Client, signed_event: dict[str, Any]) -> None:
    assert_refused(event_post(client, signed_event, signature=""), 400, "missing_signature")


def test_wrong_secret_is_refused(client: Client, signed_event: dict[str, Any]) -> None:
    response = event_post(client, signed_event, secret="whsec_someone_else")
    assert_refused(response, 400, "bad_signature")
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_tampered_body_is_refused(client: Client, signed_event: dict[str, Any]) -> None:
    body = event_body(signed_event)
    header = signature_header(body)
    tampered = body.replace(b"payment_intent.succeeded", b"charge.refunded")
    assert_refused(event_post(client, tampered, signature=header), 400, "bad_signature")


def test_garbage_signature_header_is_refused(client: Client, signed_event: dict[str, Any]) -> None:
    assert_refused(event_post(client, signed_event, signature="nonsense"), 400, "bad_signature")


def test_old_timestamp_is_refused(client: Client, signed_event: dict[str, Any]) -> None:
    # A correctly signed event captured and replayed ten minutes later (tolerance: five).
    response = event_post(client, signed_event, timestamp=int(time.time()) - 600)
    assert_refused(response, 400, "bad_signature")


@pytest.mark.parametrize("ahead", [600, 10 * 365 * 86400])
def test_a_timestamp_beyond_the_tolerance_in_the_future_is_refused(
    client: Client, signed_event: dict[str, Any], ahead: int
) -> None:
    # Signed for a time to come (a leaked secret, or a clock far off): the SDK checks only the past, so
    # such a signature stayed replayable for as long as it was ahead.
    response = event_post(client, signed_event, timestamp=int(time.time()) + ahead)
    assert_refused(response, 400, "bad_signature")
    assert "future" in response.json()["error"]["message"]


def test_a_timestamp_a_little_ahead_is_accepted(client: Client, signed_event: dict[str, Any]) -> None:
    # Within the tolerance, as for the past: clocks differ by seconds.
    assert event_post(client, signed_event, timestamp=int(time.time()) + 30).status_code == 200


def test_signed_body_that_is_not_an_event_is_refused(client: Client, newsroom: Newsroom) -> None:
    body = json.dumps({"hello": "world"}).encode()
    assert_refused(event_post(client, body), 400, "not_an_event")


def test_signed_body_that_is_not_json_is_refused(client: Client, newsroom: Newsroom) -> None:
    assert_refused(event_post(client, b"not json"), 400, "bad_signature")


def test_oversized_body_is_refused(client: Client, newsroom: Newsroom) -> None:
    event = event_build({"id": "in_big", "object": "invoice", "padding": "x" * (1024 * 1024)}, "invoice.created")
    assert_refused(event_post(client, event), 413, "body_too_large")


def test_csrf_is_not_required_but_post_is(newsroom: Newsroom, settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    strict = Client(enforce_csrf_checks=True)
    event = event_build({"id": "cus_1", "object": "customer"}, "customer.updated")
    assert event_post(strict, event).status_code == 200
    assert strict.get(f"/webhooks/stripe/{newsroom.slug}").status_code == 405


# --- the real background path ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("localstripe")
def test_worker_processes_the_stored_event(newsroom: Newsroom, client: Client) -> None:
    """Default TASKS (database backend): the view's commit enqueues, `db_worker` processes."""
    story = stripe_scenarios.one_off(newsroom, amount=1500)
    assert event_post(client, story.events[0]).status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    call_command("db_worker", batch=True, startup_delay=False, interval=0)
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Payment.objects.get().amount == 1500
    assert Contribution.objects.get().status == Contribution.Status.SUCCEEDED


def _localstripe_webhook(base: str, hook_id: str, url: str, secret: str, events: list[str]) -> None:
    form = [("url", url), ("secret", secret), *((f"events[{i}]", kind) for i, kind in enumerate(events))]
    request = urllib.request.Request(
        f"{base}/_config/webhooks/{hook_id}", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_its_own_signed_event(
    localstripe: str, live_server: Any, newsroom: Newsroom, settings: Any
) -> None:
    """localstripe signs and posts payment_intent.succeeded itself, about a second after the payment."""
    settings.TASKS = IMMEDIATE
    hook = "readerfund-webhooks-test"
    # localstripe sends each event a second after the change, to the endpoints registered then: let the
    # events of earlier tests go out first, so that two deliveries don't race on SQLite's shared cache.
    time.sleep(1.5)
    _localstripe_webhook(
        localstripe,
        hook,
        f"{live_server.url}/webhooks/stripe/{newsroom.slug}",
        settings.STRIPE_WEBHOOK_SECRET,
        ["payment_intent.succeeded"],
    )
    try:
        story = stripe_scenarios.one_off(newsroom, amount=4200)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not Payment.objects.filter(contribution=story.contribution).exists():
            time.sleep(0.2)
    finally:
        # localstripe cannot forget one endpoint: point it at nothing that fires.
        _localstripe_webhook(localstripe, hook, "http://127.0.0.1:9/", "whsec_unused", ["readerfund.never"])
    intent_id = story.events[0]["data"]["object"]["id"]
    rows = [row for row in WebhookEvent.objects.all() if row.payload["data"]["object"]["id"] == intent_id]
    seen = [
        (row.type, row.payload["data"]["object"]["id"], row.status, row.error) for row in WebhookEvent.objects.all()
    ]
    assert len(rows) == 1, f"looking for {intent_id} among {seen}"
    assert rows[0].event_id.startswith("evt_")
    assert (rows[0].type, rows[0].status) == ("payment_intent.succeeded", WebhookEvent.Status.PROCESSED)
    assert Payment.objects.get().amount == 4200


# --- lost tasks and a busy database ------------------------------------------------------------------


@pytest.mark.usefixtures("localstripe")
def test_an_event_whose_enqueue_was_lost_is_processed_by_the_worker_scan(newsroom: Newsroom, client: Client) -> None:
    story = stripe_scenarios.one_off(newsroom, amount=1700)
    # The test's transaction never commits, so the view's on-commit enqueue never runs: what a process
    # dying between the commit and the enqueue leaves behind.
    assert event_post(client, story.events[0]).status_code == 200
    row = WebhookEvent.objects.get()
    assert (row.status, row.enqueued_at) == (WebhookEvent.Status.RECEIVED, None)

    assert worker_run_once(now=row.received_at + timedelta(seconds=REQUEUE_AFTER_SECONDS - 10)) == 0
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    later = row.received_at + timedelta(seconds=REQUEUE_AFTER_SECONDS + 1)
    assert webhook_events_requeue(now=later) == 1
    assert webhook_events_requeue(now=later + timedelta(seconds=REQUEUE_AFTER_SECONDS + 1)) == 0  # task waits
    assert tasks_run_ready() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert Payment.objects.get().amount == 1700
    assert worker_run_once(now=later + timedelta(days=1)) == 0


def test_a_failed_event_is_retried_after_its_backoff_until_the_cap(newsroom: Newsroom) -> None:
    failed_at = timezone.now()

    def failed(event_id: str, attempts: int) -> WebhookEvent:
        event = event_build({"id": "cus_1", "object": "customer"}, "customer.created")
        return WebhookEvent.objects.create(
            event_id=event_id,
            type=event["type"],
            payload=event,
            status=WebhookEvent.Status.FAILED,
            attempts=attempts,
            processed_at=failed_at,
            error="GatewayUnavailable: Stripe is down",
        )

    retried = failed("evt_retry", 2)
    failed("evt_given_up", MAX_ATTEMPTS)
    assert webhook_events_requeue(now=failed_at + timedelta(seconds=100)) == 0  # two failures: 2 minutes
    assert webhook_events_requeue(now=failed_at + timedelta(seconds=121)) == 1
    assert tasks_run_ready() == 1
    retried.refresh_from_db()
    assert (retried.status, retried.attempts) == (WebhookEvent.Status.IGNORED, 3)
    assert webhook_events_requeue(now=failed_at + timedelta(days=1)) == 0
    assert WebhookEvent.objects.get(event_id="evt_given_up").status == WebhookEvent.Status.FAILED


def assert_busy(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "busy"
    assert "again" in response.json()["error"]["message"]


def test_a_locked_database_answers_503_with_retry_after(
    client: Client, signed_event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(**kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(webhooks, "webhook_event_store", locked)
    assert_busy(event_post(client, signed_event))


@pytest.mark.django_db(transaction=True)
def test_an_event_stored_but_not_enqueued_is_enqueued_by_stripes_retry(
    newsroom: Newsroom, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = event_build({"id": "cus_1", "object": "customer"}, "customer.created")
    real = webhooks.webhook_event_enqueue

    def locked(*, event_row_ids: list[int]) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(webhooks, "webhook_event_enqueue", locked)
    assert_busy(event_post(client, event))  # committed, then the enqueue hit the lock
    assert WebhookEvent.objects.get().enqueued_at is None
    monkeypatch.setattr(webhooks, "webhook_event_enqueue", real)
    assert event_post(client, event).json()["duplicate"] is True
    assert tasks_run_ready() == 1
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


@pytest.mark.django_db(transaction=True)
def test_a_write_held_by_another_connection_gives_503_not_500(
    newsroom: Newsroom, client: Client, signed_event: dict[str, Any], settings: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL waits for the row lock instead of refusing")
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: SQLite's one writer
                Newsroom.objects.filter(id=newsroom.id).update(name="Busy")
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert holding.wait(10)
        assert_busy(event_post(client, signed_event, newsroom=newsroom.slug))
    finally:
        release.set()
        holder.join(10)
    assert not WebhookEvent.objects.exists()

"""Failed renewals against localstripe, end to end: the failure arrives as localstripe's own signed webhook,
the worker retries on our schedule with the clock handed to it (`worker_run_once(now=...)`, never a sleep
for days), and every e-mail is caught by a real SMTP server (aiosmtpd).

localstripe never retries and has no clock: a renewal is billed by creating its invoice and paying it, and
it fails because the plan's card is 4000 0000 0000 0341 (attaches, then declines when charged).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
import requests
from django.db import connection
from django.db.models import Sum
from django.test import Client

from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import worker_run_once
from readerfund.payments import dunning, gateway, ledger
from readerfund.payments.models import Contribution, Payment, RenewalFailure, WebhookEvent
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid, subscription_state
from tests.payments.events import event_body, event_build, event_post, signature_header
from tests.payments.stripe_scenarios import fetched

Status = Contribution.Status
Failure = RenewalFailure.Status
MINUTE = timedelta(minutes=1)


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


def _card_make_default(contribution: Contribution, number: str) -> str:
    """A card on the plan's own customer, as its default (what bills the subscription)."""
    card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = browser.client().v1.payment_methods.create(params={"type": "card", "card": card})
    customer = contribution.provider_customer_id
    gateway.payment_method_attach(payment_method_id=method.id, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=method.id, idempotency_key=_key()
    )
    return str(method.id)


def _renewal_billed(contribution: Contribution) -> str:
    """Bill the next period now (localstripe has no clock); returns the invoice id. Its charge is declined
    when the plan's card is the failing one."""
    invoice = gateway.invoice_create(
        customer_id=contribution.provider_customer_id,
        subscription_id=contribution.provider_subscription_id,
        idempotency_key=_key(),
    )
    with contextlib.suppress(gateway.PaymentDeclined):
        gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=_key())
    return invoice.id


def _failed_renewal(
    newsroom: Any, live_server: Any, *, locale: str = "en", receipt: bool = False
) -> tuple[Contribution, str]:
    """An active monthly plan whose renewal was just declined, the failure posted to the newsroom's endpoint
    over HTTP and processed by the worker: (contribution, invoice id).

    localstripe's Invoice.pay sends no event when the charge is declined (checked by running it: the invoice
    stays open, its intent back at requires_payment_method with the decline as last error), so the test
    sends invoice.payment_failed itself, built from the invoice as localstripe holds it, signed as Stripe
    signs. Its later invoice.payment_succeeded does come from localstripe."""
    contribution = contribution_paid(
        newsroom,
        amount=700,
        currency="USD",
        email=f"reader-{secrets.token_hex(3)}@example.org",
        receipt=receipt,
        locale=locale,
    )
    # localstripe posts the checkout's own events a second later: let them in and processed first, so that
    # the failure is the newest thing the ledger hears (the emulator's subscription stays "active" after a
    # declined renewal, where Stripe's turns past_due, so a late read of it would look like a payment).
    time.sleep(2)
    worker_run_once()
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    _post(live_server, newsroom, event_build(fetched("invoices", invoice_id), "invoice.payment_failed"))
    worker_run_once()
    (event,) = WebhookEvent.objects.filter(newsroom=newsroom, type="invoice.payment_failed")
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    return Contribution.objects.get(id=contribution.id), invoice_id


def _post(live_server: Any, newsroom: Any, event: dict[str, Any]) -> Any:
    body = event_body(event)
    answer = requests.post(
        f"{live_server.url}/webhooks/stripe/{newsroom.slug}",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(body)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _text(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    assert isinstance(part, Message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _templates() -> list[str]:
    return list(OutboxMessage.objects.order_by("id").values_list("template", flat=True))


def _backdate(failure: RenewalFailure, *, days: int) -> None:
    first = failure.first_failed_at - timedelta(days=days, minutes=2)
    RenewalFailure.objects.filter(id=failure.id).update(first_failed_at=first, next_retry_at=first + timedelta(days=3))
    failure.refresh_from_db()


def _at(failure: RenewalFailure, days: int) -> datetime:
    return failure.first_failed_at + timedelta(days=days) + MINUTE


# --- the must-show ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_renewal_is_recovered_on_the_second_retry_and_counted(
    localstripe: str, live_server: Any, demo_newsroom: Any, smtp_server: Any, emulator_webhooks: Any
) -> None:
    emulator_webhooks(demo_newsroom)
    contribution, invoice_id = _failed_renewal(demo_newsroom, live_server, receipt=True)

    # Past due, the supporter told once (after the first payment's receipt), with the retry's date and a link.
    assert contribution.status == Status.PAST_DUE
    failure = RenewalFailure.objects.get()
    assert (failure.provider_invoice_id, failure.amount, failure.currency) == (invoice_id, 700, "USD")
    assert failure.next_retry_at == failure.first_failed_at + timedelta(days=3)
    receipt, notice = smtp_server.wait_for(2)
    assert _subject(notice) == "Your payment did not go through"
    assert demo_newsroom.name not in _subject(notice)  # neutral e-mails (the default)
    text = _text(notice)
    assert "monthly contribution of $7" in text and "Nothing was taken" in text
    assert "We will try the same card again on" in text
    assert f"/account/{demo_newsroom.slug}/renewal/" in text
    assert notice.get_content_type() == "multipart/alternative"  # a plain text part always, first

    # The schedule runs on the clock handed to the worker. Stripe's own time cannot be moved, and the
    # recovery's days are counted to Stripe's time of the payment: so the failure is dated five days back.
    _backdate(failure, days=5)
    # Day 2: nothing is due. Day 3: the first retry, declined again; no new e-mail.
    assert dunning.renewal_retries_due(now=failure.first_failed_at + timedelta(days=2)) == 0
    worker_run_once(now=_at(failure, 3))
    failure.refresh_from_db()
    assert (failure.status, failure.retries_made) == (Failure.OPEN, 1)
    assert failure.next_retry_at == failure.first_failed_at + timedelta(days=5)
    assert Contribution.objects.get(id=contribution.id).status == Status.PAST_DUE

    # The bank lifts its block before day 5 (a card updater's new card, say): the second retry is paid.
    _card_make_default(contribution, browser.GOOD)
    worker_run_once(now=_at(failure, 5))
    failure.refresh_from_db()
    assert failure.status == Failure.RECOVERED
    assert (failure.retries_made, failure.recovered_amount, failure.days_to_recover) == (1, 700, 5)
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE
    renewal = Payment.objects.get(provider_invoice_id=invoice_id)
    assert renewal.recovered and renewal.amount == 700
    # What the dashboard sums per month and currency.
    recovered = RenewalFailure.objects.filter(status=Failure.RECOVERED, currency="USD").aggregate(
        total=Sum("recovered_amount")
    )
    assert recovered["total"] == 700

    # The payment's event, Stripe's duplicate of the failure's, and the worker on day 7: nothing is paid,
    # counted or sent twice.
    _post(live_server, demo_newsroom, event_build(fetched("invoices", invoice_id), "invoice.payment_succeeded"))
    stored = WebhookEvent.objects.get(newsroom=demo_newsroom, type="invoice.payment_failed")
    assert _post(live_server, demo_newsroom, stored.payload)["duplicate"] is True
    worker_run_once(now=_at(failure, 7))
    time.sleep(0.5)
    assert Payment.objects.filter(contribution=contribution).count() == 2
    assert RenewalFailure.objects.get().recovered_amount == 700
    messages = smtp_server.wait_for(3)
    assert len(messages) == 3, [_subject(m) for m in messages]
    assert _templates() == ["receipt", "renewal_failed", "receipt"]  # the recovered payment's receipt last
    assert subscription_state(contribution)["status"] == "active"


@pytest.mark.django_db(transaction=True)
def test_a_renewal_declined_on_every_retry_ends_the_plan_with_a_polite_e_mail(
    localstripe: str, live_server: Any, demo_newsroom: Any, smtp_server: Any, emulator_webhooks: Any
) -> None:
    emulator_webhooks(demo_newsroom)
    contribution, invoice_id = _failed_renewal(demo_newsroom, live_server, locale="ru")
    failure = RenewalFailure.objects.get()
    (notice,) = smtp_server.wait_for(1)
    assert _subject(notice) == "Платёж не прошёл"
    assert "Мы попробуем списать платёж с той же карты ещё раз" in _text(notice)

    for day, made in ((3, 1), (5, 2)):
        worker_run_once(now=_at(failure, day))
        failure.refresh_from_db()
        assert (failure.status, failure.retries_made) == (Failure.OPEN, made)
    worker_run_once(now=_at(failure, 7))  # the last retry fails: the plan is canceled at once
    failure.refresh_from_db()
    assert (failure.status, failure.retries_made, failure.recovered_amount) == (Failure.CANCELED, 3, 0)
    assert Contribution.objects.get(id=contribution.id).status == Status.CANCELED
    assert subscription_state(contribution)["status"] == "canceled"
    notice, ended = smtp_server.wait_for(2)
    assert _subject(ended) == "Ваш взнос прекращён"
    text = _text(ended)
    assert "больше ничего списываться не будет" in text and "Спасибо за вашу поддержку" in text
    assert f"/support/{demo_newsroom.slug}/?" in text  # the way to start again

    # The subscription's end arrives again as Stripe's event, and the worker runs a day later: nothing more.
    subscription = fetched("subscriptions", contribution.provider_subscription_id)
    _post(live_server, demo_newsroom, event_build(subscription, "customer.subscription.deleted"))
    worker_run_once(now=_at(failure, 8))
    time.sleep(0.5)
    assert len(smtp_server.messages) == 2
    assert _templates() == ["renewal_failed", "renewal_ended"]
    assert not Payment.objects.filter(provider_invoice_id=invoice_id).exists()


# --- replays, duplicates, a worker killed mid-schedule, two workers at once ---------------------------


@pytest.mark.django_db
def test_the_same_failure_heard_three_times_opens_one_schedule_and_one_e_mail(
    localstripe: str, demo_newsroom: Any, client: Client
) -> None:
    contribution = contribution_paid(demo_newsroom, amount=700)
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    invoice = fetched("invoices", invoice_id)
    event = event_build(invoice, "invoice.payment_failed")
    assert event_post(client, event).status_code == 200
    assert event_post(client, event).json()["duplicate"] is True  # Stripe's replay of one event
    event_post(client, event_build(invoice, "invoice.payment_failed"))  # a second event about the same failure
    for row in WebhookEvent.objects.all():
        from readerfund.payments.handlers import webhook_event_process

        webhook_event_process(event_row_id=row.id)
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=invoice_id, failed_attempt_seen=True)
    failure = RenewalFailure.objects.get()
    assert failure.next_retry_at == failure.first_failed_at + timedelta(days=3)
    assert _templates() == ["renewal_failed"]


@pytest.mark.django_db
def test_a_worker_killed_after_its_claim_or_after_the_charge_changes_nothing_twice(
    localstripe: str, demo_newsroom: Any, monkeypatch: Any
) -> None:
    contribution = contribution_paid(demo_newsroom, amount=700)
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=invoice_id, failed_attempt_seen=True)
    failure = RenewalFailure.objects.get()
    day3 = _at(failure, 3)

    # Killed just after the claim: the claim holds (another worker does nothing) until its lease runs out.
    assert dunning._claim(failure, day3)
    assert dunning.renewal_retries_due(now=day3) == 0
    assert RenewalFailure.objects.get().retries_made == 0

    # Killed after Stripe took the charge, before our sync wrote it (the kill stood in for by an exception
    # at that point, since a real kill would take the test with it).
    _card_make_default(contribution, browser.GOOD)
    calls = {"pay": 0}
    real_pay, real_sync = gateway.invoice_pay, ledger.invoice_sync

    def pay(**kwargs: Any) -> Any:
        calls["pay"] += 1
        return real_pay(**kwargs)

    def killed(**kwargs: Any) -> Any:
        raise gateway.GatewayError("killed", kind="unavailable")

    monkeypatch.setattr(gateway, "invoice_pay", pay)
    monkeypatch.setattr(ledger, "invoice_sync", killed)
    after_lease = day3 + dunning.RETRY_LEASE + MINUTE
    assert dunning.renewal_retry_run(failure_id=failure.id, now=after_lease) == "error"
    assert calls["pay"] == 1
    assert RenewalFailure.objects.get().status == Failure.OPEN

    # The restarted worker, an hour later: the invoice is paid at Stripe already, so it is synced, not paid again.
    monkeypatch.setattr(ledger, "invoice_sync", real_sync)
    later = after_lease + dunning.ERROR_PAUSE + MINUTE
    assert dunning.renewal_retries_due(now=later) == 1
    assert calls["pay"] == 1
    failure.refresh_from_db()
    assert failure.status == Failure.RECOVERED and failure.recovered_amount == 700
    assert Payment.objects.filter(provider_invoice_id=invoice_id).count() == 1
    assert dunning.renewal_retries_due(now=later + timedelta(days=5)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_retry_once(localstripe: str, demo_newsroom: Any, monkeypatch: Any) -> None:
    contribution = contribution_paid(demo_newsroom, amount=700)
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=invoice_id, failed_attempt_seen=True)
    failure = RenewalFailure.objects.get()
    calls: list[str] = []
    real_pay = gateway.invoice_pay

    def pay(**kwargs: Any) -> Any:
        calls.append(kwargs["idempotency_key"])
        return real_pay(**kwargs)

    monkeypatch.setattr(gateway, "invoice_pay", pay)
    start = threading.Barrier(2)
    results: list[int] = []

    account = gateway.account_current()
    errors: list[BaseException] = []

    def scan() -> None:
        start.wait()
        try:
            with gateway.account_use(account):
                results.append(dunning.renewal_retries_due(now=_at(failure, 3)))
        except BaseException as error:  # reported below: a thread's exception would be lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert calls == [f"{failure.request_key}:retry-1"]
    assert RenewalFailure.objects.get().retries_made == 1


# --- Smart Retries: Stripe retries, we follow ---------------------------------------------------------


@pytest.mark.django_db
def test_with_smart_retries_the_worker_never_charges_and_stripes_end_of_the_plan_is_followed(
    localstripe: str, demo_newsroom: Any, client: Client, monkeypatch: Any
) -> None:
    demo_newsroom.stripe_smart_retries = True
    demo_newsroom.save(update_fields=["stripe_smart_retries"])
    contribution = contribution_paid(demo_newsroom, amount=700)
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=invoice_id, failed_attempt_seen=True)
    failure = RenewalFailure.objects.get()
    assert failure.next_retry_at is None
    mail = OutboxMessage.objects.get(template="renewal_failed")
    assert '"retry_on":""' in mail.context

    def refused(**kwargs: Any) -> Any:
        raise AssertionError("the worker must not charge a Smart Retries newsroom's invoice")

    monkeypatch.setattr(gateway, "invoice_pay", refused)
    for day in (3, 5, 7, 30):
        assert dunning.renewal_retries_due(now=_at(failure, day)) == 0

    # Stripe gives up and cancels the subscription (its Smart Retries setting): the polite e-mail follows.
    gateway.subscription_cancel(subscription_id=contribution.provider_subscription_id, idempotency_key=_key())
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    assert RenewalFailure.objects.get().status == Failure.CANCELED
    assert _templates() == ["renewal_failed", "renewal_ended"]


@pytest.mark.django_db
def test_a_supporter_who_cancels_while_past_due_gets_no_unpaid_ending_e_mail(
    localstripe: str, demo_newsroom: Any
) -> None:
    from readerfund.payments.changes import contribution_cancel

    contribution = contribution_paid(demo_newsroom, amount=700)
    _card_make_default(contribution, browser.FAILS_WHEN_CHARGED)
    invoice_id = _renewal_billed(contribution)
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=invoice_id, failed_attempt_seen=True)
    contribution_cancel(contribution=Contribution.objects.get(id=contribution.id), reason="")
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    assert RenewalFailure.objects.get().status == Failure.CLOSED
    assert "renewal_ended" not in _templates()
    assert dunning.renewal_retries_due(now=_at(RenewalFailure.objects.get(), 3)) == 0


def test_the_failure_e_mail_signs_nothing_it_should_not(demo_newsroom: Any) -> None:
    """A token from another salt (a pause link's) is not a card link."""
    from readerfund.payments.contribution_links import contribution_link_token
    from readerfund.payments.notices import renewal_card_read

    contribution = Contribution(request_key="k" * 20, newsroom=demo_newsroom)
    assert renewal_card_read(contribution_link_token(contribution=contribution, action="cancel")) == "invalid"

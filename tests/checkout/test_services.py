"""Checkout services against localstripe: start, set up the card as Stripe.js would, pay."""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

import pytest

from readerfund.checkout import services
from readerfund.checkout.validation import CheckoutProblem, checkout_request_parse
from readerfund.core.money import Money
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution, ConversionCount, Payment
from tests.checkout import stripe_browser as browser

pytestmark = pytest.mark.django_db


def _request(newsroom: Any, **overrides: Any) -> Any:
    variant = newsroom.campaigns.get().variants.get(key="a")
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": "one_off",
        "amount": 500,
        "currency": "USD",
        "email": "Reader@Example.org",
        "name": "Ada",
        "receipt": True,
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": "en",
        "return": "http://127.0.0.1:8000/demo/2/",
    }
    data.update(overrides)
    return checkout_request_parse(data, newsroom=newsroom)


def _checkout(newsroom: Any, card: str = browser.GOOD, **overrides: Any) -> services.CheckoutOutcome:
    started = services.contribution_start(newsroom=newsroom, request=_request(newsroom, **overrides))
    assert started.state == "setup" and started.client_secret
    browser.card_set_up(started.client_secret, card)
    return services.contribution_pay(contribution=started.contribution)


def test_one_off_card_payment_records_one_payment_and_counts_once(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom)
    assert outcome.state == "done"
    contribution = Contribution.objects.get(id=outcome.contribution.id)
    assert contribution.status == Contribution.Status.SUCCEEDED
    assert contribution.supporter.email == "reader@example.org"
    assert contribution.return_url == "http://127.0.0.1:8000/demo/2/"
    payment = Payment.objects.get(contribution=contribution)
    assert (payment.amount, payment.currency, payment.provider_payment_id) == (
        500,
        "USD",
        contribution.provider_payment_intent_id,
    )
    # Paying again (a reload of the last step) answers done and changes nothing.
    again = services.contribution_pay(contribution=contribution)
    assert again.state == "done"
    assert Payment.objects.filter(contribution=contribution).count() == 1
    count = ConversionCount.objects.get(variant=contribution.variant, currency="USD", frequency="one_off")
    assert (count.count, count.amount) == (1, 500)
    assert len(browser.charges_for(contribution.request_key)) == 1


def test_monthly_card_support_creates_customer_plan_and_active_subscription(
    localstripe: str, demo_newsroom: Any
) -> None:
    outcome = _checkout(demo_newsroom, frequency="monthly", amount=200)
    contribution = Contribution.objects.get(id=outcome.contribution.id)
    assert outcome.state == "done", contribution.failure_reason
    assert contribution.status == Contribution.Status.ACTIVE
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    assert (subscription.status, subscription.amount, subscription.currency, subscription.interval) == (
        "active",
        200,
        "USD",
        "month",
    )
    assert Payment.objects.filter(contribution=contribution).count() == 1
    # The same plan serves the next supporter of the same amount.
    second = _checkout(demo_newsroom, frequency="monthly", amount=200, email="other@example.org")
    assert Contribution.objects.get(id=second.contribution.id).provider_plan_id == contribution.provider_plan_id


def test_three_d_secure_one_off_asks_the_page_then_succeeds(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.THREE_D_SECURE, currency="EUR", amount=1000)
    assert outcome.state == "action" and outcome.client_secret
    assert Contribution.objects.get(id=outcome.contribution.id).status == Contribution.Status.REQUIRES_ACTION
    browser.payment_authenticate(outcome.client_secret)
    done = services.contribution_pay(contribution=outcome.contribution)
    assert done.state == "done"
    assert Payment.objects.get(contribution=outcome.contribution).amount == 1000


def test_three_d_secure_monthly_first_invoice_needs_authentication(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.THREE_D_SECURE, frequency="monthly", amount=500)
    assert outcome.state == "action"
    browser.payment_authenticate(outcome.client_secret)
    assert services.contribution_pay(contribution=outcome.contribution).state == "done"
    assert Contribution.objects.get(id=outcome.contribution.id).status == Contribution.Status.ACTIVE


def test_failed_authentication_fails_without_payment(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.THREE_D_SECURE)
    browser.payment_authenticate(outcome.client_secret, success=False)
    failed = services.contribution_pay(contribution=outcome.contribution)
    assert (failed.state, failed.error_key) == ("failed", "authentication_failed")
    assert not Payment.objects.filter(contribution=outcome.contribution).exists()


def test_card_failing_when_charged_is_declined_and_nothing_paid(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.FAILS_WHEN_CHARGED)
    assert (outcome.state, outcome.error_key) == ("failed", "card_declined")
    contribution = Contribution.objects.get(id=outcome.contribution.id)
    assert contribution.status == Contribution.Status.FAILED
    assert not Payment.objects.exists()
    assert not ConversionCount.objects.exists()


def test_monthly_with_failing_card_never_becomes_active(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.FAILS_WHEN_CHARGED, frequency="monthly", amount=200)
    assert outcome.state == "failed"
    assert Contribution.objects.get(id=outcome.contribution.id).status == Contribution.Status.FAILED
    assert not Payment.objects.exists()


def test_card_from_a_risk_country_is_refused_before_anything_is_created(localstripe: str, demo_newsroom: Any) -> None:
    demo_newsroom.risk_countries = "RU, FR"  # localstripe's cards are all issued in FR
    demo_newsroom.save()
    before = browser.counts()
    outcome = _checkout(demo_newsroom, frequency="monthly", amount=200)
    assert outcome.state == "refused"
    assert Contribution.objects.get(id=outcome.contribution.id).status == Contribution.Status.REFUSED
    assert browser.counts() == before
    # A retry of the same checkout stays refused and still creates nothing.
    assert services.contribution_pay(contribution=outcome.contribution).state == "refused"
    assert browser.counts() == before


def test_sepa_direct_debit_monthly_in_euros_starts(localstripe: str, demo_newsroom: Any) -> None:
    started = services.contribution_start(
        newsroom=demo_newsroom,
        request=_request(demo_newsroom, frequency="monthly", amount=500, currency="EUR", method="sepa_debit"),
    )
    browser.iban_set_up(started.client_secret, "DE89370400440532013000")
    outcome = services.contribution_pay(contribution=started.contribution)
    assert outcome.state == "done"
    contribution = Contribution.objects.get(id=started.contribution.id)
    assert (contribution.status, contribution.payment_method_type) == (Contribution.Status.ACTIVE, "sepa_debit")


def test_start_twice_with_one_request_key_reuses_the_contribution(localstripe: str, demo_newsroom: Any) -> None:
    request = _request(demo_newsroom)
    first = services.contribution_start(newsroom=demo_newsroom, request=request)
    second = services.contribution_start(newsroom=demo_newsroom, request=request)
    assert first.contribution.id == second.contribution.id
    assert first.client_secret == second.client_secret
    browser.card_set_up(second.client_secret)
    assert services.contribution_pay(contribution=second.contribution).state == "done"
    assert services.contribution_start(newsroom=demo_newsroom, request=request).state == "done"
    assert Contribution.objects.count() == 1


def test_lost_answer_from_stripe_then_retry_charges_once(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request dies after localstripe created and charged the intent, before we stored its id.

    Why the retry cannot charge again: before the create call, attempt_begin committed
    provider_attempted_at on our row; the intent carries metadata checkout=<request_key>. The retry finds the
    marker set and no stored id, so it looks the intent up by that metadata (localstripe: list; Stripe:
    search, plus the same idempotency key) and adopts it instead of creating a second one.
    """
    real_create = gateway.payment_intent_create

    def create_then_lose_the_answer(**kwargs: Any) -> Any:
        real_create(**kwargs)  # reached localstripe: the card is charged
        raise gateway.GatewayUnavailable("connection reset while reading the answer", kind="unavailable")

    started = services.contribution_start(newsroom=demo_newsroom, request=_request(demo_newsroom))
    browser.card_set_up(started.client_secret)
    monkeypatch.setattr(gateway, "payment_intent_create", create_then_lose_the_answer)
    with pytest.raises(CheckoutProblem) as lost:
        services.contribution_pay(contribution=started.contribution)
    assert (lost.value.code, lost.value.status) == ("unconfirmed", 503)
    assert "you will not be charged twice" in lost.value.message
    contribution = Contribution.objects.get(id=started.contribution.id)
    assert contribution.provider_payment_intent_id == ""  # the id never reached our database
    assert contribution.provider_attempted_at is not None
    assert len(browser.charges_for(contribution.request_key)) == 1

    monkeypatch.setattr(gateway, "payment_intent_create", real_create)
    retried = services.contribution_pay(contribution=contribution)
    assert retried.state == "done"
    assert len(browser.charges_for(contribution.request_key)) == 1
    contribution.refresh_from_db()
    assert contribution.provider_payment_intent_id
    assert Payment.objects.filter(contribution=contribution).count() == 1


def test_lost_answer_for_a_subscription_then_retry_subscribes_once(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = gateway.subscription_create

    def create_then_lose_the_answer(**kwargs: Any) -> Any:
        real_create(**kwargs)
        raise gateway.GatewayUnavailable("timeout", kind="unavailable")

    started = services.contribution_start(
        newsroom=demo_newsroom, request=_request(demo_newsroom, frequency="monthly", amount=200)
    )
    browser.card_set_up(started.client_secret)
    monkeypatch.setattr(gateway, "subscription_create", create_then_lose_the_answer)
    with pytest.raises(CheckoutProblem):
        services.contribution_pay(contribution=started.contribution)
    monkeypatch.setattr(gateway, "subscription_create", real_create)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    customer = Contribution.objects.get(id=started.contribution.id).provider_customer_id
    subscriptions = list(gateway.subscriptions_list(customer_id=customer))
    assert len(subscriptions) == 1
    assert Payment.objects.filter(contribution=started.contribution).count() == 1


def test_start_again_after_a_lost_answer_resumes_the_payment(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader clicks again after 'please try again': the page's start call must lead to pay, not a new set-up."""
    real_create = gateway.payment_intent_create

    def lost(**kwargs: Any) -> Any:
        real_create(**kwargs)
        raise gateway.GatewayUnavailable("timeout", kind="unavailable")

    request = _request(demo_newsroom)
    started = services.contribution_start(newsroom=demo_newsroom, request=request)
    browser.card_set_up(started.client_secret)
    monkeypatch.setattr(gateway, "payment_intent_create", lost)
    with pytest.raises(CheckoutProblem):
        services.contribution_pay(contribution=started.contribution)
    monkeypatch.setattr(gateway, "payment_intent_create", real_create)
    again = services.contribution_start(newsroom=demo_newsroom, request=request)
    assert again.state == "pay"
    assert services.contribution_pay(contribution=again.contribution).state == "done"
    assert len(browser.charges_for(request.request_key)) == 1


def test_sepa_one_off_in_euros_and_a_failing_iban_settled_by_the_ledger(localstripe: str, demo_newsroom: Any) -> None:
    good = services.contribution_start(
        newsroom=demo_newsroom, request=_request(demo_newsroom, currency="EUR", amount=900, method="sepa_debit")
    )
    browser.iban_set_up(good.client_secret, "DE89370400440532013000")
    # localstripe reports a good debit succeeded at once; Stripe says processing for days. Both are fine.
    assert services.contribution_pay(contribution=good.contribution).state in ("done", "processing")
    bad = services.contribution_start(
        newsroom=demo_newsroom,
        request=_request(demo_newsroom, currency="EUR", amount=900, method="sepa_debit", email="other@example.org"),
    )
    browser.iban_set_up(bad.client_secret, "DE62370400440532013001")  # fails asynchronously at localstripe
    assert services.contribution_pay(contribution=bad.contribution).state == "processing"
    time.sleep(0.8)  # localstripe settles SEPA debits after half a second
    good_intent = Contribution.objects.get(id=good.contribution.id).provider_payment_intent_id
    bad_intent = Contribution.objects.get(id=bad.contribution.id).provider_payment_intent_id
    assert (
        ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=good_intent).status
        == Contribution.Status.SUCCEEDED
    )
    assert ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=bad_intent).status == Contribution.Status.FAILED
    assert list(Payment.objects.values_list("amount", "currency")) == [(900, "EUR")]


@pytest.mark.django_db
def test_a_checkout_cannot_rewrite_an_existing_supporters_name(demo_newsroom) -> None:
    from readerfund.checkout.services import supporter_for

    first = supporter_for(newsroom=demo_newsroom, email="ada@example.org", name="Ada", locale="en")
    again = supporter_for(newsroom=demo_newsroom, email="ada@example.org", name="Mallory", locale="en")
    assert again.id == first.id
    again.refresh_from_db()
    assert again.name == "Ada"
    unnamed = supporter_for(newsroom=demo_newsroom, email="bo@example.org", name="", locale="en")
    supporter_for(newsroom=demo_newsroom, email="bo@example.org", name="Bo", locale="en")
    unnamed.refresh_from_db()
    assert unnamed.name == "Bo"


# --- findings of the review that tried to break it ----------------------------------------------------


def _customer_default_card(customer_id: str) -> str:
    customer = browser.client().v1.customers.retrieve(customer_id).to_dict()
    return str((customer.get("invoice_settings") or {}).get("default_payment_method") or "")


def test_second_checkout_with_same_email_leaves_first_plans_card_alone(localstripe: str, demo_newsroom: Any) -> None:
    """A stranger types a supporter's address into a monthly checkout with an empty card: the supporter's
    plan keeps its own Customer and card, and its next renewal is charged to the supporter's card."""
    first = _checkout(demo_newsroom, frequency="monthly", amount=500, email="victim@example.org")
    assert first.state == "done"
    victim = Contribution.objects.get(id=first.contribution.id)
    card_before = _customer_default_card(victim.provider_customer_id)
    assert card_before

    stranger = _checkout(
        demo_newsroom, card=browser.FAILS_WHEN_CHARGED, frequency="monthly", amount=500, email="VICTIM@example.org"
    )
    intruder = Contribution.objects.get(id=stranger.contribution.id)
    assert intruder.supporter_id == victim.supporter_id  # one supporter, two separate contributions
    assert intruder.provider_customer_id and intruder.provider_customer_id != victim.provider_customer_id
    assert _customer_default_card(victim.provider_customer_id) == card_before
    victim.refresh_from_db()
    assert victim.status == Contribution.Status.ACTIVE

    # The next renewal of the supporter's plan is charged to the supporter's own card.
    renewal = gateway.invoice_create(
        customer_id=victim.provider_customer_id,
        subscription_id=victim.provider_subscription_id,
        idempotency_key=f"test-{secrets.token_hex(4)}",
    )
    paid = gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=f"test-{secrets.token_hex(4)}")
    assert paid.paid


def test_a_supporters_own_second_plan_is_a_separate_contribution_with_its_own_card(
    localstripe: str, demo_newsroom: Any
) -> None:
    first = _checkout(demo_newsroom, frequency="monthly", amount=300, email="ada@example.org")
    second = _checkout(demo_newsroom, frequency="annual", amount=5000, email="ada@example.org")
    assert (first.state, second.state) == ("done", "done")
    a, b = (Contribution.objects.get(id=o.contribution.id) for o in (first, second))
    assert a.supporter_id == b.supporter_id
    assert len({a.provider_customer_id, b.provider_customer_id}) == 2
    assert len({a.provider_subscription_id, b.provider_subscription_id}) == 2
    assert {a.status, b.status} == {Contribution.Status.ACTIVE}


@pytest.mark.django_db(transaction=True)
def test_another_readers_checkout_can_write_while_a_stripe_call_is_in_flight(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction is open during a provider call: another request (here a write to the very same row,
    on another connection) goes through at once instead of meeting SQLite's one write lock (or, on
    PostgreSQL, the row lock) held for a round-trip to Stripe."""
    import threading

    from django.db import connection, connections
    from django.utils import timezone

    real_create = gateway.subscription_create
    outcome: dict[str, Any] = {}

    def other_request(contribution_id: int) -> None:
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '2s'")
            Contribution.objects.filter(id=contribution_id).update(updated_at=timezone.now())
            outcome["other"] = "written"
        except Exception as error:  # recorded for the assertion below
            outcome["other"] = repr(error)
        finally:
            connections.close_all()

    def create_while_another_request_writes(**kwargs: Any) -> Any:
        contribution_id = int(kwargs["metadata"]["contribution"])
        thread = threading.Thread(target=other_request, args=(contribution_id,))
        thread.start()
        thread.join(10)
        return real_create(**kwargs)

    started = services.contribution_start(
        newsroom=demo_newsroom, request=_request(demo_newsroom, frequency="monthly", amount=200)
    )
    browser.card_set_up(started.client_secret)
    monkeypatch.setattr(gateway, "subscription_create", create_while_another_request_writes)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    assert outcome["other"] == "written"


def test_a_second_pay_while_the_first_talks_to_stripe_creates_nothing(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double click: the second request arrives while the first is creating the subscription. It finds
    the checkout's lease, creates nothing and tells the page to ask again; the first finishes."""
    real_create = gateway.subscription_create
    second: dict[str, Any] = {}

    def create_with_a_second_click(**kwargs: Any) -> Any:
        second["outcome"] = services.contribution_pay(contribution=started.contribution)
        return real_create(**kwargs)

    started = services.contribution_start(
        newsroom=demo_newsroom, request=_request(demo_newsroom, frequency="monthly", amount=200)
    )
    browser.card_set_up(started.client_secret)
    before = browser.counts()["subscriptions"]
    monkeypatch.setattr(gateway, "subscription_create", create_with_a_second_click)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    assert second["outcome"].state == "pay"
    assert browser.counts()["subscriptions"] == before + 1
    monkeypatch.setattr(gateway, "subscription_create", real_create)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    assert browser.counts()["subscriptions"] == before + 1


def test_idempotency_keys_come_from_the_request_key_never_from_row_ids(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a database restore, or with two deployments on one account, row ids repeat inside Stripe's
    24-hour window with other parameters (Stripe: idempotency_error). Request keys are random."""
    import re

    from readerfund.payments.gateway import client as gateway_client
    from readerfund.payments.models import ProviderPlan

    keys: list[str] = []
    real = gateway_client.write_options

    def recording(key: str) -> Any:
        keys.append(key)
        return real(key)

    monkeypatch.setattr(gateway_client, "write_options", recording)
    for module in ("customers", "one_off", "recurring"):
        monkeypatch.setattr(f"readerfund.payments.gateway.{module}.write_options", recording)
    one_off = _checkout(demo_newsroom)
    monthly = _checkout(demo_newsroom, frequency="monthly", amount=700)
    request_keys = {
        Contribution.objects.get(id=one_off.contribution.id).request_key,
        Contribution.objects.get(id=monthly.contribution.id).request_key,
        *ProviderPlan.objects.values_list("request_key", flat=True),
    }
    assert len(keys) >= 6
    for key in keys:
        assert key.split(":")[0] in request_keys, key
        assert not re.search(r"(contribution|supporter|plan)-\d+", key), key


def test_a_subscription_whose_first_payment_fails_is_not_left_incomplete(localstripe: str, demo_newsroom: Any) -> None:
    outcome = _checkout(demo_newsroom, card=browser.FAILS_WHEN_CHARGED, frequency="monthly", amount=400)
    assert outcome.state == "failed"
    contribution = Contribution.objects.get(id=outcome.contribution.id)
    assert contribution.status == Contribution.Status.FAILED
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    assert subscription.status == "canceled"


def test_a_saved_checkout_left_at_3d_secure_then_a_new_amount_starts_afresh(
    localstripe: str, demo_newsroom: Any
) -> None:
    """The tab kept its request key across a reload; the reader left 3-D Secure unfinished and now chose
    another amount. Nothing was charged for the first, so the page gets a fresh key, not the old plan."""
    request = _request(demo_newsroom, frequency="monthly", amount=500)
    started = services.contribution_start(newsroom=demo_newsroom, request=request)
    browser.card_set_up(started.client_secret, browser.THREE_D_SECURE)
    assert services.contribution_pay(contribution=started.contribution).state == "action"
    same = services.contribution_start(newsroom=demo_newsroom, request=request)
    assert same.state == "pay"
    other = dataclasses.replace(request, money=Money(900, "USD"))
    with pytest.raises(CheckoutProblem) as problem:
        services.contribution_start(newsroom=demo_newsroom, request=other)
    assert (problem.value.code, problem.value.status) == ("earlier_unfinished", 409)
    assert problem.value.extra["next_request_key"] != request.request_key
    assert Contribution.objects.get(id=started.contribution.id).amount == 500


def test_a_saved_checkout_that_was_paid_is_not_paid_again_for_a_new_amount(
    localstripe: str, demo_newsroom: Any
) -> None:
    request = _request(demo_newsroom, amount=500)
    started = services.contribution_start(newsroom=demo_newsroom, request=request)
    browser.card_set_up(started.client_secret)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    again = services.contribution_start(
        newsroom=demo_newsroom, request=dataclasses.replace(request, money=Money(900, "USD"))
    )
    assert again.state == "done"
    assert len(browser.charges_for(request.request_key)) == 1


@pytest.mark.parametrize(
    ("frequency", "signal"),
    [("monthly", "invoice_failed"), ("monthly", "first_payment_expired"), ("one_off", "declined")],
)
def test_a_direct_debit_that_fails_after_the_reader_left_writes_to_them_once(
    demo_newsroom: Any, frequency: str, signal: str
) -> None:
    """Stripe keeps a first SEPA payment `processing` for days, then fails it (invoice.payment_failed, then
    incomplete_expired). localstripe instead activates the plan at once and deletes it when the debit
    fails, so this drives the one status writer with what Stripe would say."""
    from readerfund.notifications.models import OutboxMessage
    from readerfund.payments.transitions import Signal

    contribution = Contribution.objects.create(
        newsroom=demo_newsroom,
        supporter=services.supporter_for(newsroom=demo_newsroom, email="debit@example.org", name="", locale="ru"),
        frequency=frequency,
        amount=500,
        currency="EUR",
        payment_method_type="sepa_debit",
        request_key=secrets.token_urlsafe(24),
    )
    for _ in range(2):
        ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal(signal), reason="debit_failed")
    contribution.refresh_from_db()
    assert contribution.status == Contribution.Status.FAILED
    assert OutboxMessage.objects.filter(template="payment_failed").count() == 1


def test_a_new_amount_chosen_while_a_pay_is_on_its_way_is_never_charged_at_the_old_one(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader reloads while the first pay request is still reading the card at Stripe, and chooses
    another amount: the start commits the new amount before that pay takes the checkout's lease. That pay
    read the row earlier: it must not charge the old amount into a contribution that now says the new one
    (the thank-you page would name $9 for a $5 charge)."""
    request = _request(demo_newsroom, amount=500)
    started = services.contribution_start(newsroom=demo_newsroom, request=request)
    browser.card_set_up(started.client_secret)
    real_read = gateway.payment_method_get
    again: dict[str, services.CheckoutOutcome] = {}

    def read_while_the_reader_chooses_again(**kwargs: Any) -> Any:
        monkeypatch.setattr(gateway, "payment_method_get", real_read)
        changed = dataclasses.replace(request, money=Money(900, "USD"))
        again["start"] = services.contribution_start(newsroom=demo_newsroom, request=changed)
        return real_read(**kwargs)

    monkeypatch.setattr(gateway, "payment_method_get", read_while_the_reader_chooses_again)
    stale = services.contribution_pay(contribution=started.contribution)
    assert stale.state == "pay"
    assert browser.charges_for(request.request_key) == []
    assert again["start"].state == "setup"
    browser.card_set_up(again["start"].client_secret)
    assert services.contribution_pay(contribution=started.contribution).state == "done"
    contribution = Contribution.objects.get(id=started.contribution.id)
    assert contribution.amount == 900
    assert [p.amount for p in Payment.objects.filter(contribution=contribution)] == [900]
    assert [c["amount"] for c in browser.charges_for(request.request_key)] == [900]


def test_a_new_choice_after_3d_secure_while_stripe_is_unreachable_never_says_nothing_was_charged(
    localstripe: str, demo_newsroom: Any, settings: Any
) -> None:
    """The reader passed (or not) 3-D Secure and reloaded before the page asked us; they now choose another
    amount, and Stripe does not answer. Whether the first payment went through is unknown: the answer may
    not say "nothing was charged" (`unavailable`), only that we could not confirm it."""
    from readerfund.demo.processes import free_port

    request = _request(demo_newsroom, amount=500)
    started = services.contribution_start(newsroom=demo_newsroom, request=request)
    browser.card_set_up(started.client_secret, browser.THREE_D_SECURE)
    action = services.contribution_pay(contribution=started.contribution)
    assert action.state == "action"
    browser.payment_authenticate(action.client_secret)  # charged, and we have not heard yet
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(CheckoutProblem) as problem:
        services.contribution_start(
            newsroom=demo_newsroom, request=dataclasses.replace(request, money=Money(900, "USD"))
        )
    assert (problem.value.code, problem.value.status) == ("unconfirmed", 503)

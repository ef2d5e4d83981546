"""A supporter's changes to their own recurring contribution (payments/changes.py), against localstripe.

localstripe runs the emulator's path of the gateway (the fixture's account has emulator=True): a pause is
a trial_end, a plan change carries no proration_behavior. The real-Stripe parameters are checked at the
end against a recording stand-in of Stripe's API.
"""

from __future__ import annotations

import contextlib
import inspect
import secrets
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.render import message_render
from readerfund.payments import changes, gateway, ledger
from readerfund.payments.models import CancellationReason, Contribution, ContributionChange, Payment
from tests.checkout import stripe_browser as browser
from tests.factories import contribution_paid
from tests.payments.stand_in import recording_stripe, stand_in_account

pytestmark = pytest.mark.django_db
Status = Contribution.Status
OTHER_CARD = "5555555555554444"


def _monthly(newsroom: Any, *, amount: int = 500, email: str = "reader@example.org") -> Contribution:
    """An active monthly contribution made through the real checkout services."""
    return contribution_paid(newsroom, amount=amount, email=email)


def _stripe_subscription(contribution: Contribution) -> dict[str, Any]:
    raw = browser.client().v1.subscriptions.retrieve(contribution.provider_subscription_id).to_dict()
    return dict(raw)


def _default_card(contribution: Contribution) -> str:
    return gateway.customer_default_payment_method_get(customer_id=contribution.provider_customer_id)


def _notices(contribution: Contribution) -> int:
    return OutboxMessage.objects.filter(template="plan_changed", newsroom=contribution.newsroom).count()


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


# --- amount and frequency --------------------------------------------------------------------------


def test_a_lower_amount_is_what_the_next_renewal_charges(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom, amount=500)
    changed = changes.contribution_amount_change(contribution=contribution, amount=300, frequency="monthly")
    assert (changed.amount, changed.frequency, changed.status) == (300, "monthly", Status.ACTIVE)
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    assert (subscription.amount, subscription.interval, subscription.plan_id) == (
        300,
        "month",
        changed.provider_plan_id,
    )

    renewal = gateway.invoice_create(
        customer_id=subscription.customer, subscription_id=subscription.id, idempotency_key=_key()
    )
    paid = gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=_key())
    assert (paid.paid, paid.amount_paid) == (True, 300)
    payment = ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id)
    assert payment is not None and payment.amount == 300
    assert _notices(contribution) == 1
    for locale, words in (("en", "a month"), ("ru", "в месяц")):
        message = OutboxMessage.objects.get(template="plan_changed")
        message.locale = locale
        mail = message_render(message)
        assert words in mail.body and "$3" in mail.body
        assert demo_newsroom.name not in mail.subject


def test_an_amount_below_the_minimum_is_refused_and_stripe_is_untouched(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom, amount=500)
    with pytest.raises(changes.ChangeRefused) as refused:
        changes.contribution_amount_change(contribution=contribution, amount=40, frequency="monthly")
    assert refused.value.code == "below_minimum"
    with pytest.raises(changes.ChangeRefused) as one_off:
        changes.contribution_amount_change(contribution=contribution, amount=500, frequency="one_off")
    assert one_off.value.code == "unsupported_frequency"
    assert gateway.subscription_get(subscription_id=contribution.provider_subscription_id).amount == 500
    assert Contribution.objects.get(id=contribution.id).amount == 500
    assert not ContributionChange.objects.filter(contribution=contribution).exists()


def test_a_one_off_or_ended_contribution_cannot_be_changed(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    Contribution.objects.filter(id=contribution.id).update(status=Status.CANCELED)
    with pytest.raises(changes.ChangeRefused) as ended:
        changes.contribution_pause(contribution=contribution, months=1)
    assert ended.value.code == "canceled"
    Contribution.objects.filter(id=contribution.id).update(frequency="one_off", status=Status.SUCCEEDED)
    with pytest.raises(changes.ChangeRefused) as one_off:
        changes.contribution_cancel(contribution=contribution)
    assert one_off.value.code == "not_recurring"


def test_monthly_to_annual_starts_an_annual_period(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom, amount=500)
    changed = changes.contribution_amount_change(contribution=contribution, amount=5000, frequency="annual")
    assert (changed.amount, changed.frequency, changed.status) == (5000, "annual", Status.ACTIVE)
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    assert (subscription.amount, subscription.interval) == (5000, "year")
    # The provider invoiced the new period at once, and the ledger holds that payment.
    assert Payment.objects.filter(contribution=contribution, provider_invoice_id=subscription.latest_invoice).exists()


def test_asking_twice_changes_stripe_once(localstripe: str, demo_newsroom: Any, monkeypatch: Any) -> None:
    contribution = _monthly(demo_newsroom, amount=500)
    calls: list[str] = []
    real = gateway.subscription_plan_change

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["idempotency_key"])
        return real(**kwargs)

    monkeypatch.setattr(gateway, "subscription_plan_change", counting)
    for _ in range(2):
        changed = changes.contribution_amount_change(contribution=contribution, amount=700, frequency="monthly")
        assert changed.amount == 700
    assert len(calls) == 1
    assert ContributionChange.objects.filter(contribution=contribution).count() == 1
    assert _notices(contribution) == 1

    # A request still in flight (its marker committed, no answer yet): the same again is a no-op.
    ContributionChange.objects.create(
        contribution=contribution, kind="amount", parameters={"amount": 900, "frequency": "monthly"}
    )
    assert changes.contribution_amount_change(contribution=contribution, amount=900, frequency="monthly").amount == 700
    with pytest.raises(changes.ChangeRefused) as busy:
        changes.contribution_pause(contribution=contribution, months=1)
    assert busy.value.code == "in_progress"
    assert len(calls) == 1


def test_a_paused_plan_keeps_its_frequency_and_nothing_is_charged(localstripe: str, demo_newsroom: Any) -> None:
    # A change of frequency starts a new period at once: during a pause it would charge (or, with Stripe's
    # pause_collection, void the new period's invoice and give a year away) while the ledger says paused.
    contribution = _monthly(demo_newsroom, amount=500)
    changes.contribution_pause(contribution=contribution, months=2)
    with pytest.raises(changes.ChangeRefused) as refused:
        changes.contribution_amount_change(contribution=contribution, amount=5000, frequency="annual")
    assert refused.value.code == "not_running"
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    assert (subscription.amount, subscription.interval) == (500, "month")
    assert Payment.objects.filter(contribution=contribution).count() == 1
    # The amount alone may change while paused: the renewal after the pause charges it.
    changed = changes.contribution_amount_change(contribution=contribution, amount=700, frequency="monthly")
    assert (changed.status, changed.amount) == (Status.PAUSED, 700)
    assert Payment.objects.filter(contribution=contribution).count() == 1


# --- pause and resume ------------------------------------------------------------------------------


def test_pause_holds_the_plan_and_resume_restores_it(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    paused = changes.contribution_pause(contribution=contribution, months=2)
    until = changes.pause_end(today=timezone.now().date(), months=2)
    assert (paused.status, paused.paused_until) == (Status.PAUSED, until)
    # The emulator's path: the next charge pushed to the resume day with trial_end; its status stays active.
    raw = _stripe_subscription(contribution)
    assert raw["trial_end"] == int(datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp())
    assert raw["status"] == "active"
    # A webhook's sync (the provider says active) does not end the pause before its date.
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    assert Contribution.objects.get(id=contribution.id).status == Status.PAUSED
    # Pausing again while paused is refused; the same click again is a no-op.
    assert changes.contribution_pause(contribution=contribution, months=2).status == Status.PAUSED
    with pytest.raises(changes.ChangeRefused) as again:
        changes.contribution_pause(contribution=contribution, months=1)
    assert again.value.code == "already_paused"

    resumed = changes.contribution_resume(contribution=contribution)
    assert (resumed.status, resumed.paused_until) == (Status.ACTIVE, None)
    assert _stripe_subscription(contribution)["trial_end"] <= int(timezone.now().timestamp())
    assert changes.contribution_resume(contribution=contribution).status == Status.ACTIVE  # a double click
    assert _notices(contribution) == 2


def test_a_pause_past_its_date_ends_with_the_providers_word(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    changes.contribution_pause(contribution=contribution, months=1)
    Contribution.objects.filter(id=contribution.id).update(paused_until=date(2020, 1, 1))
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    row = Contribution.objects.get(id=contribution.id)
    assert (row.status, row.paused_until) == (Status.ACTIVE, None)


def test_the_same_pause_again_after_the_first_ran_out_pauses(localstripe: str, demo_newsroom: Any) -> None:
    # The first pause's marker is done; its date passing (no change of ours) made the plan active again. The
    # same click months later is a new pause, not "already done".
    contribution = _monthly(demo_newsroom)
    changes.contribution_pause(contribution=contribution, months=1)
    Contribution.objects.filter(id=contribution.id).update(paused_until=date(2020, 1, 1))
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE
    again = changes.contribution_pause(contribution=contribution, months=1)
    until = changes.pause_end(today=timezone.now().date(), months=1)
    assert (again.status, again.paused_until) == (Status.PAUSED, until)
    assert _stripe_subscription(contribution)["trial_end"] == int(
        datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp()
    )
    assert changes.contribution_pause(contribution=contribution, months=1).status == Status.PAUSED  # double click
    assert _notices(contribution) == 2


@pytest.mark.parametrize("months", [0, 4, -1])
def test_pause_is_one_to_three_months(months: int) -> None:
    with pytest.raises(changes.ChangeRefused) as refused:
        changes.contribution_pause(contribution=Contribution(), months=months)
    assert refused.value.code == "months"


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2028, 11, 30), 3, date(2029, 2, 28)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
    ],
)
def test_pause_end(today: date, months: int, expected: date) -> None:
    assert changes.pause_end(today=today, months=months) == expected


# --- cancel ----------------------------------------------------------------------------------------


def test_cancel_runs_to_the_end_of_the_paid_period(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    canceled = changes.contribution_cancel(contribution=contribution, reason="  Too expensive\nright now  ")
    raw = _stripe_subscription(contribution)
    assert raw["cancel_at_period_end"] is True and raw["status"] == "active"
    assert canceled.status == Status.ACTIVE
    assert canceled.cancels_at == datetime.fromtimestamp(raw["current_period_end"], tz=UTC).date()
    # A second click changes nothing and keeps no second reason.
    changes.contribution_cancel(contribution=contribution, reason="again")
    reason = CancellationReason.objects.get()
    assert (reason.reason, reason.frequency, reason.currency) == ("Too expensive right now", "monthly", "USD")
    # Nothing in the row points at a person or a contribution.
    linked = {f.related_model for f in CancellationReason._meta.get_fields() if f.is_relation}
    assert linked == {type(demo_newsroom)}
    with pytest.raises(changes.ChangeRefused) as pending:
        changes.contribution_pause(contribution=contribution, months=1)
    assert pending.value.code == "cancel_pending"

    # The period ends: Stripe deletes the subscription, and the ledger's sync makes it canceled.
    browser.client().v1.subscriptions.cancel(contribution.provider_subscription_id)
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    assert Contribution.objects.get(id=contribution.id).status == Status.CANCELED
    assert _notices(contribution) == 1


def test_a_paused_plan_cancels_now(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    changes.contribution_pause(contribution=contribution, months=1)
    canceled = changes.contribution_cancel(contribution=contribution)
    assert (canceled.status, canceled.paused_until) == (Status.CANCELED, None)
    assert _stripe_subscription(contribution)["status"] == "canceled"
    assert not CancellationReason.objects.exists()


# --- card ------------------------------------------------------------------------------------------


def test_a_new_card_bills_this_plan_only(localstripe: str, demo_newsroom: Any) -> None:
    first = _monthly(demo_newsroom, amount=500)
    second = _monthly(demo_newsroom, amount=700)
    assert first.supporter_id == second.supporter_id
    second_card = _default_card(second)

    secret = changes.contribution_card_replace_start(contribution=first)
    assert changes.contribution_card_replace_start(contribution=first) == secret  # asked again: the same one
    browser.card_set_up(secret, OTHER_CARD)
    setup_id = secret.split("_secret_")[0]
    replaced = changes.contribution_card_replace_finish(contribution=first, setup_intent_id=setup_id)
    new_card = gateway.setup_intent_get(setup_intent_id=setup_id).payment_method
    assert _default_card(first) == new_card == replaced.provider_payment_method_id
    assert gateway.payment_method_get(payment_method_id=new_card).last4 == "4444"
    assert _default_card(second) == second_card
    # Finishing again changes nothing.
    changes.contribution_card_replace_finish(contribution=first, setup_intent_id=setup_id)
    assert _notices(first) == 1


def test_another_contributions_setup_intent_is_refused(localstripe: str, demo_newsroom: Any) -> None:
    mine = _monthly(demo_newsroom, amount=500)
    theirs = _monthly(demo_newsroom, amount=700, email="stranger@example.org")
    my_card = _default_card(mine)
    secret = changes.contribution_card_replace_start(contribution=theirs)
    browser.card_set_up(secret, OTHER_CARD)
    with pytest.raises(changes.ChangeRefused) as refused:
        changes.contribution_card_replace_finish(contribution=mine, setup_intent_id=secret.split("_secret_")[0])
    assert refused.value.code == "foreign_setup"
    # A SetupIntent made outside our card change (the checkout's own, say) is no card change either.
    with pytest.raises(changes.ChangeRefused):
        changes.contribution_card_replace_finish(contribution=mine, setup_intent_id=mine.provider_setup_intent_id)
    assert _default_card(mine) == my_card


def test_a_card_from_a_risk_country_is_refused(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom)
    card = _default_card(contribution)
    demo_newsroom.risk_countries = "FR"  # localstripe's cards report FR
    demo_newsroom.save()
    secret = changes.contribution_card_replace_start(contribution=contribution)
    browser.card_set_up(secret, OTHER_CARD)
    with pytest.raises(changes.ChangeRefused) as refused:
        changes.contribution_card_replace_finish(contribution=contribution, setup_intent_id=secret.split("_secret_")[0])
    assert refused.value.code == "risk_country"
    assert _default_card(contribution) == card
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE


def test_a_new_card_pays_the_unpaid_renewal(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _monthly(demo_newsroom, amount=500)
    customer = contribution.provider_customer_id
    failing = browser.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": browser.FAILS_WHEN_CHARGED, "exp_month": 1, "exp_year": 2035, "cvc": "123"},
        }
    )
    gateway.payment_method_attach(payment_method_id=failing.id, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=failing.id, idempotency_key=_key()
    )
    renewal = gateway.invoice_create(
        customer_id=customer, subscription_id=contribution.provider_subscription_id, idempotency_key=_key()
    )
    with contextlib.suppress(gateway.PaymentDeclined):
        gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=_key())
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id)
    assert Contribution.objects.get(id=contribution.id).status == Status.PAST_DUE

    secret = changes.contribution_card_replace_start(contribution=contribution)
    browser.card_set_up(secret, OTHER_CARD)
    fixed = changes.contribution_card_replace_finish(
        contribution=contribution, setup_intent_id=secret.split("_secret_")[0]
    )
    assert fixed.status == Status.ACTIVE
    assert gateway.invoice_get(invoice_id=renewal.id).paid
    payment = Payment.objects.get(contribution=contribution, provider_invoice_id=renewal.id)
    assert (payment.amount, payment.recovered) == (500, True)


def test_no_service_takes_an_address() -> None:
    """The page checks who owns the contribution; these take the Contribution, never an e-mail."""
    for name in changes.__all__:
        service = getattr(changes, name)
        if name.startswith("contribution_"):
            parameters = inspect.signature(service).parameters
            assert "contribution" in parameters and not any("mail" in p for p in parameters)
            assert all(p.kind == p.KEYWORD_ONLY for p in parameters.values())


# --- what real Stripe is sent ----------------------------------------------------------------------


def _recorded(emulator: bool, call: Any) -> dict[str, list[str]]:
    answer = {
        "id": "sub_1", "object": "subscription", "status": "active", "customer": "cus_1", "metadata": {},
        "items": {"object": "list", "data": [{"id": "si_1", "plan": {"id": "plan_1", "amount": 300}}]},
        "data": [],
    }  # fmt: skip
    server, bodies = recording_stripe(answer)
    try:
        with gateway.account_use(stand_in_account(server, emulator=emulator)):
            call()
    finally:
        server.shutdown()
    return parse_qs(bodies[0], keep_blank_values=True)


@pytest.mark.parametrize("emulator", [False, True])
def test_pause_on_stripe_is_pause_collection_and_on_the_emulator_a_trial_end(emulator: bool) -> None:
    sent = _recorded(
        emulator,
        lambda: gateway.subscription_pause(subscription_id="sub_1", resumes_at=1_900_000_000, idempotency_key="k:p"),
    )
    if emulator:
        assert sent == {"trial_end": ["1900000000"]}
    else:
        assert sent == {"pause_collection[behavior]": ["void"], "pause_collection[resumes_at]": ["1900000000"]}


@pytest.mark.parametrize("emulator", [False, True])
def test_resume_on_stripe_clears_pause_collection_and_on_the_emulator_ends_the_trial(emulator: bool) -> None:
    sent = _recorded(emulator, lambda: gateway.subscription_resume(subscription_id="sub_1", idempotency_key="k:r"))
    assert sent == ({"trial_end": ["now"]} if emulator else {"pause_collection": [""]})


@pytest.mark.parametrize("emulator", [False, True])
def test_a_plan_change_on_stripe_is_not_prorated(emulator: bool) -> None:
    subscription = gateway.GatewaySubscription(
        id="sub_1", status="active", customer="cus_1", plan_id="plan_0", amount=500, currency="USD",
        interval="month", latest_invoice="", payment_intent=None, item_id="si_1",
    )  # fmt: skip
    sent = _recorded(
        emulator,
        lambda: gateway.subscription_plan_change(subscription=subscription, plan_id="plan_1", idempotency_key="k:c"),
    )
    assert sent["items[0][id]"] == ["si_1"] and sent["items[0][plan]"] == ["plan_1"]
    assert sent.get("proration_behavior") == (None if emulator else ["none"])

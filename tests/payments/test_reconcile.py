"""`readerfund reconcile`: repairs what lost webhooks left out, from Stripe's current state."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, Payment, Refund
from tests.payments import stripe_scenarios
from tests.payments.events import event_post
from tests.payments.stripe_scenarios import ledger_forget, ledger_state

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    return Newsroom.objects.create(slug="river-post", name="River Post")


def reconcile(slug: str) -> str:
    out = io.StringIO()
    call_command("reconcile", "--newsroom", slug, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.usefixtures("localstripe")
def test_reconcile_builds_the_ledger_webhooks_would_have_built_and_then_has_nothing_to_do(
    newsroom: Newsroom, client: Client, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE
    stories = [
        stripe_scenarios.one_off(newsroom, amount=500),
        stripe_scenarios.one_off(newsroom, amount=900, card=stripe_scenarios.CHARGE_FAILS_CARD),
        stripe_scenarios.refunded(newsroom, amount=2000, refund=2000),
        stripe_scenarios.monthly(newsroom, amount=300, currency="EUR"),
        stripe_scenarios.canceled(newsroom),
    ]
    for event in [event for story in stories for event in story.events]:
        with django_capture_on_commit_callbacks(execute=True):
            assert event_post(client, event).status_code == 200
    from_webhooks = ledger_state(newsroom)
    assert len(from_webhooks["payments"]) == 4

    # Every webhook lost: the contributions only hold the ids the checkout stored.
    ledger_forget(newsroom)
    report = reconcile(newsroom.slug)
    assert ledger_state(newsroom) == from_webhooks
    assert report.count("added payment ") == 4
    assert "added refund " in report
    assert f"status {Contribution.Status.CANCELED}" in report

    assert "nothing to repair" in reconcile(newsroom.slug)
    assert ledger_state(newsroom) == from_webhooks


@pytest.mark.usefixtures("localstripe")
def test_reconcile_restores_a_deleted_payment_once(newsroom: Newsroom) -> None:
    story = stripe_scenarios.refunded(newsroom, amount=1500, refund=500)
    other = stripe_scenarios.monthly(newsroom, amount=400, currency="USD")
    reconcile(newsroom.slug)
    before = ledger_state(newsroom)
    payment = Payment.objects.get(contribution=story.contribution)
    Refund.objects.filter(payment=payment).delete()
    payment.delete()

    report = reconcile(newsroom.slug)
    assert f"added payment {payment.provider_payment_id}: 15.00 USD partially_refunded, refunded 5.00" in report
    assert "added refund " in report
    assert ": 2 change(s)" in report  # the monthly contribution was untouched
    assert Payment.objects.filter(contribution=other.contribution).count() == 1
    assert ledger_state(newsroom) == before
    assert "nothing to repair" in reconcile(newsroom.slug)


@pytest.mark.usefixtures("localstripe")
def test_reconcile_records_a_renewal_whose_webhook_never_came(newsroom: Newsroom) -> None:
    story = stripe_scenarios.monthly(newsroom, amount=600, currency="USD")
    reconcile(newsroom.slug)
    assert Payment.objects.filter(contribution=story.contribution).count() == 1
    stripe_scenarios.renewal_paid(story)

    report = reconcile(newsroom.slug)
    assert report.count("added payment ") == 1
    assert Payment.objects.filter(contribution=story.contribution).count() == 2
    assert "nothing to repair" in reconcile(newsroom.slug)


def test_reconcile_of_an_unknown_newsroom_says_so(db: Any) -> None:
    with pytest.raises(CommandError, match="no newsroom 'nowhere'"):
        reconcile("nowhere")


@pytest.mark.usefixtures("localstripe")
def test_reconcile_reports_what_it_could_not_check(newsroom: Newsroom, settings: Any) -> None:
    stripe_scenarios.one_off(newsroom, amount=500)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    err = io.StringIO()
    with pytest.raises(CommandError, match="could not be checked"):
        call_command("reconcile", "--newsroom", newsroom.slug, stdout=io.StringIO(), stderr=err)
    assert "could not check payment intent" in err.getvalue()
    assert not Payment.objects.exists()


def _provider_paid_at(payment: Payment) -> int:
    """When Stripe took the money: the invoice's paid_at, or a one-off charge's creation."""
    if payment.provider_invoice_id:
        invoice = stripe_scenarios.fetched("invoices", payment.provider_invoice_id)
        return int(invoice["status_transitions"]["paid_at"])
    return int(stripe_scenarios.fetched("charges", payment.provider_charge_id)["created"])


@pytest.mark.usefixtures("localstripe")
def test_a_late_reconcile_dates_payments_when_stripe_took_the_money(
    newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe_scenarios.one_off(newsroom, amount=500)
    stripe_scenarios.renewal_recovered(newsroom)
    # Every webhook lost, and the reconcile runs three days later.
    late = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: late)
    reconcile(newsroom.slug)

    payments = list(Payment.objects.filter(newsroom=newsroom).order_by("paid_at", "id"))
    assert len(payments) == 3
    expected = [datetime.fromtimestamp(_provider_paid_at(payment), tz=UTC) for payment in payments]
    assert [payment.paid_at for payment in payments] == expected
    assert all(late - when > timedelta(days=2) for when in expected)
    out = io.StringIO()
    call_command("export", "payments", "--newsroom", newsroom.slug, stdout=out, stderr=io.StringIO())
    dates = [row[0] for row in list(csv.reader(io.StringIO(out.getvalue())))[1:]]
    assert dates == [when.strftime("%Y-%m-%dT%H:%M:%SZ") for when in expected]


@pytest.mark.usefixtures("localstripe")
def test_reconcile_from_nothing_knows_a_renewal_was_recovered(newsroom: Newsroom) -> None:
    story = stripe_scenarios.renewal_recovered(newsroom)
    # No webhook ever arrived: only Stripe's own history says the renewal failed before it was paid.
    reconcile(newsroom.slug)
    first, renewal = _invoice_ids(story)
    assert Payment.objects.get(provider_invoice_id=first).recovered is False
    assert Payment.objects.get(provider_invoice_id=renewal).recovered is True
    assert "nothing to repair" in reconcile(newsroom.slug)


def _invoice_ids(story: stripe_scenarios.Story) -> list[str]:
    ids = [e["data"]["object"]["id"] for e in story.events if e["type"].startswith("invoice.")]
    return list(dict.fromkeys(ids))

"""`readerfund reconcile`: repairs what lost webhooks left out, from Stripe's current state."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

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

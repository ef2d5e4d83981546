"""`readerfund reconcile`: repairs what lost webhooks left out, from Stripe's current state."""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.models import Contribution, Payment, ReconcileCursor, Refund
from readerfund.payments.provider import error_from_payload
from readerfund.payments.reconcile import BACKOFF_CAP_SECONDS, CURSOR_LAG, backoff_delay, ledger_reconcile
from tests.factories import newsroom_make
from tests.payments import stripe_scenarios
from tests.payments.events import event_post
from tests.payments.stripe_scenarios import ledger_forget, ledger_state

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    return newsroom_make(slug="river-post", name="River Post")


def reconcile(slug: str, *options: str) -> str:
    out = io.StringIO()
    call_command("reconcile", "--newsroom", slug, *options, stdout=out, stderr=io.StringIO())
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
def test_reconcile_reports_what_it_could_not_check(
    newsroom: Newsroom, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stripe_scenarios.one_off(newsroom, amount=500)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    naps: list[float] = []
    monkeypatch.setattr(time, "sleep", naps.append)  # the command's own waits, not the test's
    err = io.StringIO()
    with pytest.raises(CommandError, match="could not be checked"):
        call_command("reconcile", "--newsroom", newsroom.slug, stdout=io.StringIO(), stderr=err)
    assert "could not check payment intent" in err.getvalue()
    assert not Payment.objects.exists()
    # It backed off between its tries, then stopped the run rather than waiting on every object, and
    # left no cursor: the next run reads the same again.
    assert naps == [1.0, 2.0, 4.0, 8.0]
    assert "5 tries; run it again later" in err.getvalue()
    assert not ReconcileCursor.objects.exists()


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


# --- lost answers, bounded reads, backoff, progress ---------------------------------------------------------

# The list endpoints a reconcile pages through; every other request reads one object (or one
# subscription's invoices).
LISTS = {"/v1/payment_intents", "/v1/subscriptions", "/v1/refunds"}


@dataclass
class StripeRequests:
    """Every HTTP request the SDK sends (here to localstripe), as (method, path)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def take(self) -> list[tuple[str, str]]:
        sent, self.sent = self.sent, []
        return sent


def by_id(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(request for request in sent if request[1] not in LISTS)


@pytest.fixture
def stripe_requests(monkeypatch: pytest.MonkeyPatch) -> StripeRequests:
    requests = StripeRequests()
    original = stripe.RequestsClient.request

    def counted(self: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        requests.sent.append((method.upper(), urlsplit(url).path))
        return original(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", counted)
    return requests


@pytest.mark.usefixtures("localstripe")
def test_a_one_off_whose_answer_was_lost_is_found_by_its_checkout_key(newsroom: Newsroom) -> None:
    lost = stripe_scenarios.lost_one_off(newsroom, amount=1200)
    # Not ours to repair: no key, another deployment's key, and our key on another amount.
    stripe_scenarios.stranger_payment(metadata={})
    stripe_scenarios.stranger_payment(metadata={"checkout": "another-deployments-request-key"})
    stripe_scenarios.stranger_payment(amount=999, metadata={"checkout": lost.contribution.request_key})

    report = ledger_reconcile(newsroom=newsroom)
    contribution = Contribution.objects.get(id=lost.contribution.id)
    assert contribution.provider_payment_intent_id == lost.provider_id
    assert contribution.status == Contribution.Status.SUCCEEDED
    payment = Payment.objects.get(contribution=contribution)
    assert (payment.provider_payment_id, payment.amount, payment.currency) == (lost.provider_id, 1200, "USD")
    found = f"found its payment intent {lost.provider_id}, whose id was never stored"
    assert report.changes[0] == f"repaired contribution {contribution.id}: {found}"
    intents = report.tallies["payment intents"]
    assert intents.repaired == 1
    assert intents.foreign >= 3  # the session's localstripe also holds other tests' payments
    assert not report.errors
    assert ledger_reconcile(newsroom=newsroom).changes == []


@pytest.mark.usefixtures("localstripe")
def test_a_monthly_plan_whose_answer_was_lost_is_found_with_its_first_payment(newsroom: Newsroom) -> None:
    lost = stripe_scenarios.lost_monthly(newsroom, amount=800, currency="EUR")
    report = ledger_reconcile(newsroom=newsroom)
    contribution = Contribution.objects.get(id=lost.contribution.id)
    assert contribution.provider_subscription_id == lost.provider_id
    assert contribution.status == Contribution.Status.ACTIVE
    payment = Payment.objects.get(contribution=contribution)
    assert (payment.amount, payment.currency) == (800, "EUR")
    assert payment.provider_invoice_id == stripe_scenarios.fetched("subscriptions", lost.provider_id)["latest_invoice"]
    assert report.tallies["subscriptions"].repaired == 1
    assert report.tallies["payment intents"].repaired == 0  # the invoice's own intent is read with its plan
    assert ledger_reconcile(newsroom=newsroom).changes == []


@pytest.mark.usefixtures("localstripe")
def test_a_second_run_reads_only_what_is_new_and_sends_fewer_requests(
    newsroom: Newsroom, stripe_requests: StripeRequests
) -> None:
    stripe_scenarios.one_off(newsroom, amount=500)
    refunded = stripe_scenarios.refunded(newsroom, amount=2000, refund=500)
    stripe_scenarios.monthly(newsroom, amount=300)
    stripe_scenarios.canceled(newsroom)
    stripe_scenarios.lost_one_off(newsroom, amount=700)
    stripe_requests.take()
    first = reconcile(newsroom.slug)
    first_sent = stripe_requests.take()
    assert first.count("repaired contribution ") == 1
    assert first.count("added payment ") == 5
    assert "added refund " in first

    # A lost answer after the first run is above its cursor: the next run finds it.
    later = stripe_scenarios.lost_monthly(newsroom)
    stripe_requests.take()
    second = reconcile(newsroom.slug)
    second_sent = stripe_requests.take()
    assert f"found its subscription {later.provider_id}" in second
    assert second.count("added payment ") == 1

    third = reconcile(newsroom.slug)
    third_sent = stripe_requests.take()
    assert "nothing to repair" in third
    assert len(third_sent) < len(second_sent) < len(first_sent)
    # Each run reads one page of each list here (more where the session's localstripe holds more than
    # 100 objects of a type: the emulator is listed whole and filtered by `created` on our side). Besides:
    # the first run lists the invoices of the two plans, the ledger checks each paid first invoice for an
    # earlier failed attempt (a charges listing), and the refunded charge is read once for its refunds.
    charge = Payment.objects.get(contribution=refunded.contribution).provider_charge_id
    invoices, charges = ("GET", "/v1/invoices"), ("GET", "/v1/charges")
    assert by_id(first_sent) == sorted([invoices, invoices, charges, charges, ("GET", f"/v1/charges/{charge}")])
    # The second run: the new plan's first invoice checked so; the invoices of all three plans listed,
    # as each was made within the cursor's lag (CURSOR_LAG) and so listed again.
    assert by_id(second_sent) == sorted([invoices, invoices, invoices, charges])
    # The third: nothing read again, no intent, no charge; only the three plans' invoice listings.
    assert by_id(third_sent) == [invoices] * 3


@pytest.mark.usefixtures("localstripe")
def test_an_hour_later_settled_history_is_read_again_only_when_asked(
    newsroom: Newsroom, stripe_requests: StripeRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    canceled = stripe_scenarios.canceled(newsroom)
    stripe_scenarios.one_off(newsroom, amount=500)
    monthly = stripe_scenarios.monthly(newsroom, amount=300)
    monthly_id = monthly.events[0]["data"]["object"]["id"]
    made = stripe_scenarios.fetched("subscriptions", canceled.events[0]["data"]["object"]["id"])["created"]
    later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert reconcile(newsroom.slug).count("added payment ") == 3
    cursor = ReconcileCursor.objects.get(newsroom=newsroom, object_type=ReconcileCursor.ObjectType.PAYMENT_INTENT)
    assert cursor.created_through == later - CURSOR_LAG

    # Our copy of the canceled plan's payment is lost: settled history, which a plain run does not read.
    lost = Payment.objects.get(contribution=canceled.contribution)
    lost.delete()
    stripe_requests.take()
    report = ledger_reconcile(newsroom=newsroom)
    plain = stripe_requests.take()
    assert report.changes == []
    assert report.tallies["payment intents"].read == 0  # nothing new, and the one-off is settled
    assert report.tallies["subscriptions"].read == 1  # the running plan, by id; not the canceled one
    assert report.tallies["refunds"].read == 0
    assert by_id(plain) == [("GET", "/v1/invoices"), ("GET", f"/v1/subscriptions/{monthly_id}")]

    day = datetime.fromtimestamp(made, tz=UTC).date()
    assert "nothing to repair" in reconcile(newsroom.slug, "--since", (day + timedelta(days=1)).isoformat())
    assert f"added payment {lost.provider_payment_id}" in reconcile(newsroom.slug, "--since", day.isoformat())
    Payment.objects.filter(provider_payment_id=lost.provider_payment_id).delete()
    stripe_requests.take()
    assert f"added payment {lost.provider_payment_id}" in reconcile(newsroom.slug, "--all")
    assert len(stripe_requests.take()) > len(plain)
    assert "nothing to repair" in reconcile(newsroom.slug, "--all")


@pytest.mark.parametrize(
    ("attempt", "retry_after", "seconds"),
    [
        (1, None, 1.0),
        (2, None, 2.0),
        (3, None, 4.0),
        (4, None, 8.0),
        (12, None, BACKOFF_CAP_SECONDS),
        (1, 3.0, 3.0),
        (3, 0.5, 0.5),
        (1, 3600.0, BACKOFF_CAP_SECONDS),
    ],
)
def test_backoff_waits_as_stripe_says_else_doubles_up_to_a_cap(
    attempt: int, retry_after: float | None, seconds: float
) -> None:
    assert backoff_delay(attempt, retry_after) == seconds


@pytest.mark.usefixtures("localstripe")
def test_a_rate_limited_reconcile_waits_and_carries_on(newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    lost = stripe_scenarios.lost_one_off(newsroom)
    # localstripe never rate-limits, so Stripe's 429 is simulated: the first page of intents is refused
    # twice, once with a Retry-After and once without, as Stripe's error payload and headers read.
    payload = {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests."}
    refusals = [
        error_from_payload(payload, http_status=429, headers={"Retry-After": "3"}),
        error_from_payload(payload, http_status=429, headers={"Stripe-Rate-Limited-Reason": "global-rate"}),
    ]
    assert all(isinstance(refusal, gateway.GatewayRateLimited) for refusal in refusals)
    real_page = gateway.payment_intents_page

    def limited(**kwargs: Any) -> Any:
        if refusals:
            raise refusals.pop(0)
        return real_page(**kwargs)

    monkeypatch.setattr(gateway, "payment_intents_page", limited)
    naps: list[float] = []
    lines: list[str] = []
    report = ledger_reconcile(newsroom=newsroom, sleep=naps.append, progress=lines.append)
    assert naps == [3.0, 2.0]  # Stripe's Retry-After, then the backoff's second step
    assert "payment intents list: Stripe answered rate_limited; trying again in 3 s" in lines
    assert not report.errors
    assert Contribution.objects.get(id=lost.contribution.id).provider_payment_intent_id == lost.provider_id


@pytest.mark.usefixtures("localstripe")
def test_the_command_shows_progress_on_stderr_and_sums_up_on_stdout(newsroom: Newsroom) -> None:
    stripe_scenarios.lost_one_off(newsroom)
    stripe_scenarios.monthly(newsroom)
    out, err = io.StringIO(), io.StringIO()
    call_command("reconcile", "--newsroom", newsroom.slug, stdout=out, stderr=err)
    progress = err.getvalue().splitlines()
    # localstripe lists oldest first and the session's instance holds every earlier test's intents: the
    # repaired one is on whichever page it falls.
    pages = [line for line in progress if line.startswith("payment intents, page ")]
    assert all(
        re.fullmatch(r"payment intents, page \d+: \d+ read, [01] repaired, \d+ not ours", line) for line in pages
    )
    # A page's line carries the running tally: once the repaired intent's page is read, every later page
    # says "1 repaired" too (more than one page does when the intent falls at a page's end).
    repaired = [", 1 repaired," in line for line in pages]
    assert progress[0] == pages[0] and repaired[-1] and repaired == sorted(repaired)
    assert any(line.startswith("subscriptions, page 1: ") for line in progress)
    assert [line.split(":")[0] for line in progress if ", page " not in line] == [
        "payment intents",
        "subscriptions",
        "invoices",
        "refunds",
        "charges",
    ]
    summary = out.getvalue()
    assert re.search(r"^river-post: 5 change\(s\) from \d+ Stripe objects\.$", summary, re.MULTILINE)
    assert re.search(r"^  payment intents: \d+ read, 1 repaired, \d+ not ours$", summary, re.MULTILINE)
    assert re.search(r"^  subscriptions: \d+ read, 0 repaired, \d+ not ours$", summary, re.MULTILINE)

    quiet_out, quiet_err = io.StringIO(), io.StringIO()
    call_command("reconcile", "--newsroom", newsroom.slug, "--quiet", stdout=quiet_out, stderr=quiet_err)
    assert quiet_err.getvalue() == ""
    assert "river-post: nothing to repair" in quiet_out.getvalue()


def test_reconcile_since_wants_a_day(newsroom: Newsroom) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        reconcile(newsroom.slug, "--since", "last tuesday")
    with pytest.raises(CommandError):
        reconcile(newsroom.slug, "--since", date.today().isoformat(), "--all")

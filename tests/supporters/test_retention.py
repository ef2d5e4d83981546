"""Retention: lapsed supporters lose their address and name; anyone with something running keeps them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from django.core.management import call_command
from django.core.management.base import CommandError

from readerfund.core.privacy import lookup_hash
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import periodic_run
from readerfund.payments.models import Contribution, Frequency, Payment, Supporter
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_schedule
from readerfund.supporters.models import SignInRequest
from readerfund.supporters.retention import months_before, supporters_lapsed_purge, supporters_lapsed_purge_due
from readerfund.supporters.signin import signin_request
from tests.factories import newsroom_make

NOW = datetime.now(UTC).replace(microsecond=0)  # the command reads the clock
LONG_AGO = NOW - timedelta(days=800)
LATELY = NOW - timedelta(days=100)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2027, 3, 31, tzinfo=UTC), 1, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 3, 31, tzinfo=UTC), 24, datetime(2025, 3, 31, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 1, 15, tzinfo=UTC), 1, datetime(2026, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


def _supporter(
    newsroom: Newsroom,
    label: str,
    *,
    created: datetime,
    status: str | None = None,
    changed: datetime | None = None,
    paid: datetime | None = None,
) -> Supporter:
    email = f"{label}@example.org"
    supporter = Supporter.objects.create(
        newsroom=newsroom,
        email=email,
        name=label.title(),
        email_hash=lookup_hash(email, scope=f"supporter:{newsroom.id}"),
    )
    Supporter.objects.filter(id=supporter.id).update(created_at=created)
    if status is not None:
        contribution = Contribution.objects.create(
            newsroom=newsroom,
            supporter=supporter,
            frequency=Frequency.MONTHLY,
            amount=500,
            currency="EUR",
            status=status,
            request_key=f"rk-{label}",
        )
        Contribution.objects.filter(id=contribution.id).update(created_at=created, updated_at=changed or created)
        if paid is not None:
            Payment.objects.create(
                newsroom=newsroom,
                contribution=contribution,
                amount=500,
                currency="EUR",
                provider_payment_id=f"pi_{label}",
                paid_at=paid,
            )
    supporter.refresh_from_db()
    return supporter


@pytest.fixture
def newsroom(db: None) -> Newsroom:
    newsroom = newsroom_make(slug="free-voice", name="Free Voice")
    _supporter(newsroom, "lapsed", created=LONG_AGO, status=Contribution.Status.CANCELED)
    _supporter(newsroom, "oneoff", created=LONG_AGO, status=Contribution.Status.SUCCEEDED, paid=LONG_AGO)
    _supporter(newsroom, "never", created=LONG_AGO)
    _supporter(newsroom, "active", created=LONG_AGO, status=Contribution.Status.ACTIVE)
    _supporter(newsroom, "pastdue", created=LONG_AGO, status=Contribution.Status.PAST_DUE)
    _supporter(newsroom, "pending", created=LONG_AGO, status=Contribution.Status.PENDING)
    _supporter(newsroom, "canceledlately", created=LONG_AGO, status=Contribution.Status.CANCELED, changed=LATELY)
    _supporter(newsroom, "paidlately", created=LONG_AGO, status=Contribution.Status.SUCCEEDED, paid=LATELY)
    return newsroom


ERASED = {"lapsed", "oneoff", "never"}


def _kept() -> set[str]:
    return {s.email.split("@")[0] for s in Supporter.objects.filter(erased_at__isnull=True)}


def test_only_lapsed_supporters_are_erased(newsroom: Newsroom) -> None:
    elsewhere = Newsroom.objects.create(slug="elsewhere", name="Elsewhere")
    _supporter(elsewhere, "otherlapsed", created=LONG_AGO)
    payments = Payment.objects.count()
    report = supporters_lapsed_purge(newsroom=newsroom, now=NOW)
    assert len(report.references) == 3
    assert Payment.objects.count() == payments  # the accounts keep their rows
    assert _kept() == {"active", "pastdue", "pending", "canceledlately", "paidlately", "otherlapsed"}
    for supporter in Supporter.objects.filter(reference__in=report.references):
        assert (supporter.email, supporter.name, supporter.email_hash) == ("", "", "")
        assert supporter.erased_at == NOW
    assert supporters_lapsed_purge(newsroom=newsroom, now=NOW).references == []  # idempotent


def test_a_paused_plan_keeps_its_supporter(newsroom: Newsroom) -> None:
    # A pause resumes charging by itself, at Stripe: its supporter has not lapsed, however short the
    # newsroom's retention (one month is allowed; a pause lasts up to three).
    _supporter(newsroom, "paused", created=LONG_AGO, status=Contribution.Status.PAUSED)
    supporters_lapsed_purge(newsroom=newsroom, now=NOW)
    assert "paused" in _kept()


def test_the_newsrooms_retention_period_decides(newsroom: Newsroom) -> None:
    newsroom.retention_months = 1
    newsroom.save()
    supporters_lapsed_purge(newsroom=newsroom, now=NOW)
    assert _kept() == {"active", "pastdue", "pending"}


def test_purge_command_dry_run_names_references_only(newsroom: Newsroom) -> None:
    out = io.StringIO()
    call_command("purge", "--newsroom", "free-voice", "--dry-run", stdout=out)
    assert len(_kept()) == 8
    assert "would erase 3 supporter(s)" in out.getvalue()
    assert "@" not in out.getvalue() and "Lapsed" not in out.getvalue()


def test_purge_command_erases_and_says_what(newsroom: Newsroom) -> None:
    lapsed = [s.reference for s in Supporter.objects.all() if s.email.split("@")[0] in ERASED]
    out = io.StringIO()
    call_command("purge", "--newsroom", "free-voice", stdout=out)
    assert "erased 3 supporter(s)" in out.getvalue()
    assert all(f"erased {reference}" in out.getvalue() for reference in lapsed)
    assert "@" not in out.getvalue()
    assert len(_kept()) == 5
    with pytest.raises(CommandError):
        call_command("purge", "--newsroom", "nowhere", stdout=io.StringIO())


def test_worker_purges_each_newsroom_once_a_day(newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    from readerfund.supporters import retention

    runs: list[str] = []
    real = retention.supporters_lapsed_purge

    def counted(**kwargs: object) -> retention.PurgeReport:
        runs.append(kwargs["newsroom"].slug)  # type: ignore[attr-defined]
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retention, "supporters_lapsed_purge", counted)
    Newsroom.objects.create(slug="second", name="Second")
    periodic_run(now=NOW)
    assert sorted(runs) == ["free-voice", "second"]
    assert len(_kept()) == 5
    periodic_run(now=NOW + timedelta(hours=23))
    assert supporters_lapsed_purge_due(now=NOW + timedelta(hours=23)) == 0
    assert len(runs) == 2
    periodic_run(now=NOW + timedelta(days=1, minutes=1))
    assert len(runs) == 4


def test_a_lapsed_supporter_is_erased_at_stripe_too_without_an_email(localstripe: str, demo_newsroom: Newsroom) -> None:
    """The purge is "Erase my data" without the e-mail: the Customer at Stripe, which holds the address and
    the name on the card, is deleted too; a reminder the reader asked for stays theirs."""
    from tests.checkout import stripe_browser
    from tests.factories import contribution_paid

    monthly = contribution_paid(demo_newsroom, frequency="monthly", email="gone@example.org", name="Gone Reader")
    supporter = monthly.supporter
    customers = {monthly.provider_customer_id, supporter.provider_customer_id} - {""}
    assert customers
    reminder = reminder_schedule(
        newsroom=demo_newsroom,
        email="gone@example.org",
        remind_on=NOW.date() + timedelta(days=5),
        locale="en",
        campaign_id=None,
        variant_id=None,
    ).reminder
    signin_request(newsroom=demo_newsroom, email="gone@example.org", locale="en")
    Supporter.objects.filter(id=supporter.id).update(created_at=LONG_AGO)
    # Cancelled long ago (its plan ended at Stripe then; here only the ledger says so).
    Contribution.objects.filter(id=monthly.id).update(
        status=Contribution.Status.CANCELED, created_at=LONG_AGO, updated_at=LONG_AGO
    )
    Payment.objects.filter(contribution=monthly).update(paid_at=LONG_AGO)
    outbox = OutboxMessage.objects.count()

    assert supporters_lapsed_purge(newsroom=demo_newsroom, now=NOW).references == [supporter.reference]

    for customer_id in customers:
        # Stripe answers a deleted Customer with {"deleted": true}; localstripe with a 404.
        try:
            assert stripe_browser.client().v1.customers.retrieve(customer_id).get("deleted") is True
        except stripe.InvalidRequestError as error:
            assert error.http_status == 404
    erased = Supporter.objects.get(id=supporter.id)
    assert (erased.email, erased.name, erased.provider_customer_id) == ("", "", "")
    assert Contribution.objects.get(id=monthly.id).provider_customer_id == ""
    assert OutboxMessage.objects.count() == outbox  # no word to them
    assert not SignInRequest.objects.exists()
    assert Reminder.objects.get(id=reminder.id).status == Reminder.Status.PENDING
    assert Payment.objects.filter(contribution=monthly).count() == 1


def test_a_supporter_who_came_back_during_the_purge_keeps_everything(newsroom: Newsroom) -> None:
    from readerfund.supporters.data import supporter_lapsed_erase

    lapsed = next(s for s in Supporter.objects.all() if s.email == "lapsed@example.org")
    assert not supporter_lapsed_erase(supporter=lapsed, still_lapsed=lambda: False, now=NOW)
    answers = iter([True, False])  # lapsed when read, back (a new plan) by the time of the write
    assert not supporter_lapsed_erase(supporter=lapsed, still_lapsed=lambda: next(answers), now=NOW)
    assert Supporter.objects.get(id=lapsed.id).email == "lapsed@example.org"

"""`readerfund export payments`: the ledger as CSV, with e-mail addresses only for an owner."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from readerfund.appeals.models import Campaign, Variant
from readerfund.newsrooms.models import Membership, Newsroom
from readerfund.payments.models import Contribution, Frequency, Payment, Supporter


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    newsroom = Newsroom.objects.create(slug="free-voice", name="Free Voice")
    campaign = Campaign.objects.create(newsroom=newsroom, name='=HYPERLINK("http://evil")')
    variant = Variant.objects.create(campaign=campaign, key="b")
    rows = [
        ("ada@example.org", Frequency.MONTHLY, 500, "EUR", Payment.Status.SUCCEEDED, 0, (2026, 3, 2), variant),
        ("bo@example.org", Frequency.ONE_OFF, 1000, "JPY", Payment.Status.PARTIALLY_REFUNDED, 300, (2026, 3, 1), None),
    ]
    for number, (email, frequency, amount, currency, status, refunded, day, chosen) in enumerate(rows):
        supporter = Supporter.objects.create(newsroom=newsroom, email=email, reference=f"S-REF{number}")
        contribution = Contribution.objects.create(
            newsroom=newsroom,
            supporter=supporter,
            frequency=frequency,
            amount=amount,
            currency=currency,
            status=Contribution.Status.SUCCEEDED,
            request_key=f"key-{number}",
            campaign=campaign if chosen else None,
            variant=chosen,
        )
        Payment.objects.create(
            newsroom=newsroom,
            contribution=contribution,
            amount=amount,
            currency=currency,
            status=status,
            amount_refunded=refunded,
            provider_payment_id=f"pi_{number}",
            paid_at=datetime(*day, 12, 30, tzinfo=UTC),
        )
    # Another newsroom's payment must not appear.
    elsewhere = Newsroom.objects.create(slug="elsewhere", name="Elsewhere")
    stranger = Supporter.objects.create(newsroom=elsewhere, email="cy@example.org")
    contribution = Contribution.objects.create(
        newsroom=elsewhere, supporter=stranger, frequency=Frequency.ONE_OFF, amount=700, currency="USD", request_key="x"
    )
    Payment.objects.create(
        newsroom=elsewhere,
        contribution=contribution,
        amount=700,
        currency="USD",
        provider_payment_id="pi_elsewhere",
        paid_at=datetime(2026, 3, 3, tzinfo=UTC),
    )
    return newsroom


def member(newsroom: Newsroom, username: str, role: str) -> None:
    user = get_user_model().objects.create(username=username)
    Membership.objects.create(newsroom=newsroom, user=user, role=role)


def export(*args: str) -> tuple[list[list[str]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "payments", *args, stdout=out, stderr=err)
    return list(csv.reader(io.StringIO(out.getvalue()))), out.getvalue()


def test_export_writes_payments_without_personal_data(newsroom: Newsroom) -> None:
    rows, text = export("--newsroom", "free-voice", "--format", "csv")
    assert rows == [
        ["date", "supporter", "amount", "currency", "frequency", "campaign", "variant", "status"],
        ["2026-03-01T12:30:00Z", "S-REF1", "1000", "JPY", "one_off", "", "", "partially_refunded"],
        ["2026-03-02T12:30:00Z", "S-REF0", "5.00", "EUR", "monthly", '\'=HYPERLINK("http://evil")', "b", "succeeded"],
    ]
    assert "@" not in text


def test_owner_may_export_emails(newsroom: Newsroom) -> None:
    member(newsroom, "olga", Membership.Role.OWNER)
    rows, _ = export("--newsroom", "free-voice", "--with-emails", "--as-user", "olga")
    assert rows[0][-1] == "email"
    assert [row[-1] for row in rows[1:]] == ["bo@example.org", "ada@example.org"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--with-emails"], "needs --as-user"),
        (["--with-emails", "--as-user", "nobody"], "no user 'nobody'"),
        (["--with-emails", "--as-user", "ed"], "'ed' is not an owner of 'free-voice'"),
        (["--with-emails", "--as-user", "owner-elsewhere"], "not an owner"),
    ],
)
def test_emails_are_refused_to_anyone_but_an_owner(newsroom: Newsroom, args: list[str], message: str) -> None:
    member(newsroom, "ed", Membership.Role.EDITOR)
    member(Newsroom.objects.get(slug="elsewhere"), "owner-elsewhere", Membership.Role.OWNER)
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("export", "payments", "--newsroom", "free-voice", *args, stdout=out, stderr=io.StringIO())
    assert out.getvalue() == ""


def test_unknown_newsroom_is_refused(newsroom: Newsroom) -> None:
    with pytest.raises(CommandError, match="no newsroom 'nope'"):
        export("--newsroom", "nope")

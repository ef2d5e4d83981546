"""`readerfund export payments`: the ledger as CSV, with e-mail addresses only for an owner, and each
payment as it stood at the end of a day (`--as-of`), so last month's file reads the same next month."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from readerfund.appeals.models import Campaign, Variant
from readerfund.newsrooms.models import Membership, Newsroom
from readerfund.payments.ledger.refunds import payment_totals_write
from readerfund.payments.models import Contribution, Dispute, Frequency, Payment, Refund, Supporter
from tests.factories import newsroom_make


@pytest.fixture
def newsroom(db: Any) -> Newsroom:
    newsroom = newsroom_make(slug="free-voice", name="Free Voice")
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
        payment = Payment.objects.create(
            newsroom=newsroom,
            contribution=contribution,
            amount=amount,
            currency=currency,
            status=status,
            amount_refunded=refunded,
            provider_payment_id=f"pi_{number}",
            provider_charge_id=f"ch_{number}",
            provider_invoice_id=f"in_{number}" if frequency != Frequency.ONE_OFF else "",
            paid_at=datetime(*day, 12, 30, tzinfo=UTC),
        )
        if refunded:
            Refund.objects.create(
                payment=payment,
                provider_refund_id=f"re_{number}",
                amount=refunded,
                currency=currency,
                created_at=datetime(*day, 18, 0, tzinfo=UTC),
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
        [
            "date", "supporter", "amount", "currency", "frequency", "campaign", "variant", "status",
            "refunded", "refunded_at", "disputed", "dispute_status", "dispute_fee", "dispute_fee_currency",
            "dispute_opened_at", "dispute_closed_at", "net", "provider_payment_id", "provider_charge_id",
            "provider_invoice_id",
        ],
        [
            "2026-03-01T12:30:00Z", "S-REF1", "1000", "JPY", "one_off", "", "", "partially_refunded",
            "300", "2026-03-01T18:00:00Z", "0", "", "", "", "", "", "700", "pi_1", "ch_1", "",
        ],
        [
            "2026-03-02T12:30:00Z", "S-REF0", "5.00", "EUR", "monthly", '\'=HYPERLINK("http://evil")', "b", "succeeded",
            "0.00", "", "0.00", "", "", "", "", "", "5.00", "pi_0", "ch_0", "in_0",
        ],
    ]  # fmt: skip
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


# --- as of a date ----------------------------------------------------------------------------------


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class RefundRow:
    amount: int
    created: str
    status: str = Refund.Status.SUCCEEDED
    changed: str | None = None  # when we saw its status change (None: never, since it was created)


@dataclass
class DisputeRow:
    status: str
    opened: str
    closed: str | None = None
    amount: int = 1000
    fee: int = 1500
    fee_currency: str = "USD"
    withdrawn: bool = True


@dataclass
class Case:
    refunds: list[RefundRow] = field(default_factory=list)
    disputes: list[DisputeRow] = field(default_factory=list)
    as_of: dict[str, str] = field(default_factory=dict)  # columns expected with --as-of 2026-03-31
    now: dict[str, str] = field(default_factory=dict)  # and without it


# One EUR 10.00 payment, paid on 2026-03-02; the export --as-of 2026-03-31 and now (every date below is past).
UNTOUCHED = {"status": "succeeded", "refunded": "0.00", "refunded_at": "", "disputed": "0.00", "net": "10.00"}
NO_DISPUTE = {"dispute_status": "", "dispute_fee": "", "dispute_opened_at": "", "dispute_closed_at": ""}
CASES = {
    "refunded after the date: unrefunded then, refunded now": Case(
        refunds=[RefundRow(1000, "2026-04-03")],
        as_of=UNTOUCHED,
        now={"status": "refunded", "refunded": "10.00", "refunded_at": "2026-04-03T12:00:00Z", "net": "0.00"},
    ),
    "a failed refund never counts": Case(
        refunds=[RefundRow(400, "2026-03-10", Refund.Status.FAILED, changed="2026-03-12")],
        as_of=UNTOUCHED,
        now=UNTOUCHED,
    ),
    "a refund that failed after the date still counted on it": Case(
        refunds=[RefundRow(400, "2026-03-10", Refund.Status.FAILED, changed="2026-04-02")],
        as_of={"status": "partially_refunded", "refunded": "4.00", "refunded_at": "2026-03-10T12:00:00Z"},
        now=UNTOUCHED,
    ),
    "a pending refund counts, dated by the last counted one": Case(
        refunds=[
            RefundRow(200, "2026-03-05"),
            RefundRow(300, "2026-03-20", Refund.Status.PENDING),
            RefundRow(100, "2026-03-25", Refund.Status.CANCELED, changed="2026-03-26"),
        ],
        as_of={"status": "partially_refunded", "refunded": "5.00", "refunded_at": "2026-03-20T12:00:00Z"},
        now={"refunded": "5.00", "net": "5.00"},
    ),
    "a lost dispute counts with its fee": Case(
        disputes=[DisputeRow(Dispute.Status.LOST, "2026-03-20", closed="2026-03-28")],
        as_of={
            "status": "dispute_lost",
            "disputed": "10.00",
            "dispute_status": "lost",
            "dispute_fee": "15.00",
            "dispute_fee_currency": "USD",
            "dispute_opened_at": "2026-03-20T12:00:00Z",
            "dispute_closed_at": "2026-03-28T12:00:00Z",
            "net": "0.00",
        },
        now={"status": "dispute_lost", "disputed": "10.00", "dispute_fee": "15.00", "net": "0.00"},
    ),
    "a dispute lost after the date was open then, its amount withdrawn": Case(
        disputes=[DisputeRow(Dispute.Status.LOST, "2026-03-20", closed="2026-04-05")],
        as_of={
            "status": "disputed",
            "disputed": "10.00",
            "dispute_status": "open",
            "dispute_fee": "15.00",
            "dispute_closed_at": "",
            "net": "0.00",
        },
        now={"status": "dispute_lost", "dispute_status": "lost", "dispute_closed_at": "2026-04-05T12:00:00Z"},
    ),
    "a dispute opened after the date is not in it": Case(
        disputes=[DisputeRow(Dispute.Status.NEEDS_RESPONSE, "2026-04-02")],
        as_of={**UNTOUCHED, **NO_DISPUTE},
        now={"status": "disputed", "disputed": "10.00", "dispute_status": "open", "net": "0.00"},
    ),
    "a won dispute gave the money back": Case(
        disputes=[DisputeRow(Dispute.Status.WON, "2026-03-05", closed="2026-03-25", fee=0, withdrawn=False)],
        as_of={**UNTOUCHED, "dispute_status": "won", "dispute_fee": "", "dispute_closed_at": "2026-03-25T12:00:00Z"},
        now={**UNTOUCHED, "dispute_status": "won"},
    ),
    "an inquiry takes nothing": Case(
        disputes=[DisputeRow(Dispute.Status.WARNING_UNDER_REVIEW, "2026-03-05", fee=0, withdrawn=False)],
        as_of={**UNTOUCHED, "dispute_status": "inquiry_open", "dispute_opened_at": "2026-03-05T12:00:00Z"},
        now={**UNTOUCHED, "dispute_status": "inquiry_open"},
    ),
}


def payment_make(newsroom: Newsroom, *, reference: str, paid: str, amount: int = 1000) -> Payment:
    supporter = Supporter.objects.create(newsroom=newsroom, reference=reference)
    contribution = Contribution.objects.create(
        newsroom=newsroom,
        supporter=supporter,
        frequency=Frequency.ONE_OFF,
        amount=amount,
        currency="EUR",
        status=Contribution.Status.SUCCEEDED,
        request_key=f"key-{reference}",
    )
    return Payment.objects.create(
        newsroom=newsroom,
        contribution=contribution,
        amount=amount,
        currency="EUR",
        provider_payment_id=f"pi_{reference}",
        provider_charge_id=f"ch_{reference}",
        paid_at=at(paid),
    )


def case_make(newsroom: Newsroom, case: Case) -> Payment:
    payment = payment_make(newsroom, reference="S-CASE", paid="2026-03-02")
    for number, refund in enumerate(case.refunds):
        Refund.objects.create(
            payment=payment,
            provider_refund_id=f"re_{number}",
            amount=refund.amount,
            currency="EUR",
            status=refund.status,
            created_at=at(refund.created),
            status_changed_at=at(refund.changed) if refund.changed else None,
        )
    for number, dispute in enumerate(case.disputes):
        Dispute.objects.create(
            payment=payment,
            provider_dispute_id=f"dp_{number}",
            amount=dispute.amount,
            currency="EUR",
            fee=dispute.fee,
            fee_currency=dispute.fee_currency,
            status=dispute.status,
            funds_withdrawn=dispute.withdrawn,
            created_at=at(dispute.opened),
            closed_at=at(dispute.closed) if dispute.closed else None,
        )
    return payment_totals_write(payment)  # the ledger's own totals, as its sync services write them


def export_rows(*args: str) -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("export", "payments", "--newsroom", "ledger", *args, stdout=out, stderr=io.StringIO())
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_payment_as_it_stood_then_and_now(db: Any, case: Case) -> None:
    payment = case_make(Newsroom.objects.create(slug="ledger", name="Ledger"), case)
    [then] = export_rows("--as-of", "2026-03-31")
    [now] = export_rows()
    assert {column: then[column] for column in case.as_of} == case.as_of
    assert {column: now[column] for column in case.now} == case.now
    # Without --as-of the export says what the ledger holds.
    assert (now["status"], now["refunded"], now["disputed"], now["net"]) == (
        payment.status,
        f"{payment.amount_refunded / 100:.2f}",
        f"{payment.amount_disputed / 100:.2f}",
        f"{payment.amount_net / 100:.2f}",
    )
    assert (then["provider_payment_id"], then["provider_charge_id"]) == ("pi_S-CASE", "ch_S-CASE")


def test_payments_paid_after_the_date_are_not_in_it(db: Any) -> None:
    newsroom = Newsroom.objects.create(slug="ledger", name="Ledger")
    for reference, paid in [("S-MARCH", "2026-03-31"), ("S-APRIL", "2026-04-01")]:
        payment_make(newsroom, reference=reference, paid=paid)
    Payment.objects.filter(provider_payment_id="pi_S-MARCH").update(
        paid_at=datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    )
    assert [row["supporter"] for row in export_rows("--as-of", "2026-03-31")] == ["S-MARCH"]
    assert [row["supporter"] for row in export_rows("--as-of", "2026-04-01")] == ["S-MARCH", "S-APRIL"]


def test_exporting_a_date_again_gives_the_same_file(db: Any) -> None:
    newsroom = Newsroom.objects.create(slug="ledger", name="Ledger")
    payment = payment_make(newsroom, reference="S-AGAIN", paid="2026-03-02")
    pending = Refund.objects.create(
        payment=payment,
        provider_refund_id="re_pending",
        amount=300,
        currency="EUR",
        status=Refund.Status.PENDING,
        created_at=at("2026-03-10"),
        status_changed_at=at("2026-03-10"),
    )
    payment_make(newsroom, reference="S-LATER", paid="2026-03-05")
    payment_totals_write(payment)

    def file() -> str:
        out = io.StringIO()
        call_command(
            "export", "payments", "--newsroom", "ledger", "--as-of", "2026-03-31", stdout=out, stderr=io.StringIO()
        )
        return out.getvalue()

    before = file()
    # Since then: the pending refund failed, another refund and a lost dispute came, a payment was paid.
    Refund.objects.filter(id=pending.id).update(status=Refund.Status.FAILED, status_changed_at=at("2026-04-02"))
    Refund.objects.create(
        payment=payment, provider_refund_id="re_later", amount=700, currency="EUR", created_at=at("2026-04-03")
    )
    Dispute.objects.create(
        payment=Payment.objects.get(provider_payment_id="pi_S-LATER"),
        provider_dispute_id="dp_later",
        amount=1000,
        currency="EUR",
        fee=1500,
        fee_currency="EUR",
        status=Dispute.Status.LOST,
        funds_withdrawn=True,
        created_at=at("2026-04-04"),
        closed_at=at("2026-04-20"),
    )
    payment_make(newsroom, reference="S-APRIL", paid="2026-04-06")
    payment_totals_write(payment)
    assert file() == before
    assert "partially_refunded,3.00,2026-03-10T12:00:00Z" in before
    now = export_rows()[0]  # while now, it reads as it is now
    assert (now["status"], now["refunded"], now["refunded_at"]) == (
        "partially_refunded",
        "7.00",
        "2026-04-03T12:00:00Z",
    )


def test_provider_ids_cannot_run_as_formulas(db: Any) -> None:
    newsroom = Newsroom.objects.create(slug="ledger", name="Ledger")
    payment = payment_make(newsroom, reference="S-IDS", paid="2026-03-02")
    Payment.objects.filter(id=payment.id).update(provider_charge_id="=1+1", provider_invoice_id="@SUM(A1)")
    [row] = export_rows()
    assert (row["provider_charge_id"], row["provider_invoice_id"]) == ("'=1+1", "'@SUM(A1)")


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "31/03/2026", "20260331", "2026-W13-2", "yesterday"])
def test_as_of_must_be_a_date(newsroom: Newsroom, text: str) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"--as-of takes a date as YYYY-MM-DD .*such as 2026-03-31"):
        call_command(
            "export", "payments", "--newsroom", "free-voice", "--as-of", text, stdout=out, stderr=io.StringIO()
        )
    assert out.getvalue() == ""

"""The ledger's payments as CSV for the newsroom's accounts, without personal data unless an owner asks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Protocol

from django.contrib.auth import get_user_model

from readerfund.core.money import Money
from readerfund.newsrooms.models import Membership, Newsroom
from readerfund.payments.models import Payment

HEADER = ["date", "supporter", "amount", "currency", "frequency", "campaign", "variant", "status"]
# A spreadsheet runs a cell starting with one of these as a formula; campaign names are typed by staff.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TextSink(Protocol):
    def write(self, text: str, /) -> object: ...


class ExportRefused(Exception):
    """The caller may not export what they asked for; the message says why and what to do."""


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_emails_check(*, newsroom: Newsroom, username: str | None) -> None:
    """Only an owner of the newsroom may export supporters' e-mail addresses."""
    if not username:
        raise ExportRefused("--with-emails needs --as-user USERNAME, an owner of the newsroom.")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ExportRefused(f"There is no user {username!r}.")
    is_owner = Membership.objects.filter(newsroom=newsroom, user=user, role=Membership.Role.OWNER).exists()
    if not is_owner:
        raise ExportRefused(
            f"{username!r} is not an owner of {newsroom.slug!r}; only owners may export e-mail addresses."
        )


def payments_export_rows(*, newsroom: Newsroom, with_emails: bool = False) -> Iterator[list[str]]:
    yield [*HEADER, "email"] if with_emails else list(HEADER)
    payments = (
        Payment.objects.filter(newsroom=newsroom)
        .select_related("contribution__supporter", "contribution__campaign", "contribution__variant")
        .order_by("paid_at", "id")
    )
    for payment in payments.iterator(chunk_size=500):
        contribution = payment.contribution
        row = [
            payment.paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            contribution.supporter.reference,
            Money(payment.amount, payment.currency).major_str(),
            payment.currency,
            contribution.frequency,
            _cell(contribution.campaign.name) if contribution.campaign else "",
            _cell(contribution.variant.key) if contribution.variant else "",
            payment.status,
        ]
        if with_emails:
            row.append(_cell(contribution.supporter.email or ""))
        yield row


def payments_export_csv(*, newsroom: Newsroom, out: TextSink, with_emails: bool = False) -> int:
    """Write the newsroom's payments to `out`; returns the number of payments written."""
    writer = csv.writer(out, lineterminator="\n")
    count = -1
    for row in payments_export_rows(newsroom=newsroom, with_emails=with_emails):
        writer.writerow(row)
        count += 1
    return count

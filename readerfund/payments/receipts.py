"""The receipt e-mail for a recorded payment, when the supporter asked for one.

Neutral on purpose: the sender is the newsroom's sender_name and the subject line names no outlet,
since a supporter's inbox may be read by someone else. A recurring contribution's receipt carries its
signed pause and cancel links (payments/contribution_links.py) and the way to manage the support.
"""

from __future__ import annotations

from readerfund.core.dates import date_long
from readerfund.core.money import Money
from readerfund.notifications.services import email_queue
from readerfund.payments.contribution_links import contribution_links_for
from readerfund.payments.models import Contribution, Payment


def receipt_queue(*, payment: Payment, contribution: Contribution) -> bool:
    """Queue the receipt inside the caller's transaction; the key makes a second call a no-op."""
    supporter = contribution.supporter
    if not contribution.receipt_requested or not supporter.email or supporter.erased_at is not None:
        return False
    email_queue(
        newsroom=contribution.newsroom,
        to=supporter.email,
        template="receipt",
        context={
            "amount": Money(payment.amount, payment.currency).display(contribution.locale),
            "frequency": contribution.frequency,
            "date": date_long(payment.paid_at.date(), contribution.locale),
            "reference": supporter.reference,
            "name": supporter.name,
            "statement_descriptor": contribution.newsroom.statement_descriptor,
            # A recurring plan's receipt: pause or cancel this one plan without signing in, or manage it all.
            **contribution_links_for(contribution),
        },
        locale=contribution.locale,
        message_key=f"receipt-{payment.id}",
    )
    return True

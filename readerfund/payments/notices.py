"""E-mails the ledger sends a supporter about their own money: a renewal that waits for 3-D Secure, and a
direct debit that failed after the checkout had already thanked them.

Neutral like the receipt (payments/receipts.py): the subject names no outlet. The renewal's link is signed
and single-purpose: it opens a page of ours that completes that one invoice's authentication.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from readerfund.core.dates import date_long
from readerfund.core.money import Money
from readerfund.notifications.services import email_queue
from readerfund.payments.models import Contribution

_SALT = "readerfund.payments.renewal-action"
# A renewal waiting for authentication is retried by Stripe for about a week; the link lives as long.
RENEWAL_ACTION_MAX_AGE = 14 * 24 * 3600


def _supporter_mail(*, contribution: Contribution, template: str, message_key: str, **context: object) -> bool:
    """Queue one e-mail to the contribution's supporter, with what every one of these e-mails says (the
    amount as their language writes it, the frequency, their name and reference). Nothing for an erased
    supporter, or one without an address."""
    supporter = contribution.supporter
    if not supporter.email or supporter.erased_at is not None:
        return False
    email_queue(
        newsroom=contribution.newsroom,
        to=supporter.email,
        template=template,
        context={
            "amount": Money(contribution.amount, contribution.currency).display(contribution.locale),
            "frequency": contribution.frequency,
            "name": supporter.name,
            "reference": supporter.reference,
            **context,
        },
        locale=contribution.locale,
        message_key=message_key[:150],
    )
    return True


def renewal_action_token(*, contribution: Contribution, invoice_id: str) -> str:
    return signing.dumps({"c": contribution.request_key, "i": invoice_id}, salt=_SALT, compress=True)


def renewal_action_read(token: str) -> tuple[str, str] | None:
    """(request key, invoice id) from a valid, unexpired token; None otherwise."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=RENEWAL_ACTION_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str) or not isinstance(data.get("i"), str):
        return None
    return data["c"], data["i"]


def renewal_action_notify(*, contribution: Contribution, invoice_id: str) -> bool:
    """Queue, once per invoice, the e-mail asking the supporter to confirm the renewal with their bank.
    Call inside the transaction that recorded the renewal's state."""
    token = renewal_action_token(contribution=contribution, invoice_id=invoice_id)
    url = settings.SITE_URL + reverse("checkout-authenticate", args=[contribution.newsroom.slug, token])
    return _supporter_mail(
        contribution=contribution, template="renewal_action", message_key=f"renewal-action-{invoice_id}", url=url
    )


def checkout_again_url(*, contribution: Contribution) -> str:
    """The newsroom's checkout with this contribution's choices filled in, to try again with another account
    or a card. The campaign and variant make their amounts and currencies (EUR for a SEPA debit) available."""
    query = {
        "locale": contribution.locale,
        "frequency": contribution.frequency,
        "currency": contribution.currency,
        "amount": str(contribution.amount),
    }
    if contribution.campaign_id:
        query["campaign"] = str(contribution.campaign_id)
    if contribution.variant_id:
        query["variant"] = str(contribution.variant_id)
    if contribution.return_url:
        query["return"] = contribution.return_url
    return settings.SITE_URL + reverse("checkout-page", args=[contribution.newsroom.slug]) + "?" + urlencode(query)


def payment_failed_notify(*, contribution: Contribution) -> bool:
    """Queue, once per contribution, the e-mail saying that a direct debit did not go through, that nothing
    was taken, and how to try again. The thank-you page promised it; the ledger calls this inside the
    transaction that moved the contribution from pending to failed."""
    return _supporter_mail(
        contribution=contribution,
        template="payment_failed",
        message_key=f"payment-failed-{contribution.id}",
        url=checkout_again_url(contribution=contribution),
    )


def plan_changed_notify(*, contribution: Contribution, kind: str, change_key: str, last4: str = "") -> bool:
    """Queue the confirmation of a supporter's change to their plan (payments/changes.py), once per change.
    Call inside the transaction that wrote the change. `kind`: amount | pause | resume | cancel | card."""
    locale = contribution.locale
    return _supporter_mail(
        contribution=contribution,
        template="plan_changed",
        message_key=f"plan-changed-{change_key}",
        kind=kind,
        paused_until=date_long(contribution.paused_until, locale) if contribution.paused_until else "",
        cancels_at=date_long(contribution.cancels_at, locale) if contribution.cancels_at else "",
        canceled=contribution.status == Contribution.Status.CANCELED,
        last4=last4,
    )

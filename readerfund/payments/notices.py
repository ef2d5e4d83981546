"""E-mails the ledger sends a supporter about their own money: a renewal that waits for 3-D Secure, a
direct debit that failed after the checkout had already thanked them, a renewal that failed (with a link to
replace the card), the plan ended after the last retry, and a card about to expire.

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
from readerfund.payments.models import Contribution, RenewalFailure

_SALT = "readerfund.payments.renewal-action"
_CARD_SALT = "readerfund.payments.renewal-card"
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


# --- failed renewals (payments/ledger/renewal_failures.py, payments/dunning.py) --------------------------

# A failed renewal's retries span a week (RENEWAL_RETRY_DAYS); the card link outlives them a little.
RENEWAL_CARD_MAX_AGE = 21 * 24 * 3600


def renewal_card_token(*, contribution: Contribution, invoice_id: str) -> str:
    """Signed over the contribution's random request key and the failed invoice: it opens the way to that
    contribution's card page and nothing else (supporters/renewal_link.py), and never signs anyone in."""
    return signing.dumps({"c": contribution.request_key, "i": invoice_id}, salt=_CARD_SALT, compress=True)


def renewal_card_read(token: str) -> tuple[str, str] | str:
    """(request key, invoice id) from a valid token; else "expired" or "invalid"."""
    try:
        data = signing.loads(token, salt=_CARD_SALT, max_age=RENEWAL_CARD_MAX_AGE)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    if not isinstance(data, dict) or not isinstance(data.get("c"), str) or not isinstance(data.get("i"), str):
        return "invalid"
    return data["c"], data["i"]


def renewal_failed_notify(*, contribution: Contribution, failure: RenewalFailure) -> bool:
    """Queue, once per failed invoice, the e-mail saying the renewal did not go through, when it is tried
    again (our own schedule) and where to replace the card. Call inside the ledger's transaction."""
    token = renewal_card_token(contribution=contribution, invoice_id=failure.provider_invoice_id)
    url = settings.SITE_URL + reverse("supporters-renewal-card", args=[contribution.newsroom.slug, token])
    retry_on = date_long(failure.next_retry_at.date(), contribution.locale) if failure.next_retry_at else ""
    return _supporter_mail(
        contribution=contribution,
        template="renewal_failed",
        message_key=f"renewal-failed-{failure.request_key}",
        url=url,
        retry_on=retry_on,
    )


def renewal_ended_notify(*, contribution: Contribution, failure: RenewalFailure) -> bool:
    """Queue, once per plan, the polite e-mail saying the plan has ended after the renewal could not be
    paid, that nothing more will be charged, and how to start again."""
    return _supporter_mail(
        contribution=contribution,
        template="renewal_ended",
        message_key=f"renewal-ended-{contribution.request_key}",
        url=checkout_again_url(contribution=contribution),
    )


def card_expiring_notify(
    *, contribution: Contribution, card_id: str, exp_month: int, exp_year: int, last4: str, manage_url: str
) -> bool:
    """Queue, once per card and expiry, the notice that the plan's card expires soon (read from Stripe that
    day: a card updater may have replaced it, and then the new card's expiry counts, or none)."""
    return _supporter_mail(
        contribution=contribution,
        template="card_expiring",
        message_key=f"card-expiring-{card_id}-{exp_year:04d}{exp_month:02d}",
        url=manage_url,
        last4=last4,
        expiry=f"{exp_month:02d}/{exp_year % 100:02d}",
    )

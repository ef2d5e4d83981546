"""A supporter's own data: "Download my data" and "Erase my data". Services only; the supporter's page
calls them once the supporter has signed in.

What erasure keeps, and why: the supporter's row (its random reference, locale and dates), each
contribution's frequency, amount, status and dates, and every payment, refund and dispute with its
provider ids. None of it names the person, and the accounts must still add up: the payments export
(payments/export.py) and the reconcile (payments/reconcile/) match our payments to Stripe's by those
ids. What it removes is everything that finds, names or reaches the person: the address, the name, the
keyed hash of the address, the Stripe Customers (deleted at Stripe, their ids blanked here), the
payment methods' ids (Stripe's payment method holds the name on the card), the article they came
from, their pending reminders and unsent e-mails, the personal fields of stored webhook events, the
rate-limit windows counted by their address, and their sign-in requests and sessions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from readerfund.core.money import Money
from readerfund.core.privacy import normalize_email
from readerfund.core.ratelimit import rate_limit_forget
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.services import email_queue, outbox_cancel, outbox_unsent_to
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for
from readerfund.payments.event_redaction import event_redact
from readerfund.payments.models import Contribution, Dispute, Frequency, Payment, Refund, Supporter, WebhookEvent
from readerfund.payments.transitions import Signal
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_cancel, reminders_pending_for
from readerfund.supporters.models import SignInRequest, SupporterSession

EXPLANATION = (
    "Everything this newsroom holds about you: your supporter record, your contributions and the "
    "payments, refunds and disputes made for them, a reminder you asked for that has not gone out yet, "
    "the e-mails to you still in our outbox (we keep no copy of an e-mail once it is sent, only that "
    "it was), and when you asked to sign in and signed in (kept for a day, or an hour). Your address "
    "and name are stored encrypted. The ids beginning pi_, sub_, cus_, in_ and ch_ "
    "are the payment processor's (Stripe's) records of the same payments."
)
ERASED_TEMPLATE = "erased"
Status = Contribution.Status
# A plan that can still charge: cancelled at Stripe before anything else is erased. A paused one charges
# again by itself on its date (and the emulator's Customer deletion leaves its subscriptions running).
_CANCELLABLE = (Status.PENDING, Status.REQUIRES_ACTION, Status.ACTIVE, Status.PAST_DUE, Status.PAUSED)
# The rate limits that count attempts by address (checkout/views.py, reminders/api.py, supporters/views.py).
_RATE_LIMITS_BY_ADDRESS = (
    ("checkout:email", "{newsroom}:{address}"),
    ("reminders:address", "{address}"),
    ("supporters:send-address", "{newsroom}:{address}"),
    ("supporters:code-address", "{newsroom}:{address}"),
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"minor_units": amount, "currency": currency, "display": Money(amount, currency).display()}


# --- Download my data ------------------------------------------------------------------------------


def supporter_data_export(*, supporter: Supporter) -> dict[str, Any]:
    """Everything we hold about the supporter at their newsroom, as JSON-serialisable plain data."""
    supporter = Supporter.objects.select_related("newsroom").get(id=supporter.id)
    contributions = list(supporter.contributions.select_related("campaign").order_by("created_at", "id"))
    payments = list(Payment.objects.filter(contribution__supporter=supporter).order_by("paid_at", "id"))
    return {
        "generated_at": timezone.now().isoformat(),
        "explanation": EXPLANATION,
        "supporter": {
            "reference": supporter.reference,
            "email": supporter.email,
            "name": supporter.name,
            "locale": supporter.locale,
            "created_at": _when(supporter.created_at),
            "erased_at": _when(supporter.erased_at),
            "provider_customer_id": supporter.provider_customer_id,
        },
        "contributions": [_contribution_export(contribution) for contribution in contributions],
        "payments": [_payment_export(payment) for payment in payments],
        "refunds": [
            {
                "payment": refund.payment.provider_payment_id,
                "amount": _money(refund.amount, refund.currency),
                "status": refund.status,
                "created_at": _when(refund.created_at),
                "provider_refund_id": refund.provider_refund_id,
            }
            for refund in Refund.objects.filter(payment__in=payments).select_related("payment").order_by("created_at")
        ],
        "disputes": [
            {
                "payment": dispute.payment.provider_payment_id,
                "amount": _money(dispute.amount, dispute.currency),
                "status": dispute.status,
                "reason": dispute.reason,
                "created_at": _when(dispute.created_at),
                "closed_at": _when(dispute.closed_at),
                "provider_dispute_id": dispute.provider_dispute_id,
            }
            for dispute in Dispute.objects.filter(payment__in=payments).select_related("payment").order_by("created_at")
        ],
        "reminders": [_reminder_export(reminder) for reminder in _reminders(supporter)],
        "emails": [_email_export(message) for message in _outbox_messages(supporter, contributions, payments)],
        "sign_ins": [
            {"asked_at": _when(signin.created_at), "used_at": _when(signin.used_at)}
            for signin in _signins(supporter).order_by("created_at", "id")
        ],
        "sessions": [
            {
                "started_at": _when(session.created_at),
                "ends_at": _when(session.expires_at),
                "ended_at": _when(session.ended_at),
            }
            for session in SupporterSession.objects.filter(supporter=supporter).order_by("created_at", "id")
        ],
    }


def _signins(supporter: Supporter) -> QuerySet[SignInRequest]:
    """The sign-ins asked for with their address: matched to them, or not yet reached by the worker."""
    asked = Q(supporter=supporter)
    if supporter.email_hash:
        asked |= Q(newsroom_id=supporter.newsroom_id, email_hash=supporter.email_hash)
    return SignInRequest.objects.filter(asked)


def _contribution_export(contribution: Contribution) -> dict[str, Any]:
    return {
        "frequency": contribution.frequency,
        "amount": _money(contribution.amount, contribution.currency),
        "status": contribution.status,
        "payment_method_type": contribution.payment_method_type,
        "campaign": contribution.campaign.name if contribution.campaign is not None else None,
        "locale": contribution.locale,
        "receipt_requested": contribution.receipt_requested,
        "return_url": contribution.return_url,
        "created_at": _when(contribution.created_at),
        "updated_at": _when(contribution.updated_at),
        "provider_ids": {
            "payment_intent": contribution.provider_payment_intent_id,
            "subscription": contribution.provider_subscription_id,
            "customer": contribution.provider_customer_id,
            "plan": contribution.provider_plan_id,
            "setup_intent": contribution.provider_setup_intent_id,
            "payment_method": contribution.provider_payment_method_id,
        },
    }


def _payment_export(payment: Payment) -> dict[str, Any]:
    return {
        "contribution_created_at": _when(payment.contribution.created_at),
        "amount": _money(payment.amount, payment.currency),
        "refunded": _money(payment.amount_refunded, payment.currency),
        "disputed": _money(payment.amount_disputed, payment.currency),
        "status": payment.status,
        "paid_at": _when(payment.paid_at),
        "provider_ids": {
            "payment_intent": payment.provider_payment_id,
            "invoice": payment.provider_invoice_id,
            "charge": payment.provider_charge_id,
        },
    }


def _reminders(supporter: Supporter) -> list[Reminder]:
    if not supporter.email:
        return []
    return reminders_pending_for(newsroom=supporter.newsroom, email=supporter.email)


def _reminder_export(reminder: Reminder) -> dict[str, Any]:
    return {
        "email": reminder.email,
        "remind_on": reminder.remind_on.isoformat(),
        "locale": reminder.locale,
        "status": reminder.status,
        "created_at": _when(reminder.created_at),
    }


def _outbox_messages(
    supporter: Supporter, contributions: list[Contribution], payments: list[Payment]
) -> list[OutboxMessage]:
    """Messages to the supporter: those still waiting hold the address; sent ones are known only by the keys
    the ledger gives them (payments/receipts.py, payments/notices.py), since a sent row keeps no address."""
    keys = [f"receipt-{payment.id}" for payment in payments]
    invoices = [payment.provider_invoice_id for payment in payments if payment.provider_invoice_id]
    keys += [f"renewal-action-{invoice_id}"[:150] for invoice_id in invoices]
    keys += [f"payment-failed-{contribution.id}" for contribution in contributions]
    keys.append(_erased_message_key(supporter))
    found = {
        message.id: message
        for message in OutboxMessage.objects.filter(newsroom=supporter.newsroom, message_key__in=keys)
    }
    if supporter.email:
        found.update({m.id: m for m in outbox_unsent_to(newsroom=supporter.newsroom, to=supporter.email)})
    return sorted(found.values(), key=lambda message: (message.created_at, message.id))


def _email_export(message: OutboxMessage) -> dict[str, Any]:
    return {
        "template": message.template,
        "locale": message.locale,
        "status": message.status,
        "to": message.to_address,
        "created_at": _when(message.created_at),
        "sent_at": _when(message.sent_at),
    }


# --- Erase my data ---------------------------------------------------------------------------------


def _erased_message_key(supporter: Supporter) -> str:
    return f"erased-{supporter.reference}"


def supporter_erase(*, supporter: Supporter) -> None:
    """Erase the supporter now, as they asked. Stripe first (no transaction is open while it answers): every
    plan that can still charge is cancelled, every Customer deleted. A Stripe error other than "already
    gone" raises before anything here is erased, so the supporter is never left unable to stop a plan that
    still bills them; calling again finishes. Then one short transaction: the confirmation e-mail is queued
    (the last one we send them), and the address, name, hash and every link to the person are removed.

    Idempotent: a second call finds nothing left at Stripe or here, and queues nothing."""
    _erase(supporter_id=supporter.id, asked=True)


def supporter_lapsed_erase(
    *, supporter: Supporter, still_lapsed: Callable[[], bool], now: datetime | None = None
) -> bool:
    """Retention (supporters/retention.py): erase a supporter who lapsed, without a word to them. The same
    erasure as theirs, Customers at Stripe included, but no e-mail, and a reminder they asked for stays.

    `still_lapsed` is asked before Stripe and again inside the write (under a row lock), so a supporter who
    came back meanwhile keeps everything. Returns whether the supporter was erased."""
    return _erase(supporter_id=supporter.id, asked=False, still_lapsed=still_lapsed, now=now)


def _erase(
    *, supporter_id: int, asked: bool, still_lapsed: Callable[[], bool] | None = None, now: datetime | None = None
) -> bool:
    now = now or timezone.now()
    if still_lapsed is not None and not still_lapsed():
        return False
    supporter = Supporter.objects.select_related("newsroom").get(id=supporter_id)
    newsroom = supporter.newsroom
    contributions = list(supporter.contributions.all())
    ended = _provider_erase(supporter, contributions)
    address = normalize_email(supporter.email)
    with transaction.atomic():
        if still_lapsed is not None:
            Supporter.objects.select_for_update().filter(id=supporter.id).first()
            if not still_lapsed():
                return False
        for contribution in ended:
            ledger.contribution_status_apply(contribution_id=contribution.id, signal=Signal.SUBSCRIPTION_ENDED)
        if address:
            if asked:
                _last_email_queue(supporter, address)
            _address_forget(supporter, address, reminders=asked)
        Supporter.objects.filter(id=supporter.id).update(
            email="",
            name="",
            email_hash="",
            provider_customer_id="",
            erased_at=supporter.erased_at or now,
        )
        Contribution.objects.filter(supporter=supporter).update(
            provider_customer_id="",
            provider_payment_method_id="",
            provider_setup_intent_id="",
            return_url="",
            updated_at=now,
        )
        _webhook_events_redact(newsroom_id=newsroom.id, contributions=contributions, supporter=supporter)
        # When they asked to sign in, and that they did: the person's activity, and no account needs it.
        _signins(supporter).delete()
        SupporterSession.objects.filter(supporter=supporter).delete()
    return True


def _provider_erase(supporter: Supporter, contributions: list[Contribution]) -> list[Contribution]:
    """Cancel the plans that can still charge and delete the Customers; returns the contributions whose plan
    ended here. Already gone at Stripe counts as done."""
    running = [
        contribution
        for contribution in contributions
        if contribution.frequency != Frequency.ONE_OFF
        and contribution.provider_subscription_id
        and contribution.status in _CANCELLABLE
    ]
    customers = [(c.provider_customer_id, f"{c.request_key}:erase-customer") for c in contributions]
    customers.append((supporter.provider_customer_id, f"{supporter.reference}:erase-customer"))
    with gateway.account_use(account_for(supporter.newsroom)):
        for contribution in running:
            with contextlib.suppress(gateway.GatewayNotFound):
                gateway.subscription_cancel(
                    subscription_id=contribution.provider_subscription_id,
                    idempotency_key=f"{contribution.request_key}:erase-cancel",
                )
        # A Customer's deletion at Stripe also ends its subscriptions and detaches its payment methods.
        for customer_id, key in dict(reversed([c for c in customers if c[0]])).items():
            with contextlib.suppress(gateway.GatewayNotFound):
                gateway.customer_delete(customer_id=customer_id, idempotency_key=key)
    return running


def _last_email_queue(supporter: Supporter, address: str) -> None:
    """The confirmation, queued while we still have the address; the outbox keeps its own encrypted copy
    and blanks it once the message is sent (or given up on: notifications/delivery.py)."""
    if supporter.erased_at is not None:
        return  # erased before: the confirmation went out (or is on its way) then
    email_queue(
        newsroom=supporter.newsroom,
        to=address,
        template=ERASED_TEMPLATE,
        context={"date": timezone.now().date().isoformat(), "reference": supporter.reference},
        locale=supporter.locale,
        message_key=_erased_message_key(supporter),
    )


def _address_forget(supporter: Supporter, address: str, *, reminders: bool) -> None:
    """Withdraw what would still reach the address: unsent e-mails (receipts, a reminder handed to the outbox)
    and, with `reminders`, pending reminders; and forget the rate-limit windows counted under its keyed hash."""
    newsroom = supporter.newsroom
    last = _erased_message_key(supporter)
    for message in outbox_unsent_to(newsroom=newsroom, to=address):
        if message.message_key != last:
            outbox_cancel(message_key=message.message_key)
    for reminder in reminders_pending_for(newsroom=newsroom, email=address) if reminders else []:
        reminder_cancel(reminder_id=reminder.id)
    for scope, key in _RATE_LIMITS_BY_ADDRESS:
        rate_limit_forget(scope=scope, key=key.format(newsroom=newsroom.id, address=address))


def _webhook_events_redact(*, newsroom_id: int, contributions: list[Contribution], supporter: Supporter) -> None:
    """Events stored before webhooks were stored redacted (payments/event_redaction.py) may still hold the
    name on a card or a SEPA debit's e-mail: redact those that are about this supporter's objects."""
    payments = Payment.objects.filter(contribution__in=contributions)
    ids = {supporter.provider_customer_id}
    for contribution in contributions:
        ids |= {
            contribution.provider_payment_intent_id,
            contribution.provider_subscription_id,
            contribution.provider_customer_id,
            contribution.provider_setup_intent_id,
            contribution.provider_payment_method_id,
        }
    for payment_id, invoice_id, charge_id in payments.values_list(
        "provider_payment_id", "provider_invoice_id", "provider_charge_id"
    ):
        ids |= {payment_id, invoice_id, charge_id}
    ids |= set(Refund.objects.filter(payment__in=payments).values_list("provider_refund_id", flat=True))
    ids |= set(Dispute.objects.filter(payment__in=payments).values_list("provider_dispute_id", flat=True))
    ids.discard("")
    if not ids:
        return
    concerning = WebhookEvent.objects.filter(Q(payload__data__object__id__in=sorted(ids)), newsroom_id=newsroom_id)
    for event in concerning.only("id", "payload"):
        redacted = event_redact(event.payload)
        if redacted != event.payload:
            WebhookEvent.objects.filter(id=event.id).update(payload=redacted)

"""The ledger's sync services against localstripe: idempotent, order-independent, once-only effects."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.utils import timezone

from readerfund.checkout import services
from readerfund.checkout.validation import checkout_request_parse
from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.payments import gateway, ledger
from readerfund.payments.models import Contribution, ConversionCount, Payment, Refund
from tests.checkout import stripe_browser as browser
from tests.payments import stripe_scenarios

pytestmark = pytest.mark.django_db
Status = Contribution.Status


def _paid(
    newsroom: Any, *, frequency: str = "one_off", amount: int = 1000, card: str = browser.GOOD, locale: str = "ru"
) -> Contribution:
    variant = newsroom.campaigns.get().variants.get(key="b")
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": frequency,
        "amount": amount,
        "currency": "USD",
        "email": f"reader-{secrets.token_hex(3)}@example.org",
        "receipt": True,
        "variant": variant.id,
        "locale": locale,
    }
    started = services.contribution_start(newsroom=newsroom, request=checkout_request_parse(data, newsroom=newsroom))
    browser.card_set_up(started.client_secret, card)
    services.contribution_pay(contribution=started.contribution)
    return Contribution.objects.get(id=started.contribution.id)


def _subscription_status(newsroom: Any, contribution: Contribution) -> str | None:
    synced = ledger.subscription_sync(newsroom=newsroom, subscription_id=contribution.provider_subscription_id)
    return synced.status if synced else None


def _renewal_needing_authentication(contribution: Contribution) -> tuple[Any, Any]:
    """Bill the next month to a 3-D Secure card on the plan's own customer: (its invoice, its intent)."""
    customer = contribution.provider_customer_id
    card = {"number": browser.THREE_D_SECURE, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = browser.client().v1.payment_methods.create(params={"type": "card", "card": card})
    gateway.payment_method_attach(payment_method_id=method.id, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=method.id, idempotency_key=_key()
    )
    renewal = gateway.invoice_create(
        customer_id=customer, subscription_id=contribution.provider_subscription_id, idempotency_key=_key()
    )
    gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=_key())
    intent = gateway.payment_intent_get(intent_id=gateway.invoice_get(invoice_id=renewal.id).payment_intent)
    return renewal, intent


def _key() -> str:
    return f"test-{secrets.token_hex(6)}"


def test_payment_intent_sync_is_idempotent(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom)
    for _ in range(3):
        assert (
            ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=contribution.provider_payment_intent_id)
            == contribution
        )
    assert Payment.objects.filter(contribution=contribution).count() == 1
    assert ConversionCount.objects.get().count == 1
    receipt = OutboxMessage.objects.get()
    assert (receipt.template, receipt.locale, receipt.message_key) == (
        "receipt",
        "ru",
        f"receipt-{Payment.objects.get().id}",
    )


def test_payment_intent_sync_adopts_an_intent_whose_id_was_never_stored(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom)
    intent_id = contribution.provider_payment_intent_id
    Payment.objects.all().delete()
    Contribution.objects.filter(id=contribution.id).update(provider_payment_intent_id="", status=Status.PENDING)
    synced = ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=intent_id)
    assert synced is not None and synced.id == contribution.id
    assert (synced.status, synced.provider_payment_intent_id) == (Status.SUCCEEDED, intent_id)


def test_unknown_intent_is_not_ours(localstripe: str, demo_newsroom: Any) -> None:
    card = {"number": browser.GOOD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    method = browser.client().v1.payment_methods.create(params={"type": "card", "card": card})
    intent = gateway.payment_intent_create(
        amount=500, currency="USD", payment_method_id=method.id, metadata={}, idempotency_key=_key()
    )
    assert ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=intent.id) is None
    assert not Payment.objects.exists()


def test_failed_intent_fails_with_reason_and_a_stale_read_never_undoes_a_payment(
    localstripe: str, demo_newsroom: Any
) -> None:
    failed = _paid(demo_newsroom, card=browser.FAILS_WHEN_CHARGED)
    assert (
        ledger.payment_intent_sync(newsroom=demo_newsroom, intent_id=failed.provider_payment_intent_id).status
        == Status.FAILED
    )
    assert Contribution.objects.get(id=failed.id).failure_reason == "card_declined"

    paid = _paid(demo_newsroom)
    intent = gateway.payment_intent_get(intent_id=paid.provider_payment_intent_id)
    stale = dataclasses.replace(intent, status="requires_action")
    assert ledger.contribution_apply_intent(contribution=paid, intent=stale).status == Status.SUCCEEDED


def test_subscription_sync_follows_the_subscription(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom, frequency="monthly", amount=300)
    assert contribution.status == Status.ACTIVE
    assert (
        ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id).status
        == Status.ACTIVE
    )
    gateway.subscription_cancel(subscription_id=contribution.provider_subscription_id, idempotency_key=_key())
    assert (
        ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id).status
        == Status.CANCELED
    )
    assert ledger.subscription_sync(newsroom=demo_newsroom, subscription_id="sub_unknown") is None
    assert Payment.objects.filter(contribution=contribution).count() == 1
    assert ConversionCount.objects.get(frequency="monthly").count == 1


def test_renewals_past_due_and_recovery_in_any_order(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom, frequency="monthly", amount=500)
    subscription = gateway.subscription_get(subscription_id=contribution.provider_subscription_id)
    customer = subscription.customer

    failing = browser.client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": browser.FAILS_WHEN_CHARGED, "exp_month": 1, "exp_year": 2035, "cvc": "123"},
        }
    )
    gateway.payment_method_attach(payment_method_id=failing.id, customer_id=customer, idempotency_key=_key())
    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=failing.id, idempotency_key=_key()
    )
    renewal = gateway.invoice_create(customer_id=customer, subscription_id=subscription.id, idempotency_key=_key())
    with contextlib.suppress(gateway.PaymentDeclined):
        gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=_key())
    assert ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id) is None
    assert Contribution.objects.get(id=contribution.id).status == Status.PAST_DUE

    gateway.customer_default_payment_method_set(
        customer_id=customer, payment_method_id=subscription.payment_intent.payment_method, idempotency_key=_key()
    )
    gateway.invoice_pay(invoice_id=renewal.id, idempotency_key=_key())
    payment = ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id)
    assert payment is not None and payment.recovered and payment.amount == 500
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE
    # The first invoice's sync arriving late, and the same again: nothing moves.
    first = ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=subscription.latest_invoice)
    assert first is not None and not first.recovered
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id)
    assert Contribution.objects.get(id=contribution.id).status == Status.ACTIVE
    assert Payment.objects.filter(contribution=contribution).count() == 2
    assert OutboxMessage.objects.filter(message_key__startswith="receipt-").count() == 2
    assert ConversionCount.objects.get(frequency="monthly").count == 1


def test_refunds_are_recorded_once_each(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom, amount=1000)
    intent_id = contribution.provider_payment_intent_id
    charge_id = gateway.payment_intent_get(intent_id=intent_id).latest_charge
    gateway.refund_create(payment_intent_id=intent_id, amount=300, idempotency_key=_key())
    for _ in range(2):
        payment = ledger.charge_refund_sync(newsroom=demo_newsroom, charge_id=charge_id)
    assert payment is not None
    assert (payment.amount_refunded, payment.status) == (300, Payment.Status.PARTIALLY_REFUNDED)
    gateway.refund_create(payment_intent_id=intent_id, amount=700, idempotency_key=_key())
    payment = ledger.payment_intent_refund_sync(newsroom=demo_newsroom, intent_id=intent_id)
    assert payment is not None
    assert (payment.amount_refunded, payment.status) == (1000, Payment.Status.REFUNDED)
    assert Refund.objects.filter(payment=payment).count() == 2


def test_a_refund_seen_before_its_payment_records_both(localstripe: str, demo_newsroom: Any) -> None:
    contribution = _paid(demo_newsroom, amount=800)
    intent_id = contribution.provider_payment_intent_id
    Payment.objects.all().delete()
    Contribution.objects.filter(id=contribution.id).update(status=Status.PENDING)
    gateway.refund_create(payment_intent_id=intent_id, amount=None, idempotency_key=_key())
    charge_id = gateway.payment_intent_get(intent_id=intent_id).latest_charge
    payment = ledger.charge_refund_sync(newsroom=demo_newsroom, charge_id=charge_id)
    assert payment is not None and payment.status == Payment.Status.REFUNDED
    assert Contribution.objects.get(id=contribution.id).status == Status.SUCCEEDED


def test_receipts_in_russian_and_english_with_a_neutral_subject(
    localstripe: str, demo_newsroom: Any, smtp_server: Any
) -> None:
    russian = _paid(demo_newsroom, frequency="monthly", amount=500)
    _paid(demo_newsroom, amount=700, locale="en")
    for message in OutboxMessage.objects.order_by("id"):
        assert outbox_deliver(message_id=message.id) == "sent"
    received = smtp_server.wait_for(2)
    subjects = sorted(str(make_header(decode_header(m["Subject"]))) for m in received)
    assert subjects[0].startswith("Your receipt") and subjects[1].startswith("Ваша квитанция")
    bodies = [m.get_payload(0).get_payload(decode=True).decode() for m in received]
    assert any("ежемесячный взнос 5\u00a0$" in body for body in bodies)  # as Russian writes it
    assert any("contribution of $7" in body for body in bodies)
    assert all("Gazette" not in subject for subject in subjects)  # the outlet is not named in the inbox
    assert russian.status == Status.ACTIVE


@pytest.mark.parametrize(
    "order",
    [("first", "renewal", "subscription"), ("renewal", "first", "subscription"), ("subscription", "first", "renewal")],
)
@pytest.mark.parametrize("seen_before", [Status.PENDING, Status.PAST_DUE, Status.ACTIVE])
def test_recovered_is_the_invoices_own_history_in_any_order(
    localstripe: str, demo_newsroom: Any, order: tuple[str, ...], seen_before: str
) -> None:
    story = stripe_scenarios.renewal_recovered(demo_newsroom)
    subscription_id = story.events[0]["data"]["object"]["id"]
    invoices = list(dict.fromkeys(e["data"]["object"]["id"] for e in story.events if e["type"].startswith("invoice.")))
    first, renewal = invoices
    # Whatever an earlier event left the contribution at (the failure seen live, or nothing at all).
    Contribution.objects.filter(id=story.contribution.id).update(status=seen_before)
    syncs = {
        "first": lambda: ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=first),
        "renewal": lambda: ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal),
        "subscription": lambda: ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=subscription_id),
    }
    for name in order:
        syncs[name]()
    recovered = dict(Payment.objects.values_list("provider_invoice_id", "recovered"))
    assert recovered == {first: False, renewal: True}
    assert Contribution.objects.get(id=story.contribution.id).status == Status.ACTIVE


def test_a_payment_recorded_early_takes_stripes_date_and_recovery_on_a_later_sync(
    localstripe: str, demo_newsroom: Any
) -> None:
    story = stripe_scenarios.renewal_recovered(demo_newsroom)
    renewal = [e["data"]["object"] for e in story.events if e["type"] == "invoice.payment_succeeded"][-1]
    payment = ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal["id"])
    assert payment is not None
    Payment.objects.filter(id=payment.id).update(recovered=False, paid_at=timezone.now() + timedelta(days=9))
    ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal["id"])
    payment.refresh_from_db()
    assert payment.recovered is True
    assert payment.paid_at == datetime.fromtimestamp(renewal["status_transitions"]["paid_at"], tz=UTC)


# --- matching, and renewals that wait for 3-D Secure --------------------------------------------------


def _subscription_with_metadata(newsroom: Any, metadata: dict[str, str], *, amount: int = 300) -> str:
    """A subscription at localstripe made by someone else (another deployment on the same account)."""
    maker = stripe_scenarios.contribution_make(newsroom, frequency="monthly", amount=amount, currency="EUR")
    customer_id, method_id = stripe_scenarios._customer_with_card(maker, stripe_scenarios.GOOD_CARD)
    gateway.customer_default_payment_method_set(
        customer_id=customer_id, payment_method_id=method_id, idempotency_key=_key()
    )
    subscription = gateway.subscription_create(
        customer_id=customer_id, plan_id=stripe_scenarios._plan(maker), metadata=metadata, idempotency_key=_key()
    )
    maker.delete()
    return subscription.id


def test_a_subscription_naming_our_row_id_but_not_our_request_key_changes_nothing(
    localstripe: str, demo_newsroom: Any
) -> None:
    """Another deployment (or a test database) on the same Stripe account has rows with our ids: its
    subscription's metadata {"contribution": "<id>"} must not re-status our contribution."""
    ours = stripe_scenarios.contribution_make(demo_newsroom, frequency="monthly", amount=300, currency="EUR")
    subscription_id = _subscription_with_metadata(demo_newsroom, {"contribution": str(ours.id)})
    assert gateway.subscription_get(subscription_id=subscription_id).status == "active"
    assert ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=subscription_id) is None
    ours.refresh_from_db()
    assert (ours.status, ours.provider_subscription_id) == (Status.PENDING, "")


def test_a_subscription_with_our_request_key_but_another_amount_is_not_adopted(
    localstripe: str, demo_newsroom: Any
) -> None:
    ours = stripe_scenarios.contribution_make(demo_newsroom, frequency="monthly", amount=900, currency="EUR")
    subscription_id = _subscription_with_metadata(demo_newsroom, {"checkout": ours.request_key}, amount=300)
    assert ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=subscription_id) is None
    assert Contribution.objects.get(id=ours.id).status == Status.PENDING
    # The same request key with the right amount, currency and interval is adopted.
    Contribution.objects.filter(id=ours.id).update(amount=300)
    adopted = ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=subscription_id)
    assert adopted is not None and adopted.id == ours.id and adopted.status == Status.ACTIVE


def test_a_renewal_that_needs_authentication_emails_a_page_that_completes_it(
    localstripe: str, demo_newsroom: Any, client: Any
) -> None:
    import re

    contribution = _paid(demo_newsroom, frequency="monthly", amount=500)
    assert contribution.status == Status.ACTIVE
    renewal, intent = _renewal_needing_authentication(contribution)
    assert intent.status == "requires_action"

    for _ in range(2):  # invoice.payment_action_required, delivered twice
        assert ledger.invoice_sync(newsroom=demo_newsroom, invoice_id=renewal.id, action_required=True) is None
    contribution.refresh_from_db()
    assert (contribution.status, contribution.failure_reason) == (Status.PAST_DUE, "authentication_required")
    mail = OutboxMessage.objects.get(template="renewal_action")
    url = re.search(r'"url":"([^"]+)"', mail.context).group(1)  # type: ignore[union-attr]
    path = url.split("://", 1)[1].split("/", 1)[1]

    page = client.get(f"/{path}")
    assert page.status_code == 200
    assert intent.client_secret in page.content.decode()
    # A tampered link shows nothing to confirm.
    assert client.get(f"/{path[:-3]}xx/").status_code == 404

    browser.payment_authenticate(intent.client_secret)
    done = client.post(f"/{path}")
    assert done.status_code == 200
    assert "оплачен" in done.content.decode()  # the supporter checked out in Russian
    contribution.refresh_from_db()
    assert contribution.status == Status.ACTIVE
    assert Payment.objects.filter(contribution=contribution).count() == 2


def _renewal_waiting_for_3d_secure(newsroom: Any) -> tuple[Contribution, Any, str]:
    """An active plan whose renewal's bank asks for 3-D Secure: (contribution, the intent, the e-mailed path)."""
    import re

    contribution = _paid(newsroom, frequency="monthly", amount=500)
    renewal, intent = _renewal_needing_authentication(contribution)
    ledger.invoice_sync(newsroom=newsroom, invoice_id=renewal.id, action_required=True)
    mail = OutboxMessage.objects.get(template="renewal_action", newsroom=newsroom)
    url = re.search(r'"url":"([^"]+)"', mail.context).group(1)  # type: ignore[union-attr]
    contribution.refresh_from_db()
    return contribution, intent, "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_renewal_link_for_a_plan_canceled_since_offers_nothing_to_pay(
    localstripe: str, demo_newsroom: Any, client: Any
) -> None:
    """The supporter (or the newsroom) ended the plan after the e-mail went out: the old link must not take
    money for a plan that no longer runs."""
    contribution, intent, path = _renewal_waiting_for_3d_secure(demo_newsroom)
    assert contribution.status == Status.PAST_DUE
    gateway.subscription_cancel(subscription_id=contribution.provider_subscription_id, idempotency_key=_key())
    ledger.subscription_sync(newsroom=demo_newsroom, subscription_id=contribution.provider_subscription_id)
    contribution.refresh_from_db()
    assert contribution.status == Status.CANCELED
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 404
        assert intent.client_secret not in response.content.decode()
    assert Payment.objects.filter(contribution=contribution).count() == 1


def test_a_busy_database_on_the_renewal_page_is_a_page_that_says_try_again_not_a_500(
    localstripe: str, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError
    from django.test import Client

    _, intent, path = _renewal_waiting_for_3d_secure(demo_newsroom)
    browser.payment_authenticate(intent.client_secret)

    def busy(**kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ledger, "invoice_sync", busy)
    response = Client(raise_request_exception=False).post(path)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Платёж пока не подтверждён" in response.content.decode()  # the supporter checked out in Russian

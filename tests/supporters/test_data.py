"""'Download my data' and 'Erase my data' against localstripe, through the real checkout, reminder, webhook
and outbox paths; and the database itself, read raw, before and after erasure."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from readerfund.checkout import services
from readerfund.checkout.validation import checkout_request_parse
from readerfund.core.models import RateLimitWindow
from readerfund.core.privacy import EncryptedTextField, lookup_hash
from readerfund.core.ratelimit import rate_limit_hit
from readerfund.notifications.models import OutboxMessage
from readerfund.notifications.worker import tasks_run_ready
from readerfund.payments import gateway
from readerfund.payments.contribution_links import contribution_link_token
from readerfund.payments.models import Contribution, Payment, Supporter, WebhookEvent
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_schedule
from readerfund.supporters.data import supporter_data_export, supporter_erase
from readerfund.supporters.models import SignInRequest, SupporterSession
from tests.checkout import stripe_browser as browser
from tests.payments.events import event_build, event_post
from tests.payments.stripe_scenarios import fetched
from tests.supporters.conftest import signin_deliveries_run, signin_secrets, supporter_make

# Committed transactions: the outbox and the webhook view enqueue on commit, and the raw database is read.
pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "plaintext-canary@example.org"
TYPED = "Plaintext-Canary@Example.org"
NAME = "Canary Name"


def _checkout(newsroom: Any, *, frequency: str, amount: int) -> Contribution:
    """The checkout's start and pay services; the card set up as checkout.js does, with the name on it."""
    variant = newsroom.campaigns.get().variants.get(key="a")
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": frequency,
        "amount": amount,
        "currency": "USD",
        "email": TYPED,
        "name": NAME,
        "receipt": True,
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": "en",
        "return": "http://127.0.0.1:8000/demo/2/",
    }
    started = services.contribution_start(newsroom=newsroom, request=checkout_request_parse(data, newsroom=newsroom))
    setup_id = started.client_secret.split("_secret_")[0]
    card = {"number": browser.GOOD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
    params: Any = {"payment_method_data": {"type": "card", "card": card, "billing_details": {"name": NAME}}}
    browser.client().v1.setup_intents.confirm(setup_id, params=params)
    outcome = services.contribution_pay(contribution=started.contribution)
    assert outcome.state == "done"
    return Contribution.objects.get(id=outcome.contribution.id)


def _supporter_with_everything(newsroom: Any) -> tuple[Supporter, Contribution, Contribution, Reminder]:
    monthly = _checkout(newsroom, frequency="monthly", amount=300)
    one_off = _checkout(newsroom, frequency="one_off", amount=700)
    reminder = reminder_schedule(
        newsroom=newsroom,
        email=TYPED,
        remind_on=timezone.now().date() + timedelta(days=10),
        locale="en",
        campaign_id=None,
        variant_id=None,
    ).reminder
    # What the checkout and reminder endpoints count by address (checkout/views.py, reminders/api.py).
    rate_limit_hit(scope="checkout:email", key=f"{newsroom.id}:{ADDRESS}", limit=8, window_seconds=3600)
    rate_limit_hit(scope="reminders:address", key=ADDRESS, limit=5, window_seconds=3600)
    supporter = Supporter.objects.get(id=monthly.supporter_id)
    assert one_off.supporter_id == supporter.id
    return supporter, monthly, one_off, reminder


def _renewal_events(contribution: Contribution) -> list[dict[str, Any]]:
    """Bill the next month now (localstripe has no clock) and build the events Stripe would send for it."""
    invoice = gateway.invoice_create(
        customer_id=contribution.provider_customer_id,
        subscription_id=contribution.provider_subscription_id,
        idempotency_key=f"{contribution.request_key}:test-renew",
    )
    gateway.invoice_pay(invoice_id=invoice.id, idempotency_key=f"{contribution.request_key}:test-renew-pay")
    paid = fetched("invoices", invoice.id)
    return [
        event_build(paid, "invoice.payment_succeeded"),
        event_build(fetched("payment_intents", paid["payment_intent"]), "payment_intent.succeeded"),
    ]


def _deliver(events: list[dict[str, Any]]) -> None:
    client = Client()
    for event in events:
        assert event_post(client, event).status_code == 200
    tasks_run_ready()


# --- Download my data ------------------------------------------------------------------------------


def test_export_holds_the_address_both_contributions_the_payments_and_the_reminder(
    localstripe: str, demo_newsroom: Any
) -> None:
    supporter, monthly, one_off, reminder = _supporter_with_everything(demo_newsroom)

    export = json.loads(json.dumps(supporter_data_export(supporter=supporter)))

    assert export["generated_at"] and export["explanation"]
    assert (export["supporter"]["email"], export["supporter"]["name"]) == (ADDRESS, NAME)
    assert export["supporter"]["reference"] == supporter.reference
    contributions = {c["frequency"]: c for c in export["contributions"]}
    assert set(contributions) == {"monthly", "one_off"}
    assert contributions["monthly"]["amount"] == {"minor_units": 300, "currency": "USD", "display": "$3"}
    assert contributions["monthly"]["provider_ids"]["subscription"] == monthly.provider_subscription_id
    assert contributions["one_off"]["provider_ids"]["payment_intent"] == one_off.provider_payment_intent_id
    assert contributions["one_off"]["campaign"] == demo_newsroom.campaigns.get().name
    assert sorted(p["amount"]["minor_units"] for p in export["payments"]) == [300, 700]
    assert {p["provider_ids"]["payment_intent"] for p in export["payments"]} == set(
        Payment.objects.values_list("provider_payment_id", flat=True)
    )
    assert [(r["email"], r["remind_on"]) for r in export["reminders"]] == [(ADDRESS, reminder.remind_on.isoformat())]
    assert sorted(e["template"] for e in export["emails"]) == ["receipt", "receipt"]


# --- Erase my data ---------------------------------------------------------------------------------


def test_erase_cancels_the_plan_deletes_the_customer_keeps_anonymous_payments_and_sends_one_last_email(
    localstripe: str, demo_newsroom: Any
) -> None:
    supporter, monthly, one_off, reminder = _supporter_with_everything(demo_newsroom)
    customer_id = monthly.provider_customer_id
    assert customer_id

    supporter_erase(supporter=supporter)
    tasks_run_ready()

    assert gateway.subscription_get(subscription_id=monthly.provider_subscription_id).status == "canceled"
    try:
        gone = browser.client().v1.customers.retrieve(customer_id)
        assert gone.get("deleted") is True
    except Exception as error:  # noqa: BLE001 - localstripe answers 404 for a deleted customer
        assert getattr(error, "http_status", None) == 404
    supporter.refresh_from_db()
    assert (supporter.email, supporter.name, supporter.email_hash, supporter.provider_customer_id) == ("", "", "", "")
    assert supporter.erased_at is not None
    monthly.refresh_from_db()
    assert monthly.status == Contribution.Status.CANCELED
    assert monthly.provider_customer_id == "" and monthly.provider_subscription_id
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [300, 700]
    assert Reminder.objects.get(id=reminder.id).status == Reminder.Status.CANCELLED
    # The two receipts were still unsent: withdrawn. The confirmation is the one e-mail that went out.
    assert [m.subject for m in mail.outbox] == ["Your data has been erased"]
    assert mail.outbox[0].to == [ADDRESS]
    assert demo_newsroom.name not in mail.outbox[0].subject
    assert OutboxMessage.objects.filter(template="erased").count() == 1
    assert set(OutboxMessage.objects.values_list("template", "status")) == {
        ("receipt", "cancelled"),
        ("erased", "sent"),
    }
    assert not OutboxMessage.objects.exclude(to_address="").exists()


def test_erasing_twice_is_harmless(localstripe: str, demo_newsroom: Any) -> None:
    supporter, monthly, _one_off, _reminder = _supporter_with_everything(demo_newsroom)
    supporter_erase(supporter=supporter)
    first = Supporter.objects.get(id=supporter.id).erased_at

    supporter_erase(supporter=supporter)
    tasks_run_ready()

    assert Supporter.objects.get(id=supporter.id).erased_at == first
    assert OutboxMessage.objects.filter(template="erased").count() == 1
    assert len(mail.outbox) == 1
    assert Contribution.objects.get(id=monthly.id).status == Contribution.Status.CANCELED


def test_a_renewal_webhook_after_erasure_sends_no_receipt(localstripe: str, demo_newsroom: Any) -> None:
    supporter, monthly, _one_off, _reminder = _supporter_with_everything(demo_newsroom)
    renewal = _renewal_events(monthly)  # billed just before the erasure, delivered just after
    supporter_erase(supporter=supporter)
    tasks_run_ready()
    assert len(mail.outbox) == 1

    _deliver(renewal)

    assert WebhookEvent.objects.count() == 2
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {"processed", "ignored"}
    assert len(mail.outbox) == 1
    # The money is recorded, anonymously: the accounts still add up.
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [300, 300, 700]
    assert OutboxMessage.objects.filter(template="receipt").exclude(status="cancelled").count() == 0


# --- the database, read raw ------------------------------------------------------------------------


def _database_dump() -> str:
    """Every value of every table as text: SQLite's dump (its test database is in memory), or for
    PostgreSQL each row cast to text."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - table names from the schema
            parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)


def _decrypted_values() -> list[str]:
    """Every EncryptedTextField value of every model, decrypted: what the ciphertexts hold."""
    values = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedTextField):
                values += [str(v) for v in model._default_manager.values_list(field.name, flat=True) if v]
    return values


def _hashes(newsroom: Any) -> set[str]:
    return {
        lookup_hash(ADDRESS, scope=f"supporter:{newsroom.id}"),
        lookup_hash(ADDRESS, scope="reminders:address"),
        lookup_hash(f"{newsroom.id}:{ADDRESS}", scope="ratelimit:checkout:email"),
        lookup_hash(ADDRESS, scope="ratelimit:reminders:address"),
        lookup_hash(f"{newsroom.id}:{ADDRESS}", scope="ratelimit:supporters:send-address"),
        lookup_hash(f"{newsroom.id}:{ADDRESS}", scope="ratelimit:supporters:code-address"),
    }


def _self_service(monthly: Contribution) -> None:
    """Sign in as the supporter would (a wrong code, then the right one), change, pause and resume the
    plan on their page, download their data, and cancel from the receipt's e-mailed link."""
    client = Client()
    assert client.post("/account/demo/", {"email": TYPED, "locale": "en"}).status_code == 200
    signin_deliveries_run()
    _path, code = signin_secrets(OutboxMessage.objects.filter(template="signin").latest("id"))
    assert client.post("/account/demo/code", {"email": TYPED, "code": "00000000", "locale": "en"}).status_code == 400
    assert client.post("/account/demo/code", {"email": TYPED, "code": code, "locale": "en"}).status_code == 303
    contribution = f"/account/demo/contribution/{monthly.id}"
    changes = [("amount", {"amount": "4", "frequency": "monthly"}), ("pause", {"months": "1"}), ("resume", {})]
    for action, data in changes:
        response = client.post(f"{contribution}/{action}", {"locale": "en", **data})
        assert response.status_code == 303 and "done=" in response["Location"], (action, response.status_code)
    download = client.post("/account/demo/data", {"locale": "en"})
    assert download.status_code == 200 and ADDRESS in download.content.decode()
    held = json.loads(download.content)
    assert [bool(signin["used_at"]) for signin in held["sign_ins"]] == [True]
    assert len(held["sessions"]) == 1 and held["sessions"][0]["ended_at"] is None
    token = contribution_link_token(contribution=Contribution.objects.get(id=monthly.id), action="cancel")
    cancelled = Client().post(f"/account/demo/email/{token}/", {"locale": "en", "reason": "Moving abroad"})
    assert cancelled.status_code in (200, 303), cancelled.status_code
    assert Contribution.objects.get(id=monthly.id).cancels_at is not None
    tasks_run_ready()  # the confirmations go out


def test_the_raw_database_holds_no_plaintext_and_after_erasure_nothing_of_the_address(
    localstripe: str, demo_newsroom: Any
) -> None:
    supporter, monthly, _one_off, _reminder = _supporter_with_everything(demo_newsroom)
    # Stripe's events carry what the reader typed into Stripe.js: the name on the card, in the payment
    # method's billing details (stored even though no handler reads this type).
    method = fetched("payment_methods", monthly.provider_payment_method_id)
    assert method["billing_details"]["name"] == NAME
    _deliver([*_renewal_events(monthly), event_build(method, "payment_method.attached")])
    assert Payment.objects.count() == 3
    _self_service(monthly)
    before = _database_dump()
    for plaintext in (ADDRESS, TYPED, NAME):
        assert plaintext.lower() not in before.lower()
    hashes = _hashes(demo_newsroom)
    assert {h for h in hashes if h in before} == hashes  # the look-ups work through these, until erasure
    assert any(ADDRESS in value for value in _decrypted_values())
    assert mail.outbox  # the receipts went out before the erasure

    supporter_erase(supporter=supporter)
    tasks_run_ready()  # the confirmation goes out, and the outbox forgets where it went

    assert mail.outbox[-1].subject == "Your data has been erased"
    after = _database_dump()
    for plaintext in (ADDRESS, TYPED, NAME):
        assert plaintext.lower() not in after.lower()
    assert not {h for h in hashes if h in after}
    assert not [v for v in _decrypted_values() if ADDRESS in v.lower() or NAME.lower() in v.lower()]
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [300, 300, 700]


@pytest.mark.parametrize(("locale", "subject"), [("en", "Your data has been erased"), ("ru", "Ваши данные удалены")])
def test_the_confirmation_renders_in_both_languages_and_its_subject_names_no_outlet(
    demo_newsroom: Any, locale: str, subject: str
) -> None:
    from readerfund.notifications.render import message_render
    from readerfund.notifications.services import email_queue

    email_queue(
        newsroom=demo_newsroom,
        to=ADDRESS,
        template="erased",
        context={"date": "2026-01-02", "reference": "S-ABC"},
        locale=locale,
        message_key=f"erased-test-{locale}",
    )
    rendered = message_render(OutboxMessage.objects.get(message_key=f"erased-test-{locale}"))
    assert rendered.subject == subject
    assert demo_newsroom.name not in rendered.subject
    assert "S-ABC" in rendered.body and "2026-01-02" in rendered.body


def test_erasure_forgets_the_sign_in_rate_limits_requests_and_sessions(demo_newsroom: Any) -> None:
    supporter = supporter_make(demo_newsroom, ADDRESS)
    client = Client()
    assert client.post("/account/demo/", {"email": ADDRESS, "locale": "en"}).status_code == 200
    signin_deliveries_run()
    path, code = signin_secrets(OutboxMessage.objects.get(template="signin"))
    assert client.post("/account/demo/code", {"email": ADDRESS, "code": "00000000"}).status_code == 400
    assert client.post(path).status_code == 303
    # One more asked for and not yet reached by the worker: it holds only the address's hash.
    assert client.post("/account/demo/", {"email": ADDRESS, "locale": "en"}).status_code == 200
    assert SignInRequest.objects.filter(supporter__isnull=True).exclude(undelivered="").count() == 1
    by_address = {
        lookup_hash(f"{demo_newsroom.id}:{ADDRESS}", scope="ratelimit:supporters:send-address"),
        lookup_hash(f"{demo_newsroom.id}:{ADDRESS}", scope="ratelimit:supporters:code-address"),
    }
    assert set(RateLimitWindow.objects.values_list("key_hash", flat=True)) >= by_address

    supporter_erase(supporter=supporter)

    assert not RateLimitWindow.objects.filter(key_hash__in=by_address).exists()
    # Nothing is left to tell when the person signed in, or that they did.
    assert not SignInRequest.objects.exists()
    assert not SupporterSession.objects.filter(supporter=supporter).exists()
    assert client.get("/account/demo/home/").status_code == 302

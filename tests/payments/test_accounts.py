"""Each newsroom is paid into its own Stripe account.

Two newsrooms, each with a localstripe of its own standing for its Stripe account, and each with its own
secret key, publishable key and webhook signing secret on its Newsroom row. The deployment's own
STRIPE_* settings point at a port where nothing listens, and every request the SDK sends is recorded:
a call made with the wrong account's key, or with the deployment's account, fails the test instead of
quietly landing somewhere.

No account is selected for the test body (unlike the `localstripe` fixture): the checkout, the webhook
processing and the reconcile must each select the newsroom's account themselves.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe
from django.db.models import F
from django.test import Client

from readerfund.checkout import services
from readerfund.checkout.validation import CheckoutProblem, checkout_request_parse
from readerfund.core.privacy import normalize_email
from readerfund.demo import processes
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Contribution, Dispute, Payment, ProviderPlan, Refund, Supporter, WebhookEvent
from readerfund.payments.reconcile import ReconcileReport, ledger_reconcile
from readerfund.payments.stripe_shapes import object_id
from tests.checkout import stripe_browser as browser
from tests.payments.events import event_build, event_post

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# What each account holds that a checkout makes, as listed at its localstripe.
KINDS = ("customers", "payment_intents", "subscriptions", "plans", "charges", "refunds")


# --- two accounts, two newsrooms ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A localstripe of its own for the second newsroom, from scratch, on a free port."""
    with processes.localstripe_running(tmp_path_factory.mktemp("localstripe-second") / "localstripe.log") as base:
        yield base


@dataclass(frozen=True)
class Account:
    """One newsroom's Stripe account, as its staff (and Stripe's dashboard) see it."""

    base_url: str
    secret_key: str
    publishable_key: str
    webhook_secret: str

    def sdk(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.secret_key, stripe_version=gateway.API_VERSION, base_addresses={"api": self.base_url}
        )

    def fetched(self, kind: str, object_id: str) -> dict[str, Any]:
        """The object as this account holds it now, as plain JSON (what an event's data.object carries)."""
        service = getattr(self.sdk().v1, kind)
        return json.loads(json.dumps(service.retrieve(object_id).to_dict(), default=str))

    def holds(self, kind: str, object_id: str) -> bool:
        try:
            getattr(self.sdk().v1, kind).retrieve(object_id)
        except stripe.InvalidRequestError as exc:
            assert exc.http_status == 404, exc
            return False
        return True

    def ids(self) -> dict[str, set[str]]:
        listed: dict[str, set[str]] = {}
        for kind in KINDS:
            params: Any = {"limit": 100, "status": "all"} if kind == "subscriptions" else {"limit": 100}
            listing = getattr(self.sdk().v1, kind).list(params=params)
            listed[kind] = {item.id for item in listing.auto_paging_iter()}
        return listed

    def ids_since(self, before: dict[str, set[str]]) -> dict[str, set[str]]:
        return {kind: ids - before[kind] for kind, ids in self.ids().items()}


@dataclass(frozen=True)
class Outlet:
    newsroom: Newsroom
    account: Account


def _outlet(slug: str, name: str, base_url: str) -> Outlet:
    token = secrets.token_hex(6)
    account = Account(
        base_url=base_url,
        secret_key=f"sk_test_{slug}_{token}",
        publishable_key=f"pk_test_{slug}_{token}",
        webhook_secret=f"whsec_{slug}_{token}",
    )
    newsroom = Newsroom.objects.create(
        slug=slug,
        name=name,
        stripe_secret_key=account.secret_key,
        stripe_publishable_key=account.publishable_key,
        stripe_webhook_secret=account.webhook_secret,
        stripe_api_base=base_url,
    )
    return Outlet(newsroom=Newsroom.objects.get(id=newsroom.id), account=account)


@pytest.fixture
def herald(db: Any, localstripe_server: str) -> Outlet:
    return _outlet("harbour-herald", "The Harbour Herald", localstripe_server)


@pytest.fixture
def voice(db: Any, second_localstripe_server: str) -> Outlet:
    return _outlet("valley-voice", "Valley Voice", second_localstripe_server)


@pytest.fixture(autouse=True)
def _deployment_account_unreachable(settings: Any) -> None:
    """The deployment's own account answers nowhere: a call that fell back to it fails at once."""
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{processes.free_port()}"
    settings.STRIPE_SECRET_KEY = "sk_test_deployment_default"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_deployment_default"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_deployment_default"
    settings.TASKS = IMMEDIATE


@dataclass(frozen=True)
class Call:
    base: str
    method: str
    path: str
    key: str
    connected: str  # the Stripe-Account header (Connect)


@dataclass
class Wire:
    """Every request the SDK sent, ours and the test's: where it went and with which secret key."""

    calls: list[Call] = field(default_factory=list)

    def bases_since(self, mark: int) -> set[str]:
        return {call.base for call in self.calls[mark:]}


@pytest.fixture(autouse=True)
def wire(monkeypatch: pytest.MonkeyPatch, herald: Outlet, voice: Outlet) -> Iterator[Wire]:
    recorded = Wire()
    send = stripe.RequestsClient.request

    def request(self: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        parts = urlsplit(url)
        sent = dict(headers or {})
        key = sent.get("Authorization", "").removeprefix("Bearer ")
        base = f"{parts.scheme}://{parts.netloc}"
        recorded.calls.append(Call(base, method, parts.path, key, sent.get("Stripe-Account", "")))
        return send(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", request)
    yield recorded
    keys = {outlet.account.base_url: outlet.account.secret_key for outlet in (herald, voice)}
    astray = [call for call in recorded.calls if keys.get(call.base) != call.key]
    assert not astray, [(call.base, call.method, call.path) for call in astray]


# --- doing what readers, Stripe and the newsroom's staff do ---------------------------------------------


def checkout(
    outlet: Outlet, *, frequency: str = "one_off", amount: int = 500, email: str = "reader@example.org"
) -> Contribution:
    """Through the checkout's services, the card set up at the account the SetupIntent was made at, as
    Stripe.js does with the publishable key the page was given."""
    data = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": frequency,
        "amount": amount,
        "currency": "USD",
        "email": email,
        "name": "Ada",
        "locale": "en",
    }
    started = services.contribution_start(
        newsroom=outlet.newsroom, request=checkout_request_parse(data, newsroom=outlet.newsroom)
    )
    assert started.state == "setup" and started.client_secret
    browser.card_set_up(started.client_secret, base_url=outlet.account.base_url, secret_key=outlet.account.secret_key)
    outcome = services.contribution_pay(contribution=started.contribution)
    contribution = Contribution.objects.get(id=started.contribution.id)
    assert outcome.state == "done", contribution.failure_reason
    return contribution


def first_invoice(outlet: Outlet, contribution: Contribution) -> dict[str, Any]:
    subscription = outlet.account.fetched("subscriptions", contribution.provider_subscription_id)
    return outlet.account.fetched("invoices", subscription["latest_invoice"])


def charge_of(outlet: Outlet, intent_id: str) -> str:
    return object_id(outlet.account.fetched("payment_intents", intent_id)["latest_charge"])


def deliver(client: Client, capture: Any, event: dict[str, Any], *, to: Outlet, signed_by: Outlet) -> Any:
    # The view enqueues on commit; the test's transaction never commits, so run the callbacks here.
    with capture(execute=True):
        return event_post(client, event, newsroom=to.newsroom.slug, secret=signed_by.account.webhook_secret)


def ledger(outlet: Outlet) -> dict[str, Any]:
    """A newsroom's ledger by stable ids: contributions' statuses, payments, refunds, disputes."""
    newsroom = outlet.newsroom
    return {
        "contributions": dict(Contribution.objects.filter(newsroom=newsroom).values_list("request_key", "status")),
        "payments": {
            p.provider_payment_id: (p.contribution.request_key, p.amount, p.status, p.amount_refunded)
            for p in Payment.objects.filter(newsroom=newsroom).select_related("contribution")
        },
        "refunds": dict(Refund.objects.filter(payment__newsroom=newsroom).values_list("provider_refund_id", "amount")),
        "disputes": dict(
            Dispute.objects.filter(payment__newsroom=newsroom).values_list("provider_dispute_id", "status")
        ),
    }


def payments_forget(outlet: Outlet) -> None:
    """As if every webhook about the newsroom's payments was lost after the checkout stored its ids."""
    Refund.objects.filter(payment__newsroom=outlet.newsroom).delete()
    Dispute.objects.filter(payment__newsroom=outlet.newsroom).delete()
    Payment.objects.filter(newsroom=outlet.newsroom).delete()
    Contribution.objects.filter(newsroom=outlet.newsroom).update(status=Contribution.Status.PENDING)


# --- the tests ------------------------------------------------------------------------------------------


def test_each_newsroom_is_given_its_own_account(herald: Outlet, voice: Outlet) -> None:
    for outlet in (herald, voice):
        account = account_for(outlet.newsroom)  # read back from the encrypted fields
        assert (account.secret_key, account.publishable_key, account.webhook_secret, account.api_base) == (
            outlet.account.secret_key,
            outlet.account.publishable_key,
            outlet.account.webhook_secret,
            outlet.account.base_url,
        )
    assert account_for(herald.newsroom).fingerprint != account_for(voice.newsroom).fingerprint


def test_connected_accounts_on_one_platform_key_are_each_called_as_themselves(herald: Outlet, wire: Wire) -> None:
    """Stripe Connect, later: one platform key, a connected account per newsroom (the Stripe-Account
    header). The gateway keeps a client per account; it must not hand one connected account's client to
    another. (localstripe ignores the header; what is sent is what counts.)"""
    platform = account_for(herald.newsroom)
    for connected in ("acct_harbour", "acct_valley", "acct_harbour"):
        with gateway.account_use(dataclasses.replace(platform, connected_account=connected)):
            list(gateway.subscriptions_list())
    assert [call.connected for call in wire.calls] == ["acct_harbour", "acct_valley", "acct_harbour"]


def test_each_newsrooms_checkouts_are_made_only_at_its_own_account(herald: Outlet, voice: Outlet, wire: Wire) -> None:
    before = {outlet: outlet.account.ids() for outlet in (herald, voice)}
    made = {}
    for outlet, one_off_amount in ((herald, 500), (voice, 700)):
        # The same monthly amount at both: each newsroom needs a plan of its own, at its own account.
        made[outlet] = (checkout(outlet, amount=one_off_amount), checkout(outlet, frequency="monthly", amount=300))

    for outlet, one_off_amount in ((herald, 500), (voice, 700)):
        one_off, monthly = made[outlet]
        invoice = first_invoice(outlet, monthly)
        new = outlet.account.ids_since(before[outlet])
        assert new == {
            "customers": {monthly.provider_customer_id},
            "payment_intents": {one_off.provider_payment_intent_id, object_id(invoice["payment_intent"])},
            "subscriptions": {monthly.provider_subscription_id},
            "plans": {monthly.provider_plan_id},
            "charges": {charge_of(outlet, one_off.provider_payment_intent_id), object_id(invoice["charge"])},
            "refunds": set(),
        }
        intent = outlet.account.fetched("payment_intents", one_off.provider_payment_intent_id)
        assert intent["metadata"]["newsroom"] == outlet.newsroom.slug
        plans = ProviderPlan.objects.filter(newsroom=outlet.newsroom)
        assert list(plans.values_list("provider_plan_id", flat=True)) == [monthly.provider_plan_id]
        payments = Payment.objects.filter(newsroom=outlet.newsroom)
        assert {p.provider_payment_id: (p.contribution_id, p.amount) for p in payments} == {
            one_off.provider_payment_intent_id: (one_off.id, one_off_amount),
            object_id(invoice["payment_intent"]): (monthly.id, 300),
        }
        assert {one_off.status, monthly.status} == {Contribution.Status.SUCCEEDED, Contribution.Status.ACTIVE}
    assert not Payment.objects.exclude(newsroom=F("contribution__newsroom")).exists()
    assert wire.bases_since(0) == {herald.account.base_url, voice.account.base_url}


def test_a_checkout_begun_at_one_newsroom_cannot_be_continued_at_another(herald: Outlet, voice: Outlet) -> None:
    data = {"request_key": secrets.token_urlsafe(24), "frequency": "one_off", "amount": 500, "currency": "USD"}
    data |= {"email": "reader@example.org", "locale": "en"}
    started = services.contribution_start(
        newsroom=herald.newsroom, request=checkout_request_parse(data, newsroom=herald.newsroom)
    )
    voice_ids = voice.account.ids()

    with pytest.raises(CheckoutProblem) as refused:
        services.contribution_start(
            newsroom=voice.newsroom, request=checkout_request_parse(data, newsroom=voice.newsroom)
        )

    assert refused.value.code == "expired_page"
    contribution = Contribution.objects.select_related("supporter").get(id=started.contribution.id)
    assert (contribution.newsroom_id, contribution.supporter.newsroom_id) == (herald.newsroom.id, herald.newsroom.id)
    assert herald.account.holds("setup_intents", contribution.provider_setup_intent_id)
    assert not Supporter.objects.filter(newsroom=voice.newsroom).exists()
    assert voice.account.ids() == voice_ids


def test_an_event_signed_by_a_newsroom_is_processed_for_that_newsroom(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    contribution = checkout(herald, amount=1200)
    checkout(voice, amount=1200)
    payments_forget(herald)
    voice_before = ledger(voice)
    intent = herald.account.fetched("payment_intents", contribution.provider_payment_intent_id)
    event = event_build(intent, "payment_intent.succeeded")

    response = deliver(client, django_capture_on_commit_callbacks, event, to=herald, signed_by=herald)

    assert response.status_code == 200, response.content
    assert response.json()["duplicate"] is False
    row = WebhookEvent.objects.get(event_id=event["id"])
    assert (row.newsroom_id, row.status) == (herald.newsroom.id, WebhookEvent.Status.PROCESSED)
    assert ledger(herald)["payments"] == {
        contribution.provider_payment_intent_id: (contribution.request_key, 1200, Payment.Status.SUCCEEDED, 0)
    }
    assert ledger(herald)["contributions"] == {contribution.request_key: Contribution.Status.SUCCEEDED}
    assert ledger(voice) == voice_before


def test_an_event_signed_by_one_newsroom_is_refused_at_anothers_endpoint(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any, wire: Wire
) -> None:
    contribution = checkout(herald)
    payments_forget(herald)
    herald_before, voice_before = ledger(herald), ledger(voice)
    intent = herald.account.fetched("payment_intents", contribution.provider_payment_intent_id)
    event = event_build(intent, "payment_intent.succeeded")
    mark = len(wire.calls)

    at_voice = deliver(client, django_capture_on_commit_callbacks, event, to=voice, signed_by=herald)
    # A newsroom with a secret of its own does not take the deployment's either.
    with django_capture_on_commit_callbacks(execute=True):
        with_default = event_post(client, event, newsroom=herald.newsroom.slug, secret="whsec_deployment_default")

    for response in (at_voice, with_default):
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()
    assert wire.calls[mark:] == []  # refused before anything is asked of any account
    assert (ledger(herald), ledger(voice)) == (herald_before, voice_before)
    # The event itself was good: at its own newsroom's endpoint it is taken.
    assert deliver(client, django_capture_on_commit_callbacks, event, to=herald, signed_by=herald).status_code == 200


@dataclass
class HeraldStories:
    lost: Contribution  # a one-off whose create's answer never reached us: found again by its metadata
    refunded: Contribution  # a one-off paid and recorded, then partly refunded and disputed
    monthly: Contribution  # a monthly plan whose first invoice's events were lost
    first_intent: str
    events: list[tuple[str, dict[str, Any]]]


def herald_stories(herald: Outlet) -> HeraldStories:
    """The herald's money, its ledger behind it in each way a lost answer or lost webhooks leave it, and
    every event Stripe would send about it."""
    lost = checkout(herald, amount=900)
    refunded = checkout(herald, amount=1100)
    monthly = checkout(herald, frequency="monthly", amount=400)
    lost_intent = lost.provider_payment_intent_id
    Payment.objects.filter(contribution__in=[lost, monthly]).delete()
    Contribution.objects.filter(id__in=[lost.id, monthly.id]).update(status=Contribution.Status.PENDING)
    Contribution.objects.filter(id=lost.id).update(provider_payment_intent_id="")

    refunded_intent = refunded.provider_payment_intent_id
    herald.account.sdk().v1.refunds.create(params={"payment_intent": refunded_intent, "amount": 100})
    charge = herald.account.fetched("charges", charge_of(herald, refunded_intent))
    # localstripe has no disputes: Stripe's documented shape of one, about the herald's charge.
    dispute = {
        "id": "dp_" + secrets.token_hex(8),
        "object": "dispute",
        "amount": 800,
        "currency": "usd",
        "charge": charge["id"],
        "payment_intent": refunded_intent,
        "reason": "fraudulent",
        "status": "needs_response",
        "created": charge["created"],
        "balance_transactions": [{"amount": -800, "fee": 1500, "currency": "usd"}],
    }
    invoice = first_invoice(herald, monthly)
    first_intent = object_id(invoice["payment_intent"])
    fetched = herald.account.fetched
    subscription = fetched("subscriptions", monthly.provider_subscription_id)
    return HeraldStories(
        lost=lost,
        refunded=refunded,
        monthly=monthly,
        first_intent=first_intent,
        events=[
            ("one-off paid", event_build(fetched("payment_intents", lost_intent), "payment_intent.succeeded")),
            ("invoice paid", event_build(invoice, "invoice.payment_succeeded")),
            (
                "invoice's intent paid",
                event_build(fetched("payment_intents", first_intent), "payment_intent.succeeded"),
            ),
            ("plan updated", event_build(subscription, "customer.subscription.updated")),
            ("refunded", event_build(charge, "charge.refunded")),
            ("disputed", event_build(dispute, "charge.dispute.created")),
        ],
    )


def statuses(newsroom: Newsroom, stories: HeraldStories) -> dict[str, str]:
    rows = dict(WebhookEvent.objects.filter(newsroom=newsroom).values_list("event_id", "status"))
    return {name: rows.get(event["id"], "not stored") for name, event in stories.events}


def herald_delivered_its_own(client: Client, capture: Any, herald: Outlet, stories: HeraldStories) -> None:
    """The very same events, signed by the herald at the herald's endpoint, are what its ledger needed."""
    for _, event in stories.events:
        response = deliver(client, capture, event, to=herald, signed_by=herald)
        assert response.status_code == 200, response.content
    assert set(statuses(herald.newsroom, stories).values()) == {WebhookEvent.Status.PROCESSED}
    state = ledger(herald)
    lost, refunded, monthly = stories.lost, stories.refunded, stories.monthly
    assert state["payments"] == {
        lost.provider_payment_intent_id: (lost.request_key, 900, Payment.Status.SUCCEEDED, 0),
        refunded.provider_payment_intent_id: (refunded.request_key, 1100, Payment.Status.DISPUTED, 100),
        stories.first_intent: (monthly.request_key, 400, Payment.Status.SUCCEEDED, 0),
    }
    assert state["contributions"] == {
        lost.request_key: Contribution.Status.SUCCEEDED,
        refunded.request_key: Contribution.Status.SUCCEEDED,
        monthly.request_key: Contribution.Status.ACTIVE,
    }
    assert Contribution.objects.get(id=lost.id).provider_payment_intent_id == lost.provider_payment_intent_id
    assert (len(state["refunds"]), len(state["disputes"])) == (1, 1)


def test_an_event_about_another_newsrooms_object_changes_nothing_of_theirs(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any, wire: Wire
) -> None:
    """Signed with the valley's secret, so accepted at the valley's endpoint; but the valley's account
    has no such objects, and the herald's ledger is not the valley's to write."""
    stories = herald_stories(herald)
    herald_before, voice_before = ledger(herald), ledger(voice)
    mark = len(wire.calls)

    for _, event in stories.events:
        response = deliver(client, django_capture_on_commit_callbacks, event, to=voice, signed_by=voice)
        assert response.status_code == 200, response.content

    # What the valley's account answers is "no such object". Retrying cannot change that, so each event is
    # ignored with the reason on the row, which is what a newsroom's admin needs to see when its keys and
    # signing secret belong to two different accounts; a subscription it does not know has ended, and a
    # dispute about a charge it does not know is none of the valley's contributions.
    ignored = WebhookEvent.Status.IGNORED
    assert statuses(voice.newsroom, stories) == {
        "one-off paid": ignored,
        "invoice paid": ignored,
        "invoice's intent paid": ignored,
        "plan updated": ignored,
        "refunded": ignored,
        "disputed": ignored,
    }
    errors = WebhookEvent.objects.filter(newsroom=voice.newsroom).values_list("type", "error")
    for kind, error in errors:
        if kind.startswith(("payment_intent.", "invoice.", "charge.refunded")):
            assert error.startswith("Not found in this newsroom's Stripe account"), error
    assert wire.bases_since(mark) == {voice.account.base_url}
    assert (ledger(herald), ledger(voice)) == (herald_before, voice_before)

    herald_delivered_its_own(client, django_capture_on_commit_callbacks, herald, stories)
    assert ledger(voice) == voice_before


def test_newsrooms_sharing_one_account_each_take_only_their_own_objects_from_its_events(
    herald: Outlet, client: Client, django_capture_on_commit_callbacks: Any, wire: Wire
) -> None:
    """Two newsrooms on one Stripe account (each its own endpoint and signing secret): Stripe sends each
    of the account's events to both endpoints. Here the other newsroom can read every object, so it is our
    ledger's newsroom scoping alone that keeps the herald's money out of its books."""
    weekly = Outlet(
        newsroom=Newsroom.objects.create(
            slug="harbour-weekly",
            name="The Harbour Weekly",
            stripe_secret_key=herald.account.secret_key,
            stripe_publishable_key=herald.account.publishable_key,
            stripe_webhook_secret="whsec_harbour_weekly",
            stripe_api_base=herald.account.base_url,
        ),
        account=dataclasses.replace(herald.account, webhook_secret="whsec_harbour_weekly"),
    )
    checkout(weekly, amount=900)  # one of its own, of the same amount as one of the herald's
    weekly_before = ledger(weekly)
    stories = herald_stories(herald)
    herald_before = ledger(herald)

    for _, event in stories.events:
        response = deliver(client, django_capture_on_commit_callbacks, event, to=weekly, signed_by=weekly)
        assert response.status_code == 200, response.content

    ignored = WebhookEvent.Status.IGNORED
    assert statuses(weekly.newsroom, stories) == {
        "one-off paid": ignored,
        # handlers._payment_intent counts a subscription invoice's intent as handled through its invoice,
        # whoever's the invoice is; invoice_sync found none of the weekly's contributions and wrote nothing.
        "invoice's intent paid": WebhookEvent.Status.PROCESSED,
        "invoice paid": ignored,
        "plan updated": ignored,
        "refunded": ignored,
        "disputed": ignored,
    }
    assert (ledger(herald), ledger(weekly)) == (herald_before, weekly_before)

    herald_delivered_its_own(client, django_capture_on_commit_callbacks, herald, stories)
    assert ledger(weekly) == weekly_before


def test_an_event_id_seen_by_one_newsroom_does_not_block_it_at_another(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    at_herald, at_voice = checkout(herald, amount=600), checkout(voice, amount=800)
    payments_forget(herald)
    payments_forget(voice)
    event_id = "evt_" + secrets.token_hex(12)
    for outlet, contribution in ((voice, at_voice), (herald, at_herald)):
        intent = outlet.account.fetched("payment_intents", contribution.provider_payment_intent_id)
        event = {**event_build(intent, "payment_intent.succeeded"), "id": event_id}
        response = deliver(client, django_capture_on_commit_callbacks, event, to=outlet, signed_by=outlet)
        assert response.status_code == 200, response.content
        assert response.json() == {"received": True, "event": event_id, "duplicate": False}

    rows = WebhookEvent.objects.filter(event_id=event_id)
    assert sorted(rows.values_list("newsroom__slug", "status")) == [
        (herald.newsroom.slug, WebhookEvent.Status.PROCESSED),
        (voice.newsroom.slug, WebhookEvent.Status.PROCESSED),
    ]
    assert list(ledger(herald)["payments"]) == [at_herald.provider_payment_intent_id]
    assert list(ledger(voice)["payments"]) == [at_voice.provider_payment_intent_id]
    # Within one newsroom the id still counts once.
    again = deliver(client, django_capture_on_commit_callbacks, event, to=herald, signed_by=herald)
    assert again.json()["duplicate"] is True
    assert rows.count() == 2


def test_a_refund_at_one_newsrooms_account_reaches_only_that_newsrooms_payment(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    refunded, untouched = checkout(herald, amount=1000), checkout(voice, amount=1000)
    voice_before = ledger(voice)
    voice_ids = voice.account.ids()
    # The herald's staff refund part of it in their Stripe dashboard; Stripe tells the herald's endpoint.
    refund = herald.account.sdk().v1.refunds.create(
        params={"payment_intent": refunded.provider_payment_intent_id, "amount": 400}
    )
    charge = herald.account.fetched("charges", charge_of(herald, refunded.provider_payment_intent_id))
    event = event_build(charge, "charge.refunded")

    response = deliver(client, django_capture_on_commit_callbacks, event, to=herald, signed_by=herald)

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get(event_id=event["id"]).status == WebhookEvent.Status.PROCESSED
    payment = Payment.objects.get(contribution=refunded)
    assert (payment.status, payment.amount_refunded) == (Payment.Status.PARTIALLY_REFUNDED, 400)
    assert list(payment.refunds.values_list("provider_refund_id", "amount")) == [(refund.id, 400)]
    assert ledger(voice) == voice_before
    assert Payment.objects.get(contribution=untouched).status == Payment.Status.SUCCEEDED
    assert voice.account.ids() == voice_ids


def payments_added(report: ReconcileReport) -> set[str]:
    prefix = "added payment "
    return {line.removeprefix(prefix).split(":")[0] for line in report.changes if line.startswith(prefix)}


def test_reconciling_a_newsroom_talks_only_to_its_account_and_repairs_only_its_ledger(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any, wire: Wire
) -> None:
    one_off = checkout(herald, amount=1500)
    checkout(herald, frequency="monthly", amount=500)
    checkout(voice, amount=700)
    checkout(voice, frequency="monthly", amount=500)
    herald.account.sdk().v1.refunds.create(params={"payment_intent": one_off.provider_payment_intent_id, "amount": 500})
    charge = herald.account.fetched("charges", charge_of(herald, one_off.provider_payment_intent_id))
    deliver(
        client, django_capture_on_commit_callbacks, event_build(charge, "charge.refunded"), to=herald, signed_by=herald
    )
    herald_full, voice_full = ledger(herald), ledger(voice)
    assert (len(herald_full["payments"]), len(herald_full["refunds"]), len(voice_full["payments"])) == (2, 1, 2)
    payments_forget(herald)
    payments_forget(voice)
    voice_forgotten = ledger(voice)

    mark = len(wire.calls)
    report = ledger_reconcile(newsroom=herald.newsroom)

    assert report.errors == []
    assert wire.bases_since(mark) == {herald.account.base_url}
    assert ledger(herald) == herald_full
    assert ledger(voice) == voice_forgotten
    assert payments_added(report) == set(herald_full["payments"])

    mark = len(wire.calls)
    report = ledger_reconcile(newsroom=voice.newsroom)

    assert report.errors == []
    assert wire.bases_since(mark) == {voice.account.base_url}
    assert ledger(voice) == voice_full
    assert ledger(herald) == herald_full
    mentioned = " ".join(report.changes)
    assert not [
        herald_id for herald_id in [*herald_full["payments"], *herald_full["refunds"]] if herald_id in mentioned
    ]
    assert payments_added(report) == set(voice_full["payments"])

    # Repaired: a second run of either has nothing to do.
    assert (ledger_reconcile(newsroom=herald.newsroom).changes, ledger_reconcile(newsroom=voice.newsroom).changes) == (
        [],
        [],
    )


def test_one_address_supporting_two_newsrooms_is_two_independent_supporters(
    herald: Outlet, voice: Outlet, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    at_herald = checkout(herald, frequency="monthly", amount=500, email="Reader@Example.org")
    at_voice = checkout(voice, frequency="monthly", amount=500, email="reader@example.org")
    again_at_herald = checkout(herald, amount=300, email="reader@example.org")

    # One supporter per address and newsroom: the herald knows the address once, the valley once more.
    assert again_at_herald.supporter_id == at_herald.supporter_id
    supporters = Supporter.objects.filter(id__in=[at_herald.supporter_id, at_voice.supporter_id])
    assert sorted(supporters.values_list("newsroom__slug", flat=True)) == sorted(
        [herald.newsroom.slug, voice.newsroom.slug]
    )
    first, second = supporters
    assert first.email == second.email == normalize_email("reader@example.org")
    assert first.email_hash != second.email_hash  # keyed per newsroom: one cannot look up the other's
    assert first.reference != second.reference

    # Each a customer of its own, at its own newsroom's account only, naming only that newsroom's supporter.
    for outlet, other, contribution in ((herald, voice, at_herald), (voice, herald, at_voice)):
        customer = outlet.account.fetched("customers", contribution.provider_customer_id)
        assert customer["metadata"]["supporter"] == contribution.supporter.reference
        assert not other.account.holds("customers", contribution.provider_customer_id)

    # Ending the support of one newsroom leaves the other's running.
    herald.account.sdk().v1.subscriptions.cancel(at_herald.provider_subscription_id)
    ended = event_build(
        herald.account.fetched("subscriptions", at_herald.provider_subscription_id), "customer.subscription.deleted"
    )
    response = deliver(client, django_capture_on_commit_callbacks, ended, to=herald, signed_by=herald)
    assert response.status_code == 200, response.content
    at_herald.refresh_from_db()
    at_voice.refresh_from_db()
    assert (at_herald.status, at_voice.status) == (Contribution.Status.CANCELED, Contribution.Status.ACTIVE)
    assert voice.account.fetched("subscriptions", at_voice.provider_subscription_id)["status"] == "active"

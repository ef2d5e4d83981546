"""Card testing against the checkout: what reaches Stripe when someone runs declining cards through it.

Real parts: the checkout's JSON endpoints (Django's test client), localstripe behind a counting relay
(tests/checkout/stripe_counter.py, which says the one rule of Stripe's it keeps for the emulator), the
ALTCHA proof of work as the `altcha` package makes and checks it, solved here as the page's proof.js does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import altcha
import pytest
import stripe
from django.test import Client

from readerfund.checkout.models import DefenceCount
from readerfund.payments.models import Contribution
from tests.checkout import stripe_browser
from tests.checkout.stripe_counter import StripeCounter, stripe_counted

pytestmark = pytest.mark.django_db

# localstripe's declining cards: the first three are declined when the card is set up, the last when charged.
DECLINING = ["4000000000000002", "4000000000009995", "4000000000009987", "4000000000000341"]


@pytest.fixture
def counted(localstripe: str, settings: Any) -> Iterator[StripeCounter]:
    """Our server and the card tester both reach localstripe through the counting relay."""
    with stripe_counted(localstripe) as counter:
        settings.STRIPE_API_BASE = counter.url
        yield counter


def _body(newsroom: Any, **overrides: Any) -> dict[str, Any]:
    variant = newsroom.campaigns.get().variants.get(key="a")
    body = {
        "request_key": secrets.token_urlsafe(24),
        "frequency": "one_off",
        "amount": 500,
        "currency": "USD",
        "email": f"tester{secrets.token_hex(4)}@example.org",
        "campaign": variant.campaign_id,
        "variant": variant.id,
        "locale": "en",
    }
    return {**body, **overrides}


@dataclass(frozen=True)
class From:
    """Where a request comes from: the connection's address, and what it writes in X-Forwarded-For."""

    address: str
    forwarded: str = ""

    def headers(self) -> dict[str, str]:
        return {"REMOTE_ADDR": self.address, **({"HTTP_X_FORWARDED_FOR": self.forwarded} if self.forwarded else {})}


def _post(client: Client, url: str, body: dict[str, Any], source: From) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **source.headers())


def _solve(challenge: dict[str, Any]) -> str:
    """What proof.js does in the page: find the number, send ALTCHA's payload."""
    solution = altcha.solve_challenge_v1(challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxnumber"])
    assert solution is not None
    payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**payload, "number": solution.number}).encode()).decode()


def _confirm(counter: StripeCounter, client_secret: str, number: str) -> None:
    """confirmCardSetup straight at Stripe with the client secret, as a card tester's script does."""
    # Declined (402), or refused as a cancelled set-up (400): either way the tester goes on.
    with contextlib.suppress(stripe.StripeError):
        stripe_browser.card_set_up(client_secret, number, base_url=counter.url)


def _pay(client: Client, slug: str, request_key: str, source: From) -> Any:
    return _post(client, f"/support/{slug}/pay", {"request_key": request_key, "locale": "en"}, source)


def _checkout(client: Client, newsroom: Any, source: From, number: str, counter: StripeCounter, proof: str = "") -> Any:
    """One attempt: start, confirm the card at Stripe if we handed out a client secret, then pay."""
    body = _body(newsroom, **({"proof": proof} if proof else {}))
    started = _post(client, f"/support/{newsroom.slug}/start", body, source)
    if started.status_code != 200 or started.json().get("state") != "setup":
        return started
    _confirm(counter, started.json()["client_secret"], number)
    return _pay(client, newsroom.slug, body["request_key"], source)


def _rotating() -> From:
    return From("127.0.0.1", f"203.0.{random.randint(0, 255)}.{random.randint(1, 254)}")


def test_card_testing_simulation(client: Client, demo_newsroom: Any, counted: StripeCounter, settings: Any) -> None:
    """500 declining attempts from four sources; fewer than 5% reach Stripe, and a supporter still gets through.

    X-Forwarded-For is trusted here (one proxy hop), the case the per-IP limits cannot hold alone: each
    rotating request claims a new address. The card, newsroom and checkout limits must."""
    settings.TRUSTED_PROXY_HOPS = 1
    slug = demo_newsroom.slug
    random.seed(10)
    one_address = From("198.51.100.7")
    # The reused client secret: one checkout started once, then confirmed with card after card.
    reused = _body(demo_newsroom)
    started = _post(client, f"/support/{slug}/start", reused, _rotating()).json()
    reused_secret = started["client_secret"]
    # The replayed proof: solved once, honestly, then sent with every start.
    settings.CHECKOUT_PROOF_AFTER_IP = (0, 600)
    challenge = _post(client, f"/support/{slug}/start", _body(demo_newsroom), _rotating()).json()["error"]["challenge"]
    settings.CHECKOUT_PROOF_AFTER_IP = (3, 600)
    replayed = _solve(challenge)
    before = counted.card_tests

    reached: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    for attempt in range(500):
        number = DECLINING[attempt % len(DECLINING)]
        tests_before = counted.card_tests
        source = attempt % 4
        if source == 0:
            kind, answer = "one address", _checkout(client, demo_newsroom, one_address, number, counted)
        elif source == 1:
            kind, answer = "rotating X-Forwarded-For", _checkout(client, demo_newsroom, _rotating(), number, counted)
        elif source == 2:
            kind = "reused client secret"
            _confirm(counted, reused_secret, DECLINING[attempt % 3])
            answer = _pay(client, slug, reused["request_key"], _rotating())
        else:
            kind = "replayed proof"
            answer = _checkout(client, demo_newsroom, _rotating(), number, counted, proof=replayed)
        assert answer.status_code < 500, answer.content
        answers[str(answer.json().get("error", {}).get("code") or answer.json().get("state"))] += 1
        if counted.card_tests > tests_before:
            reached[kind] += 1

    total = sum(reached.values())
    print(f"\ncard-testing simulation: {total} of 500 declining attempts reached Stripe ({total / 5:.1f}%)")
    print(f"  by source: {dict(reached)}; card tests at Stripe: {counted.card_tests - before}")
    print(f"  answers: {dict(answers)}; confirmations refused on the cancelled set-up: {counted.refused}")
    blocks = dict(DefenceCount.objects.filter(newsroom=demo_newsroom).values_list("kind", "count"))
    print(f"  counted for the dashboard: {blocks}")
    assert total < 25, reached
    assert reached["reused client secret"] <= settings.CHECKOUT_LIMIT_INTENT_DECLINES
    assert reached["replayed proof"] <= 6
    assert Contribution.objects.get(request_key=reused["request_key"]).failure_reason == "too_many_declines"
    assert counted.refused > 0, "the reused secret's later confirmations were refused at Stripe"
    assert blocks["proof_missing"] + blocks["blocked_ip"] > 200 and blocks["proof_replayed"] > 100
    assert blocks["intent_cancelled"] == 1 and blocks["decline"] == total
    assert not Contribution.objects.filter(status=Contribution.Status.SUCCEEDED).exists()

    # A supporter from another address, with a good card: the proof of work is asked for and solved (in the
    # page, proof.js does this), then the checkout completes.
    supporter = From("192.0.2.44")
    body = _body(demo_newsroom, email="supporter@example.org")
    asked = _post(client, f"/support/{slug}/start", body, supporter)
    assert asked.status_code == 428 and asked.json()["error"]["code"] == "proof_required"
    answer = _checkout(
        client, demo_newsroom, supporter, stripe_browser.GOOD, counted, _solve(asked.json()["error"]["challenge"])
    )
    assert answer.status_code == 200 and answer.json()["state"] == "done", answer.content


def _challenge(client: Client, newsroom: Any, source: From) -> dict[str, Any]:
    answer = _post(client, f"/support/{newsroom.slug}/start", _body(newsroom), source)
    assert answer.status_code == 428, answer.content
    return answer.json()["error"]["challenge"]


def test_a_replayed_proof_is_refused(client: Client, demo_newsroom: Any, localstripe: str, settings: Any) -> None:
    settings.CHECKOUT_PROOF_AFTER_IP = (0, 600)  # every start needs one
    source = From("198.51.100.20")
    proof = _solve(_challenge(client, demo_newsroom, source))
    first = _post(client, "/support/demo/start", _body(demo_newsroom, proof=proof), source)
    assert first.status_code == 200 and first.json()["state"] == "setup"
    again = _post(client, "/support/demo/start", _body(demo_newsroom, proof=proof), From("198.51.100.21"))
    assert again.status_code == 428
    error = again.json()["error"]
    assert (
        error["code"] == "proof_required"
        and error["challenge"]["challenge"] != json.loads(base64.b64decode(proof))["challenge"]
    ), "a fresh challenge to solve"
    counts = dict(DefenceCount.objects.filter(newsroom=demo_newsroom).values_list("kind", "count"))
    assert counts == {"proof_missing": 1, "proof_passed": 1, "proof_replayed": 1}


@pytest.mark.parametrize(
    "proof",
    [
        "not base64 at all",
        "\ud800",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(json.dumps({"salt": 1, "challenge": "x"}).encode()).decode(),
        "A" * 5000,
        12345,
        {"number": 1},
    ],
    ids=["garbage", "lone-surrogate", "a-list", "wrong-types", "huge", "a-number", "an-object"],
)
def test_a_malformed_proof_is_a_428_never_a_500(client: Client, demo_newsroom: Any, settings: Any, proof: Any) -> None:
    settings.CHECKOUT_PROOF_AFTER_IP = (0, 600)
    answer = _post(client, "/support/demo/start", _body(demo_newsroom, proof=proof), From("198.51.100.30"))
    assert answer.status_code in (400, 428), answer.content
    assert answer.json()["error"]["message"]


def test_a_forged_expired_or_other_newsrooms_proof_is_refused(
    client: Client, demo_newsroom: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readerfund.checkout import proof as proofs

    settings.CHECKOUT_PROOF_AFTER_IP = (0, 600)
    challenge = _challenge(client, demo_newsroom, From("198.51.100.40"))
    good = json.loads(base64.b64decode(_solve(challenge)))
    forged = base64.b64encode(json.dumps({**good, "number": good["number"] + 1}).encode()).decode()
    assert proofs.proof_check(newsroom_id=demo_newsroom.id, payload=forged) == "invalid"
    assert proofs.proof_check(newsroom_id=demo_newsroom.id + 1, payload=_solve(challenge)) == "other_newsroom"
    settings.CHECKOUT_PROOF_LIFETIME = -1  # a challenge that expired a second ago
    stale = _solve(proofs.challenge_new(newsroom_id=demo_newsroom.id))
    assert proofs.proof_check(newsroom_id=demo_newsroom.id, payload=stale) == "expired"
    assert proofs.proof_check(newsroom_id=demo_newsroom.id, payload=_solve(challenge)) == "ok"


def test_a_reused_client_secret_is_cancelled_after_the_limit(
    client: Client, demo_newsroom: Any, counted: StripeCounter, settings: Any
) -> None:
    settings.CHECKOUT_LIMIT_INTENT_DECLINES = 2  # a setting: two declines, not the default three
    body = _body(demo_newsroom)
    secret = _post(client, "/support/demo/start", body, From("198.51.100.50")).json()["client_secret"]
    for number in DECLINING[:2]:
        _confirm(counted, secret, number)
        declined = _pay(client, "demo", body["request_key"], From("198.51.100.50"))
        assert declined.status_code == 402
    setup_id = secret.split("_secret_")[0]
    assert setup_id in counted.cancelled, "cancelled at Stripe"
    row = Contribution.objects.get(request_key=body["request_key"])
    assert (row.status, row.failure_reason) == (Contribution.Status.FAILED, "too_many_declines")
    # A good card now: Stripe refuses the cancelled set-up, and our pay endpoint charges nothing either.
    _confirm(counted, secret, stripe_browser.GOOD)
    after = _pay(client, "demo", body["request_key"], From("198.51.100.50"))
    assert after.status_code == 402 and "next_request_key" in after.json()["error"]
    assert counted.paths["POST /v1/payment_intents"] == 0


def test_a_card_declined_too_often_is_not_charged_again(
    client: Client, demo_newsroom: Any, counted: StripeCounter, settings: Any
) -> None:
    """The same card from new addresses, e-mails and checkouts each time: its fingerprint is what is counted."""
    settings.TRUSTED_PROXY_HOPS = 1
    settings.CHECKOUT_LIMIT_CARD_DECLINES = (2, 86400)
    answers = [
        _checkout(client, demo_newsroom, _rotating(), stripe_browser.FAILS_WHEN_CHARGED, counted) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [402, 402, 429]
    assert answers[2].json()["error"]["code"] == "card_blocked"
    assert counted.paths["POST /v1/payment_intents"] == 2, "the third was never charged"
    # Another card from the same kind of source goes through.
    assert _checkout(client, demo_newsroom, _rotating(), stripe_browser.GOOD, counted).json()["state"] == "done"
    counts = dict(DefenceCount.objects.filter(newsroom=demo_newsroom).values_list("kind", "count"))
    assert counts["blocked_card"] == 1 and counts["decline"] == 2


def test_one_card_in_too_many_checkouts_is_refused(
    client: Client, demo_newsroom: Any, counted: StripeCounter, settings: Any
) -> None:
    settings.CHECKOUT_LIMIT_CARD = (2, 86400)
    sources = [From(f"198.51.100.{60 + n}") for n in range(3)]
    states = [_checkout(client, demo_newsroom, s, stripe_browser.GOOD, counted).status_code for s in sources]
    assert states == [200, 200, 429]


def test_a_double_click_counts_the_card_once(demo_newsroom: Any, settings: Any) -> None:
    from readerfund.checkout import card_testing

    settings.CHECKOUT_LIMIT_CARD = (1, 86400)
    for _ in range(3):  # one checkout's pay, three times
        card_testing.card_guard(newsroom=demo_newsroom, fingerprint="fp", request_key="one-checkout")
    with pytest.raises(card_testing.CardBlocked):
        card_testing.card_guard(newsroom=demo_newsroom, fingerprint="fp", request_key="another-checkout")


def _deliver(client: Client, obj: dict[str, Any], event_type: str) -> str:
    """Stripe's signed event, stored by our webhook endpoint and processed as the worker does."""
    from readerfund.payments.handlers import webhook_event_process
    from readerfund.payments.models import WebhookEvent
    from tests.payments.events import event_build, event_post

    event = event_build(obj, event_type)
    assert event_post(client, event, newsroom="demo").status_code == 200
    row = WebhookEvent.objects.get(event_id=event["id"])
    return webhook_event_process(event_row_id=row.id)


def test_a_decline_seen_by_pay_and_by_its_webhook_counts_once(
    client: Client, demo_newsroom: Any, localstripe: str, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HOPS = 0
    body = _body(demo_newsroom)
    started = _post(client, "/support/demo/start", body, From("198.51.100.70")).json()
    stripe_browser.card_set_up(started["client_secret"], stripe_browser.FAILS_WHEN_CHARGED)
    assert _pay(client, "demo", body["request_key"], From("198.51.100.70")).status_code == 402
    intent_id = Contribution.objects.get(request_key=body["request_key"]).provider_payment_intent_id
    intent = stripe_browser.client().v1.payment_intents.retrieve(intent_id).to_dict()
    for _ in range(2):  # Stripe delivers at least once
        _deliver(client, intent, "payment_intent.payment_failed")
    assert DefenceCount.objects.get(newsroom=demo_newsroom, kind="decline").count == 1


def test_set_up_declines_from_stripes_webhooks_cancel_the_checkout(
    client: Client, demo_newsroom: Any, localstripe: str, settings: Any
) -> None:
    """On Stripe, a card declined while the page sets it up is known to us only from setup_intent.setup_failed
    (the browser talked to Stripe). localstripe sends no such event, so the test builds Stripe's documented
    shape from the emulator's own SetupIntent and payment methods."""
    body = _body(demo_newsroom)
    secret = _post(client, "/support/demo/start", body, From("198.51.100.80")).json()["client_secret"]
    sdk = stripe_browser.client().v1
    setup = sdk.setup_intents.retrieve(secret.split("_secret_")[0]).to_dict()
    for number in DECLINING[:3]:
        card = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}
        method = sdk.payment_methods.create(params={"type": "card", "card": card}).to_dict()
        failed = {
            **setup,
            "status": "requires_payment_method",
            "payment_method": None,
            "last_setup_error": {"type": "card_error", "code": "card_declined", "payment_method": method},
        }
        assert _deliver(client, failed, "setup_intent.setup_failed") == "processed"
    row = Contribution.objects.get(request_key=body["request_key"])
    assert (row.status, row.failure_reason) == (Contribution.Status.FAILED, "too_many_declines")
    assert sdk.setup_intents.retrieve(setup["id"]).status == "canceled"
    assert DefenceCount.objects.get(newsroom=demo_newsroom, kind="decline").count == 3


@pytest.mark.parametrize(
    ("declines", "attempts", "open_"),
    [(9, 9, False), (10, 10, True), (10, 40, True), (10, 41, False), (30, 200, False)],
    ids=["too-few-declines", "all-declined", "a-quarter", "just-under-a-quarter", "a-busy-day"],
)
def test_the_breaker_opens_on_a_jump_in_the_decline_rate_not_on_a_busy_day(
    demo_newsroom: Any, declines: int, attempts: int, open_: bool
) -> None:
    from readerfund.checkout import card_testing

    for n in range(attempts - declines):
        card_testing.card_guard(newsroom=demo_newsroom, fingerprint=f"good{n}", request_key=f"checkout{n}")
    for n in range(declines):
        card_testing.decline_record(newsroom=demo_newsroom, payment_method_id=f"pm_declined{n}")
    assert card_testing.breaker_open(newsroom=demo_newsroom) is open_


def test_many_starts_at_one_newsroom_need_the_proof_from_everyone(
    client: Client, demo_newsroom: Any, localstripe: str, settings: Any
) -> None:
    settings.CHECKOUT_PROOF_AFTER_NEWSROOM = (3, 600)
    statuses = [
        _post(client, "/support/demo/start", _body(demo_newsroom), From(f"198.51.100.{90 + n}")).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 428, 428]

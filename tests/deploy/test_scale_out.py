"""Two app servers and two workers on one PostgreSQL, as docs/deploy.md runs a newsroom that outgrew one
machine: a checkout-and-webhook load through both leaves no duplicate payment, receipt or counter.

Everything is real and in its own process: two granian servers (one worker each, so two processes that
share nothing but the database), two `readerfund worker`s, a localstripe of the test's own that delivers
its webhooks to the first server, an aiosmtpd server for the receipts. Each checkout starts on one server
and is paid on both at once (a double click that a load balancer spread over two machines); every event
localstripe holds is delivered again, signed, to the second server while the first gets its own copy;
pageview events go to both servers. Then the ledger, the outbox, the SMTP server and the counters must
hold each thing once.

PostgreSQL only: on SQLite the two servers and workers would queue for its one write lock, and
docs/deploy.md keeps SQLite to a single machine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from readerfund.demo import processes

CHECKOUTS = 12  # half one-off, half monthly; localstripe slows down with every object it holds
PAGEVIEWS = 400
SECRET = "whsec_scale_out"
DEADLINE_SECONDS = 120
GOOD_CARD = "4242424242424242"

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="two servers and two workers share one PostgreSQL; SQLite stays on one machine (docs/deploy.md)",
)


@dataclass
class Deployment:
    servers: list[str]
    database_url: str
    stripe: str
    smtp: Any


def _readerfund(*args: str, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).with_name("readerfund")), *args]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)


@pytest.fixture
def database_url() -> Iterator[str]:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = (os.environ.get("TEST_DATABASE_NAME") or "test_readerfund") + "_scale_out"
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def deployment(tmp_path: Path, database_url: str, smtp_server: Any) -> Iterator[Deployment]:
    ports = [processes.free_port(), processes.free_port()]
    stripe_port = processes.free_port()
    site_url = f"http://127.0.0.1:{ports[0]}"
    keep = ("DATABASE_URL", "TEST_DATABASE_NAME", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in keep} | {
        "DATABASE_URL": database_url,
        "READERFUND_VAR_DIR": str(tmp_path),  # one SECRET_KEY-derived key set for every process
        "SITE_URL": site_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": ",".join(f"http://127.0.0.1:{port}" for port in ports),
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "TRUSTED_PROXY_HOPS": "1",  # behind the load balancer, which says who the reader is
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EVENTS_FLUSH_SECONDS": "0.5",
        "WORKER_SCAN_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "GRANIAN_LOG_LEVEL": "warning",
        **processes.LOAD_RUN_LIMITS,
    }
    _readerfund("migrate", "--no-input", env=env)
    _readerfund("seed_demo", env=env)
    started: list[subprocess.Popen] = []
    logs = [open(tmp_path / f"process-{n}.log", "wb") for n in range(5)]  # noqa: SIM115 - closed below
    try:
        started.append(processes.start_localstripe(stripe_port, log=tmp_path / "localstripe.log"))
        for port in ports:
            started.append(processes.start_granian(port, workers=1, env=env))
        worker = [str(Path(sys.executable).with_name("readerfund")), "worker", "--interval", "0.2"]
        for log in logs[:2]:
            started.append(
                subprocess.Popen(worker, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        from readerfund.demo.stripe_webhooks import webhook_endpoint_register
        from readerfund.payments.handlers import HANDLERS

        webhook_endpoint_register(
            stripe_base=env["STRIPE_API_BASE"],
            endpoint_id="scale-out",
            url=f"{site_url}/webhooks/stripe/demo",
            secret=SECRET,
            events=sorted(HANDLERS),
        )
        yield Deployment(
            servers=[f"http://127.0.0.1:{port}" for port in ports],
            database_url=database_url,
            stripe=env["STRIPE_API_BASE"],
            smtp=smtp_server,
        )
    finally:
        for process in reversed(started):
            processes.stop(process)
        for log in logs:
            log.close()


def _sql(deployment: Deployment, query: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(deployment.database_url) as connection:
        return list(connection.execute(query))


def _document(server: str) -> dict[str, Any]:
    return requests.get(f"{server}/api/v1/newsrooms/demo/appeals.json", timeout=10).json()


def _card_set_up(stripe_base: str, client_secret: str) -> None:
    """What Stripe.js does in the reader's browser: the card confirmed on the SetupIntent."""
    setup_id = client_secret.split("_secret_")[0]
    card = {"number": GOOD_CARD, "exp_month": "12", "exp_year": "2035", "cvc": "123"}
    form = {"payment_method_data[type]": "card", **{f"payment_method_data[card][{k}]": v for k, v in card.items()}}
    response = requests.post(
        f"{stripe_base}/v1/setup_intents/{setup_id}/confirm",
        data=form,
        auth=("sk_test_readerfund_local", ""),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _checkout(deployment: Deployment, number: int, document: dict[str, Any]) -> str:
    """One reader: the page and start on one server, the pay button pressed on both servers at once."""
    first, second = deployment.servers[number % 2], deployment.servers[(number + 1) % 2]
    campaign = document["campaigns"][0]
    reader = {"X-Forwarded-For": f"198.51.100.{number + 1}"}
    session = requests.Session()
    page = session.get(f"{first}/support/demo/", headers=reader, timeout=30)
    assert page.status_code == 200
    token = session.cookies["csrftoken"]
    headers = reader | {"X-CSRFToken": token, "Origin": first, "Content-Type": "application/json"}
    request_key = f"scale-out-{number:04d}-" + "k" * 20
    body = {
        "request_key": request_key,
        "frequency": "one_off" if number % 2 else "monthly",
        "amount": 500 + number,
        "currency": "USD",
        "email": f"reader{number}@example.org",
        "receipt": True,
        "campaign": campaign["id"],
        "variant": campaign["variants"][0]["id"],
        "locale": "en",
    }
    started = session.post(f"{first}/support/demo/start", data=json.dumps(body), headers=headers, timeout=60)
    assert started.status_code == 200, started.text
    _card_set_up(deployment.stripe, started.json()["client_secret"])
    pay = json.dumps({"request_key": request_key, "locale": "en"})

    def press(server: str) -> dict[str, Any]:
        # A second press while the first holds the lease is told to ask again: the page does, so do we.
        for _ in range(60):
            answer = session.post(
                f"{server}/support/demo/pay", data=pay, headers=headers | {"Origin": server}, timeout=60
            )
            assert answer.status_code in (200, 503), answer.text
            data = answer.json()
            if answer.status_code == 200 and data.get("state") != "pay":
                return data
            time.sleep(0.5)
        raise AssertionError(f"{request_key} never finished: {data}")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(press, [first, second]))
    assert [a.get("state") for a in answers] == ["done", "done"], answers
    return request_key


def _sign(body: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _deliver_again(deployment: Deployment) -> int:
    """Every event localstripe holds, signed and posted to the second server: each arrives twice."""
    events = requests.get(
        f"{deployment.stripe}/v1/events", params={"limit": 100}, auth=("sk_test_readerfund_local", ""), timeout=30
    ).json()["data"]
    for event in events:
        body = json.dumps(event).encode()
        answer = requests.post(
            f"{deployment.servers[1]}/webhooks/stripe/demo",
            data=body,
            headers={"Stripe-Signature": _sign(body), "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    return len(events)


def _pageviews(deployment: Deployment, document: dict[str, Any]) -> None:
    campaign = document["campaigns"][0]
    beacon = json.dumps(
        {"newsroom": "demo", "campaign": campaign["id"], "variant": campaign["variants"][0]["id"], "event": "view"}
    )

    def send(number: int) -> int:
        server = deployment.servers[number % 2]
        return requests.post(
            f"{server}/api/v1/events", data=beacon, headers={"Content-Type": "text/plain"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert Counter(pool.map(send, range(PAGEVIEWS))) == Counter({204: PAGEVIEWS})


def _settled(deployment: Deployment, checkouts: int) -> dict[str, Any]:
    """Wait for the workers to finish every webhook and e-mail; returns what the database holds."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        state = {
            "unprocessed": _sql(
                deployment, "SELECT count(*) FROM payments_webhookevent WHERE status IN ('received', 'failed')"
            )[0][0],
            "unsent": _sql(deployment, "SELECT count(*) FROM notifications_outboxmessage WHERE status <> 'sent'")[0][0],
            "views": _sql(deployment, "SELECT coalesce(sum(views), 0) FROM appeals_variantdailycount")[0][0],
            "receipts received": sum(1 for m in list(deployment.smtp.messages) if "reader" in m["To"]),
        }
        if (
            state["unprocessed"] == 0
            and state["unsent"] == 0
            and state["views"] >= PAGEVIEWS
            and state["receipts received"] >= checkouts
        ) or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def test_two_servers_and_two_workers_pay_receipt_and_count_everything_once(deployment: Deployment) -> None:
    document = _document(deployment.servers[0])
    viewing = threading.Thread(target=_pageviews, args=(deployment, document))
    viewing.start()
    with ThreadPoolExecutor(3) as pool:
        keys = list(pool.map(lambda n: _checkout(deployment, n, document), range(CHECKOUTS)))
    viewing.join()
    time.sleep(2)  # localstripe sends each event about a second after the change
    delivered_again = _deliver_again(deployment)
    state = _settled(deployment, CHECKOUTS)
    print(f"\n{CHECKOUTS} checkouts, {delivered_again} events delivered twice, {PAGEVIEWS} pageviews: {state}")

    assert state["unprocessed"] == 0 and state["unsent"] == 0, state
    # Each event stored once although it came to both servers, and handled (or knowingly ignored) once.
    stored = Counter(row[0] for row in _sql(deployment, "SELECT status FROM payments_webhookevent"))
    assert sum(stored.values()) == delivered_again and set(stored) <= {"processed", "ignored"}, stored
    # One payment per checkout, in our ledger and at Stripe.
    payments = _sql(
        deployment,
        "SELECT c.request_key, p.amount FROM payments_payment p"
        " JOIN payments_contribution c ON c.id = p.contribution_id",
    )
    assert sorted(key for key, _ in payments) == sorted(keys)
    charges = requests.get(
        f"{deployment.stripe}/v1/charges", params={"limit": 100}, auth=("sk_test_readerfund_local", ""), timeout=30
    ).json()["data"]
    assert len([c for c in charges if c["status"] == "succeeded"]) == CHECKOUTS
    # One receipt per payment, queued once and received once.
    receipts = _sql(
        deployment,
        "SELECT count(*), count(DISTINCT message_key) FROM notifications_outboxmessage WHERE template = 'receipt'",
    )
    assert receipts[0] == (CHECKOUTS, CHECKOUTS)
    received = Counter(m["Message-ID"] for m in list(deployment.smtp.messages) if "reader" in m["To"])
    assert len(received) == CHECKOUTS and set(received.values()) == {1}, received
    # Counters: every pageview once across both servers' buffers; every checkout started once per variant.
    assert state["views"] == PAGEVIEWS
    conversions = _sql(deployment, "SELECT coalesce(sum(count), 0) FROM payments_conversioncount")[0][0]
    assert conversions == CHECKOUTS
    statuses = Counter(row[0] for row in _sql(deployment, "SELECT status FROM payments_contribution"))
    assert statuses == Counter({"succeeded": CHECKOUTS // 2, "active": CHECKOUTS - CHECKOUTS // 2}), statuses

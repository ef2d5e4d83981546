"""The fault-injecting relay itself (tests/chaos/relay.py), fast enough for `make test`.

Its signatures are checked by our own gateway (the Stripe SDK's verification), its retries against a
real HTTP server on loopback that answers as a struggling endpoint would.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from readerfund.payments import gateway
from tests.chaos.relay import FORGERIES, Faults, Relay, _forged, stripe_signature

SECRET = "whsec_relay_test"


def _event(n: int) -> dict[str, Any]:
    return {"id": f"evt_{n}", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}


def test_the_relay_signs_as_stripe_does():
    body = json.dumps(_event(1)).encode()
    assert gateway.event_verify(payload=body, signature=stripe_signature(body, SECRET), secret=SECRET)["id"] == "evt_1"


@pytest.mark.parametrize("kind", FORGERIES)
def test_every_forgery_fails_our_verification(kind):
    body, signature = _forged(json.dumps(_event(1)).encode(), kind, SECRET)
    with pytest.raises(gateway.EventSignatureInvalid):
        gateway.event_verify(payload=body, signature=signature, secret=SECRET)


def test_the_plan_carries_every_event_at_least_once_and_exactly_the_total():
    relay = Relay(url="http://127.0.0.1:9/x", secret=SECRET, faults=Faults(forge=0.5), seed=1)
    events = [_event(n) for n in range(50)]
    plan = relay.plan(events, total=80)
    genuine = Counter(d.event_id for d in plan if not d.forged)
    assert sum(genuine.values()) == 80
    assert set(genuine) == {e["id"] for e in events}
    assert any(d.forged for d in plan)
    assert [d.event_id for d in plan] != sorted(d.event_id for d in plan)  # shuffled
    with pytest.raises(ValueError):
        relay.plan(events, total=49)


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first two attempts at each event, then checks the signature as we do."""

    seen: Counter[str] = Counter()
    accepted: list[str] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        event_id = json.loads(body)["id"]
        with self.lock:
            self.seen[event_id] += 1
            attempt = self.seen[event_id]
        try:
            gateway.event_verify(payload=body, signature=self.headers["Stripe-Signature"], secret=SECRET)
            status = 503 if attempt <= 2 else 200
        except gateway.EventSignatureInvalid:
            status = 400
        if status == 200:
            with self.lock:
                self.accepted.append(event_id)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_relay_retries_until_a_2xx_with_a_fresh_signature_each_time():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        faults = Faults(forge=0, lose_answer=0, cut_body=0, delay_max=0, retry_base=0.01, retry_max=0.05)
        relay = Relay(url=f"http://127.0.0.1:{server.server_address[1]}/hook", secret=SECRET, faults=faults, seed=2)
        report = relay.deliver(relay.plan([_event(n) for n in range(5)], total=5))
    finally:
        server.shutdown()
        server.server_close()
    assert report.undelivered == []
    assert report.answers == Counter({503: 10, 200: 5})
    assert sorted(_Flaky.accepted) == [f"evt_{n}" for n in range(5)]

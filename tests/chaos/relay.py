"""A fault-injecting webhook relay: delivers Stripe events to our endpoint the way the real network does.

localstripe posts each event once, in order, a second after the change, and never retries. Stripe
itself (https://docs.stripe.com/webhooks, "Retry behaviour" and "Event ordering") promises only
at-least-once delivery in no particular order, and retries a delivery that got no 2xx answer, or no
answer in time, with an exponential backoff for up to three days. This relay does all of that on
purpose, scaled down to seconds:

- duplicates: some events are delivered two or three times, at different moments (`plan`'s total);
- reorders: the deliveries are shuffled and sent by several threads at once;
- delays: each delivery waits a random moment first;
- fails: a share of attempts loses the answer (the request reaches the server, the relay treats it as
  a timeout: Stripe retries it, so the endpoint sees the event again) or breaks off half-way through
  the body (the server never gets the whole event);
- forges: a share of the events is preceded by a copy an attacker would send: signed with another
  secret, tampered with after signing (same id, another amount), a valid signature too old to accept
  (a replay), or no v1 signature at all. Each must be refused with a 4xx and never retried;
- retries: any attempt without a 2xx answer is sent again after `retry_base * 2**n` seconds (with
  jitter), up to `max_attempts`, as Stripe does; a 4xx is retried too (Stripe retries every non-2xx).

Every genuine attempt is signed exactly as Stripe signs: `Stripe-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" with the endpoint's signing secret>`, with a fresh timestamp per attempt
(Stripe signs each attempt anew).

`Intake` is the other end: an HTTP server that localstripe posts its own events to (registered as its
webhook endpoint), so the chaos run can replay events localstripe itself made.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# What our endpoint accepts (payments/gateway, the SDK's default): older signatures are replays.
SIGNATURE_TOLERANCE_SECONDS = 300


def stripe_signature(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Faults:
    """How unkind the network is. Shares are of events (forge) or of attempts (lose, cut)."""

    forge: float = 0.05  # events preceded by a forged copy
    lose_answer: float = 0.08  # attempts whose answer the relay drops: a timeout, as Stripe sees it
    cut_body: float = 0.03  # attempts broken off half-way through the body
    delay_max: float = 0.05  # seconds a delivery may wait before each attempt
    threads: int = 4  # deliveries in flight at once
    retry_base: float = 0.25  # seconds before the first retry; doubled each time
    retry_max: float = 8.0
    max_attempts: int = 12
    timeout: float = 20.0  # seconds to wait for an answer, as Stripe waits


@dataclass
class Delivery:
    event_id: str
    body: bytes
    forged: str = ""  # the kind of forgery, or "" for a genuine delivery


@dataclass
class RelayReport:
    genuine: int = 0  # genuine deliveries (duplicates included), each retried until answered 2xx
    attempts: int = 0  # genuine attempts sent, retries included
    answers: Counter[int] = field(default_factory=Counter)  # status of every answered genuine attempt
    lost: int = 0  # attempts whose answer was dropped on purpose
    cut: int = 0  # attempts broken off on purpose
    errors: Counter[str] = field(default_factory=Counter)  # attempts that failed on their own (refused, reset)
    undelivered: list[str] = field(default_factory=list)  # event ids never answered 2xx
    forged: Counter[str] = field(default_factory=Counter)  # forgery kind -> attempts
    forged_answers: Counter[int] = field(default_factory=Counter)  # status of each forged attempt
    bodies_5xx: list[str] = field(default_factory=list)  # a few 5xx answers, for the failure message
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _forged(body: bytes, kind: str, secret: str) -> tuple[bytes, str]:
    """A copy of `body` as an attacker would send it, with its Stripe-Signature header."""
    if kind == "wrong_secret":
        return body, stripe_signature(body, secret + "-not-ours")
    if kind == "tampered":
        # Signed as Stripe would, then changed: same event id, the money moved elsewhere.
        event = json.loads(body)
        event["data"]["object"]["amount"] = 1
        event["data"]["object"]["metadata"] = {"checkout": "stolen"}
        return json.dumps(event).encode(), stripe_signature(body, secret)
    if kind == "replayed":
        return body, stripe_signature(body, secret, timestamp=int(time.time()) - SIGNATURE_TOLERANCE_SECONDS - 60)
    if kind == "unsigned":
        return body, f"t={int(time.time())}"
    raise ValueError(kind)


FORGERIES = ("wrong_secret", "tampered", "replayed", "unsigned")


class Relay:
    """Delivers events to `url` (our /webhooks/stripe/<newsroom>) with the faults of `faults`."""

    def __init__(self, *, url: str, secret: str, faults: Faults, seed: int) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.secret = secret
        self.faults = faults
        self.rng = random.Random(seed)  # noqa: S311 - reproducible faults, not a secret
        self.rng_lock = threading.Lock()
        self.report = RelayReport()

    def _random(self) -> float:
        with self.rng_lock:
            return self.rng.random()

    def plan(self, events: list[dict[str, Any]], *, total: int) -> list[Delivery]:
        """`total` genuine deliveries: every event once, then copies of random ones (some end up three
        times), forged copies of a share of the events on top; all shuffled."""
        bodies = [(event["id"], json.dumps(event, indent=2, sort_keys=True).encode()) for event in events]
        if total < len(bodies):
            raise ValueError(f"{total} deliveries cannot carry {len(bodies)} events once each")
        deliveries = [Delivery(event_id=event_id, body=body) for event_id, body in bodies]
        while len(deliveries) < total:
            event_id, body = self.rng.choice(bodies)
            deliveries.append(Delivery(event_id=event_id, body=body))
        for event_id, body in bodies:
            if self.rng.random() < self.faults.forge:
                deliveries.append(Delivery(event_id=event_id, body=body, forged=self.rng.choice(FORGERIES)))
        self.rng.shuffle(deliveries)
        return deliveries

    def deliver(self, deliveries: list[Delivery]) -> RelayReport:
        with ThreadPoolExecutor(max_workers=self.faults.threads, thread_name_prefix="relay") as pool:
            list(pool.map(self._deliver_one, deliveries))
        return self.report

    # --- one delivery ------------------------------------------------------------------------------

    def _deliver_one(self, delivery: Delivery) -> None:
        time.sleep(self._random() * self.faults.delay_max)
        if delivery.forged:
            body, signature = _forged(delivery.body, delivery.forged, self.secret)
            status = self._send(body, signature, retry=0, forged=True)
            with self.report.lock:
                self.report.forged[delivery.forged] += 1
                self.report.forged_answers[status] += 1
            return
        with self.report.lock:
            self.report.genuine += 1
        for attempt in range(self.faults.max_attempts):
            if attempt:
                backoff = min(self.faults.retry_max, self.faults.retry_base * 2 ** (attempt - 1))
                time.sleep(backoff * (0.5 + self._random()))
            with self.report.lock:
                self.report.attempts += 1
            status = self._attempt(delivery.body, retry=attempt)
            if 200 <= status < 300:
                return
        with self.report.lock:
            self.report.undelivered.append(delivery.event_id)

    def _attempt(self, body: bytes, *, retry: int) -> int:
        """One attempt, perhaps broken on purpose. Returns the status as the relay saw it (0: none)."""
        roll = self._random()
        if roll < self.faults.cut_body:
            self._send_cut(body)
            with self.report.lock:
                self.report.cut += 1
            return 0
        status = self._send(body, stripe_signature(body, self.secret), retry=retry)
        if status and roll < self.faults.cut_body + self.faults.lose_answer:
            with self.report.lock:
                self.report.lost += 1
            return 0  # it arrived, but as far as the sender knows it timed out: send it again
        return status

    def _send(self, body: bytes, signature: str, *, retry: int, forged: bool = False) -> int:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.faults.timeout)
        try:
            connection.request(
                "POST",
                self.path,
                body=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": signature,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            with self.report.lock:
                self.report.errors[type(exc).__name__] += 1
            return 0
        finally:
            connection.close()
        if forged:
            return response.status
        with self.report.lock:
            self.report.answers[response.status] += 1
            if response.status >= 500 and len(self.report.bodies_5xx) < 5:
                self.report.bodies_5xx.append(f"{response.status} (retry {retry}): {answer[:300]!r}")
        return response.status

    def _send_cut(self, body: bytes) -> None:
        """Headers and half the body, then the connection is closed: the rest never comes."""
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Stripe-Signature: {stripe_signature(body, self.secret)}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            with socket.create_connection((self.host, self.port), timeout=self.faults.timeout) as sock:
                sock.sendall(head + body[: len(body) // 2])
        except OSError as exc:
            with self.report.lock:
                self.report.errors[type(exc).__name__] += 1


# --- the intake localstripe posts to --------------------------------------------------------------


class Intake:
    """An HTTP server that keeps every event localstripe posts (after checking its signature), in order."""

    def __init__(self, *, secret: str) -> None:
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.refused = 0
        self.last_at = time.monotonic()
        intake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = intake._verify(body, self.headers.get("Stripe-Signature", ""))
                if ok:
                    intake.events.append(json.loads(body))
                else:
                    intake.refused += 1
                intake.last_at = time.monotonic()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _verify(self, body: bytes, header: str) -> bool:
        items = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        if "t" not in items or "v1" not in items:
            return False
        expected = hmac.new(self.secret.encode(), f"{items['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, items["v1"])

    def __enter__(self) -> Intake:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_quiet(self, *, seconds: float = 3.0, timeout: float = 60.0) -> None:
        """Until localstripe has posted nothing for `seconds` (it posts each event about a second late)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.last_at < seconds and time.monotonic() < deadline:
            time.sleep(0.2)

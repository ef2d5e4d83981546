"""A counting relay in front of localstripe: how many requests reached "Stripe", and which tested a card.

Both our server (settings.STRIPE_API_BASE) and the test's card tester (confirming set-ups with a client
secret, as Stripe.js would) talk to localstripe through it, so it sees every request that reaches Stripe.

One stand-in for Stripe, said here because it is not the emulator's behaviour: Stripe refuses to confirm a
cancelled SetupIntent (400 setup_intent_unexpected_state), localstripe confirms it anyway. The relay keeps
Stripe's rule for the SetupIntents our server cancelled through it, and only for those.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from readerfund.demo.processes import free_port

CONFIRM = re.compile(r"^/v1/setup_intents/(seti_\w+)/confirm$")
CANCEL = re.compile(r"^/v1/setup_intents/(seti_\w+)/cancel$")
IDS = re.compile(r"/(seti|pi|pm|cus|sub|ch|in|plan|price|evt)_\w+")
FORWARDED = ("Authorization", "Content-Type", "Stripe-Version", "Idempotency-Key", "Stripe-Account")


@dataclass
class StripeCounter:
    url: str = ""
    requests: int = 0  # every request that reached localstripe
    card_tests: int = 0  # confirmations of a set-up and charges: each tests a card at the bank
    paths: Counter[str] = field(default_factory=Counter)
    cancelled: set[str] = field(default_factory=set)
    refused: int = 0  # confirmations of a cancelled set-up, refused as Stripe refuses them
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(upstream: str, counter: StripeCounter) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            return

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            confirm = CONFIRM.match(path) if self.command == "POST" else None
            if confirm and confirm.group(1) in counter.cancelled:
                with counter.lock:
                    counter.refused += 1
                self._answer(
                    400,
                    json.dumps(
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "setup_intent_unexpected_state",
                                "message": "You cannot confirm this SetupIntent because it has a status of canceled.",
                            }
                        }
                    ).encode(),
                    "application/json",
                )
                return
            headers = {name: self.headers[name] for name in FORWARDED if self.headers.get(name)}
            answer = requests.request(
                self.command, upstream + self.path, data=body, headers=headers, timeout=30, allow_redirects=False
            )
            with counter.lock:
                counter.requests += 1
                counter.paths[self.command + " " + IDS.sub(r"/\1_*", path)] += 1
                if confirm or (self.command == "POST" and path in ("/v1/payment_intents", "/v1/subscriptions")):
                    counter.card_tests += 1
                cancel = CANCEL.match(path) if self.command == "POST" else None
                if cancel and answer.status_code == 200:
                    counter.cancelled.add(cancel.group(1))
            self._answer(answer.status_code, answer.content, answer.headers.get("Content-Type", "application/json"))

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _relay  # noqa: N815 - http.server's names

    return Relay


@contextmanager
def stripe_counted(upstream: str) -> Iterator[StripeCounter]:
    counter = StripeCounter()
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream, counter))
    counter.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counter
    finally:
        server.shutdown()
        server.server_close()

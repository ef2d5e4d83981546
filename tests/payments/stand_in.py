"""A stand-in for Stripe's API on loopback, for the real-Stripe paths localstripe refuses to run.

It records each request's form body and answers every request with one JSON object, so a test can check
the parameters the gateway sends Stripe itself (proration_behavior, pause_collection, off_session) that
the emulator would answer with a 400 or a 500.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from readerfund.payments.accounts import ProviderAccount


def recording_stripe(answer: dict[str, Any]) -> tuple[ThreadingHTTPServer, list[str]]:
    """(server, bodies): the server answers `answer` to every GET and POST; `bodies` collects POST bodies.
    Call server.shutdown() when done."""
    bodies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802 - http.server's API
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            self._answer()

        def do_GET(self) -> None:  # noqa: N802 - http.server's API
            self._answer()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, bodies


def stand_in_account(server: ThreadingHTTPServer, *, emulator: bool) -> ProviderAccount:
    """An account whose API is the stand-in; `emulator` says which path of the gateway runs."""
    return ProviderAccount(
        label="stand-in",
        secret_key="sk_test_x",
        publishable_key="",
        webhook_secret="",
        api_base=f"http://127.0.0.1:{server.server_address[1]}",
        emulator=emulator,
    )

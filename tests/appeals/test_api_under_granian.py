"""The public API under the production server (granian), over raw sockets: what a test client can't send.

Chunked bodies carry no Content-Length, and a client can declare one thing and send another; the
16 KB limit must hold either way. The server runs on its own throwaway SQLite, seeded with the demo.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from readerfund.demo import processes

LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict]]:
    var_dir = tmp_path_factory.mktemp("granian")
    port = processes.free_port()
    env = {
        **os.environ,
        "READERFUND_VAR_DIR": str(var_dir),
        # Its own SQLite even when the suite runs on PostgreSQL: the server must not touch the shared one.
        "DATABASE_URL": f"sqlite:///{var_dir / 'readerfund.sqlite3'}",
        "TEST_DATABASE_NAME": "",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    command = str(Path(sys.executable).with_name("readerfund"))
    for args in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run([command, *args], env=env, check=True, capture_output=True)
    process = processes.start_granian(port, workers=1, env=env)
    try:
        document = json.loads(_exchange(port, _request("GET", "/api/v1/newsrooms/demo/appeals.json"))[2])
        yield port, document
    finally:
        processes.stop(process)


def _request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _chunked(body: bytes, size: int = 4000) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def _exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # The server may answer and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return int(status_line.split()[1]), headers, body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


def _event(document: dict, **extra: str) -> bytes:
    campaign = document["campaigns"][0]
    body = {"newsroom": "demo", "campaign": campaign["id"], "variant": campaign["variants"][0]["id"], "event": "view"}
    return json.dumps(body | extra).encode()


def test_a_small_chunked_event_is_counted(server: tuple[int, dict]) -> None:
    port, document = server
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "text/plain"}
    status, _, body = _exchange(port, _request("POST", "/api/v1/events", headers, _chunked(_event(document))))
    assert status == 204, body


@pytest.mark.parametrize(
    "headers",
    [
        {"Transfer-Encoding": "chunked"},
        # Both: HTTP says chunked wins, so the small Content-Length is a lie.
        {"Transfer-Encoding": "chunked", "Content-Length": "100"},
    ],
)
def test_a_big_chunked_body_is_413(server: tuple[int, dict], headers: dict[str, str]) -> None:
    port, document = server
    huge = _event(document, padding="x" * (LIMIT + 100))
    status, response_headers, body = _exchange(port, _request("POST", "/api/v1/events", headers, _chunked(huge)))
    assert status == 413, body
    assert response_headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "body_too_large"


def test_a_declared_big_body_is_413_before_it_is_sent(server: tuple[int, dict]) -> None:
    port, _ = server
    status, _, body = _exchange(port, _request("POST", "/api/v1/events", {"Content-Length": str(10**8)}))
    assert status == 413
    assert json.loads(body)["error"]["code"] == "body_too_large"


def test_no_cookie_and_the_promised_headers_under_the_real_server(server: tuple[int, dict]) -> None:
    port, _ = server
    headers = {"Cookie": "sessionid=abc; csrftoken=" + "x" * 32, "CF-IPCountry": "RU"}
    status, response_headers, _ = _exchange(port, _request("GET", "/api/v1/newsrooms/demo/appeals.json", headers))
    assert status == 200
    assert "set-cookie" not in response_headers
    assert response_headers["cache-control"] == "public, max-age=60"
    assert response_headers["vary"] == "CF-IPCountry, Origin"
    status, response_headers, body = _exchange(port, _request("GET", "/api/v1/events"))
    assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"

"""The beacon and Django's view answer the same over real sockets, under the production server.

Two granian servers on one seeded SQLite: one serves the deployed application (the beacon in front of
Django), the other Django's own application alone. Each raw request goes to both; the status line, every
header (granian's Date aside) and the body must be the same, framing included (Content-Length or
chunked). tests/appeals/test_beacon.py compares the two in-process, for many more cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from readerfund.demo import processes
from tests.appeals.test_api_under_granian import _chunked, _exchange, _request

ORIGIN_HEADER = "Origin"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, dict, str]]:
    var_dir = tmp_path_factory.mktemp("beacon-granian")
    ports = processes.free_port(), processes.free_port()
    site = f"http://127.0.0.1:{ports[0]}"
    env = {
        **os.environ,
        "READERFUND_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'readerfund.sqlite3'}",
        "TEST_DATABASE_NAME": "",
        "SITE_URL": site,
        "LOG_LEVEL": "WARNING",
    }
    command = str(Path(sys.executable).with_name("readerfund"))
    for args in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run([command, *args], env=env, check=True, capture_output=True)
    beacon = processes.start_granian(ports[0], workers=1, env=env)
    django = processes.start_granian(ports[1], workers=1, env=env, app="readerfund.config.wsgi:django_application")
    try:
        document = json.loads(_exchange(ports[0], _request("GET", "/api/v1/newsrooms/demo/appeals.json"))[2])
        yield ports[0], ports[1], document, site
    finally:
        processes.stop(beacon)
        processes.stop(django)


def _event(document: dict, **changes: object) -> bytes:
    campaign = document["campaigns"][0]
    body = {"newsroom": "demo", "campaign": campaign["id"], "variant": campaign["variants"][0]["id"], "event": "view"}
    return json.dumps(body | changes).encode()


CASES = {
    "good": lambda d, o: ("POST", {ORIGIN_HEADER: o, "Content-Type": "text/plain"}, _event(d)),
    "good, other origin": lambda d, o: ("POST", {ORIGIN_HEADER: "https://elsewhere.example"}, _event(d)),
    "bad json": lambda d, o: ("POST", {ORIGIN_HEADER: o}, b'{"newsroom": '),
    "oversize": lambda d, o: ("POST", {ORIGIN_HEADER: o}, _event(d, padding="x" * 17000)),
    "oversize, chunked": lambda d, o: ("CHUNKED", {ORIGIN_HEADER: o}, _event(d, padding="x" * 17000)),
    "good, chunked": lambda d, o: ("CHUNKED", {ORIGIN_HEADER: o}, _event(d)),
    "unknown slug": lambda d, o: ("POST", {ORIGIN_HEADER: o}, _event(d, newsroom="nowhere")),
    "lone surrogate": lambda d, o: ("POST", {ORIGIN_HEADER: o}, _event(d, newsroom="\ud800")),
    "wrong method": lambda d, o: ("GET", {ORIGIN_HEADER: o}, b""),
    "preflight": lambda d, o: ("OPTIONS", {ORIGIN_HEADER: o, "Access-Control-Request-Method": "POST"}, b""),
    "preflight, other origin": lambda d, o: ("OPTIONS", {ORIGIN_HEADER: "https://elsewhere.example"}, b""),
    "refused host": lambda d, o: ("POST", {"Host": "attacker.example"}, _event(d)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_both_paths_answer_the_same_over_sockets(servers: tuple[int, int, dict, str], case: str) -> None:
    beacon_port, django_port, document, site = servers
    method, headers, body = CASES[case](document, site)
    if method == "CHUNKED":
        method, headers, body = "POST", headers | {"Transfer-Encoding": "chunked"}, _chunked(body)
    elif method in ("POST", "GET") and body:
        headers = headers | {"Content-Length": str(len(body))}
    answers = []
    for port in (beacon_port, django_port):
        raw = _request(method, "/api/v1/events", headers, body)
        if "Host" in headers:  # the request line's own Host is replaced, not doubled
            raw = raw.replace(b"Host: 127.0.0.1\r\n", b"", 1)
        status, response_headers, response_body = _exchange(port, raw)
        response_headers.pop("date", None)
        answers.append((status, response_headers, response_body))
    assert answers[0][1] == answers[1][1], set(answers[0][1].items()) ^ set(answers[1][1].items())
    assert answers[0] == answers[1]
    status, response_headers, _ = answers[0]
    assert 200 <= status < 500
    assert response_headers.get("x-content-type-options") == "nosniff"
    if case != "refused host":
        assert response_headers["vary"] == "Origin"

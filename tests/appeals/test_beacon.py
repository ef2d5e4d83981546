"""The events beacon answered before Django (appeals/beacon.py) answers exactly as Django's view does.

Each case is sent as one WSGI environ to both: the deployed application (config/wsgi.py `application`,
the beacon in front) and Django's own (`django_application`). Status, body and every header must be the
same, for good input and every kind of bad input, and when the settings or the middleware that make the
security headers change. tests/appeals/test_beacon_under_granian.py does the same over sockets.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

from readerfund.appeals import counters
from readerfund.appeals.beacon import events_first
from readerfund.appeals.models import Variant
from readerfund.config.wsgi import application, django_application

pytestmark = pytest.mark.django_db

OTHER_ORIGIN = "https://not-the-newsroom.example"


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: the end of a request must not close the test's own connection,
    which holds the test's transaction (PostgreSQL)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def variant(demo_newsroom: Any) -> Variant:
    return Variant.objects.get(campaign__newsroom=demo_newsroom, key="a")


@pytest.fixture
def origin(demo_newsroom: Any) -> str:
    return demo_newsroom.origins[0]


def environ(
    method: str = "POST", body: bytes = b"", *, path: str = "/api/v1/events", length: str | None = None, **headers: str
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "text/plain;charset=UTF-8",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.input_terminated": True,
    }
    env["CONTENT_LENGTH"] = str(len(body)) if length is None else length
    if not env["CONTENT_LENGTH"]:
        del env["CONTENT_LENGTH"]
    for name, value in headers.items():
        env[name if name.startswith(("HTTP_", "wsgi.")) else "HTTP_" + name.upper()] = value
    return env


def call(app: Callable[..., Iterable[bytes]], env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    answered: list[tuple[str, list[tuple[str, str]]]] = []
    chunks = app(env, lambda status, headers, exc_info=None: answered.append((status, headers)))
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    status, headers = answered[0]
    # A page's CSP nonce is new in every response (core/headers.py): the same header otherwise.
    headers = [(name, re.sub(r"'nonce-[^']+'", "'nonce-…'", value)) for name, value in headers]
    return status, sorted(headers), body


def both(
    make: Callable[[], dict[str, Any]], django: Callable[..., Iterable[bytes]] = django_application
) -> tuple[str, dict[str, str], bytes]:
    """The case through Django and through the beacon in front of it: must be identical. Returns it."""
    through_django = call(django, make())
    through_beacon = call(application if django is django_application else events_first(django), make())
    assert through_beacon == through_django
    status, headers, body = through_beacon
    assert len({name.lower() for name, _ in headers}) == len(headers), headers
    return status, dict(headers), body


def event(variant: Variant, /, **changes: Any) -> bytes:
    fields = {"newsroom": "demo", "campaign": variant.campaign_id, "variant": variant.id, "event": "view"}
    return json.dumps(fields | changes).encode()


def error_code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


def test_a_good_event_is_the_same_204_and_counted_once_on_each_path(variant: Variant, origin: str) -> None:
    status, headers, body = both(lambda: environ(body=event(variant), ORIGIN=origin))
    assert status == "204 No Content" and body == b""
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Vary"] == "Origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Content-Type" not in headers and "Set-Cookie" not in headers
    assert counters.events_pending() == 2  # one by each path, not more


@pytest.mark.parametrize(
    ("make_body", "code"),
    [
        (lambda v: b'{"newsroom": "demo", "campaign": ', "malformed_json"),
        (lambda v: b"", "empty_body"),
        (lambda v: b"[1, 2]", "malformed_json"),
        (lambda v: b"\xff\xfe{}", "malformed_json"),
        (lambda v: event(v, newsroom="nowhere"), "unknown_newsroom"),
        (lambda v: event(v, campaign=10**9), "unknown_campaign"),
        (lambda v: event(v, variant=10**9), "unknown_variant"),
        (lambda v: event(v, event="purchase"), "unknown_event"),
        (lambda v: event(v, campaign="1"), "invalid_field"),
        (lambda v: event(v, campaign=True), "invalid_field"),
        (lambda v: json.dumps({"newsroom": "demo"}).encode(), "missing_field"),
        (lambda v: event(v, newsroom="\ud800"), "invalid_text"),
        (lambda v: event(v, note="\ud800"), "invalid_text"),
        # The events endpoint reads only its named fields (its document allows a NUL elsewhere): a slug with
        # NUL is simply no newsroom's.
        (lambda v: event(v, newsroom="de\x00mo"), "unknown_newsroom"),
        (lambda v: b"[" * 10_000, "malformed_json"),
        (lambda v: event(v, padding="x" * (16 * 1024)), "body_too_large"),
    ],
    ids=[
        "bad-json",
        "empty",
        "not-an-object",
        "not-utf8",
        "unknown-slug",
        "unknown-campaign",
        "unknown-variant",
        "unknown-event",
        "string-id",
        "boolean-id",
        "missing-fields",
        "lone-surrogate-in-slug",
        "lone-surrogate-elsewhere",
        "nul",
        "deep-nesting",
        "oversize",
    ],
)
@pytest.mark.parametrize("from_origin", ["newsroom", "other", "none"])
def test_bad_input_gets_the_same_4xx(
    variant: Variant, origin: str, make_body: Callable[[Variant], bytes], code: str, from_origin: str
) -> None:
    sent = {"newsroom": {"ORIGIN": origin}, "other": {"ORIGIN": OTHER_ORIGIN}, "none": {}}[from_origin]
    status, headers, body = both(lambda: environ(body=make_body(variant), **sent))
    assert 400 <= int(status.split()[0]) < 500
    assert error_code(body) == code
    assert headers["Content-Type"] == "application/json"
    assert headers["Vary"] == "Origin"
    assert headers.get("Access-Control-Allow-Origin") == (origin if from_origin == "newsroom" else None)
    assert counters.events_pending() == 0


def test_a_declared_oversize_body_is_the_same_413_before_it_is_read(variant: Variant) -> None:
    status, _, body = both(lambda: environ(body=event(variant), length=str(10**8)))
    assert status == "413 Request Entity Too Large" and error_code(body) == "body_too_large"


def test_a_chunked_body_without_a_length_is_read_the_same(variant: Variant) -> None:
    status, _, _ = both(lambda: environ(body=event(variant), length=""))
    assert status == "204 No Content"
    big = event(variant, padding="x" * (20 * 1024))
    status, _, body = both(lambda: environ(body=big, length=""))
    assert status == "413 Request Entity Too Large"


def test_a_lower_case_post_is_a_post_on_both(variant: Variant) -> None:
    status, _, _ = both(lambda: environ("post", event(variant)))
    assert status == "204 No Content"
    assert counters.events_pending() == 2


@pytest.mark.parametrize("length", ["-5", "abc", "0", " 12"])
def test_a_strange_content_length_is_read_the_same(variant: Variant, length: str) -> None:
    def make() -> dict[str, Any]:
        env = environ(body=event(variant), length=length)
        env["wsgi.input_terminated"] = False  # a server that can't say where the body ends
        return env

    status, _, body = both(make)
    # "abc" was a 500 on Django's path (its request.body reads int(CONTENT_LENGTH)).
    assert status.startswith("400") and error_code(body) in ("empty_body", "malformed_json", "invalid_length")
    assert counters.events_pending() == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "TRACE"])
def test_a_wrong_method_is_the_same_405(variant: Variant, origin: str, method: str) -> None:
    status, headers, body = both(lambda: environ(method, event(variant), ORIGIN=origin))
    assert status == "405 Method Not Allowed" and error_code(body) == "method_not_allowed"
    assert headers["Allow"] == "POST, OPTIONS"
    assert counters.events_pending() == 0


@pytest.mark.parametrize("from_origin", ["newsroom", "other", "none"])
def test_the_preflight_is_the_same(origin: str, from_origin: str) -> None:
    sent = {"newsroom": {"ORIGIN": origin}, "other": {"ORIGIN": OTHER_ORIGIN}, "none": {}}[from_origin]
    cors = {"ACCESS_CONTROL_REQUEST_METHOD": "POST", "ACCESS_CONTROL_REQUEST_HEADERS": "content-type"}
    status, headers, body = both(lambda: environ("OPTIONS", **sent, **cors))
    assert status == "204 No Content" and body == b""
    assert headers["Vary"] == "Origin"
    if from_origin == "newsroom":
        assert headers["Access-Control-Allow-Origin"] == origin
        assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    else:
        assert not any(name.startswith("Access-Control-") for name in headers)


def test_a_refused_host_is_django_s_400_and_counts_nothing(variant: Variant) -> None:
    status, headers, body = both(lambda: environ(body=event(variant), HTTP_HOST="attacker.example"))
    assert status == "400 Bad Request" and error_code(body) == "bad_request"
    assert counters.events_pending() == 0


def test_hosts_rotating_past_what_the_beacon_remembers_are_answered_the_same(variant: Variant, settings: Any) -> None:
    settings.ALLOWED_HOSTS = [".example.org"]
    for number in range(300):
        status, _, _ = both(lambda n=number: environ(body=event(variant), HTTP_HOST=f"r{n}.example.org"))
        assert status == "204 No Content"
    assert counters.events_pending() == 600


def test_https_behind_a_proxy_gets_the_same_hsts(variant: Variant, settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    django = WSGIHandler()  # SecurityMiddleware reads its settings once, when it is made
    _, headers, _ = both(lambda: environ(body=event(variant), X_FORWARDED_PROTO="https"), django)
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    _, headers, _ = both(lambda: environ(body=event(variant), X_FORWARDED_PROTO="http"), django)
    assert "Strict-Transport-Security" not in headers


def test_an_https_redirect_is_django_s(variant: Variant, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    status, headers, _ = both(lambda: environ(body=event(variant)), WSGIHandler())
    assert status.startswith("301") and headers["Location"] == "https://127.0.0.1:8000/api/v1/events"
    assert counters.events_pending() == 0


class StampMiddleware:
    """A stand-in for a header added to the API's middleware later (CSP, Permissions-Policy, …)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Permissions-Policy"] = "interest-cohort=()" if request.is_secure() else "camera=()"
        if response.get("Content-Type") == "application/json":
            response["X-Stamp"] = "json"
        return response


def test_a_header_added_to_the_middleware_reaches_both_paths(variant: Variant, settings: Any) -> None:
    settings.MIDDLEWARE = [f"{__name__}.StampMiddleware", *settings.MIDDLEWARE]
    django = WSGIHandler()  # Django reads MIDDLEWARE once, when its handler is made
    _, headers, _ = both(lambda: environ(body=event(variant)), django)
    assert headers["Permissions-Policy"] == "camera=()" and "X-Stamp" not in headers
    _, headers, _ = both(lambda: environ(body=b"{"), django)
    assert headers["X-Stamp"] == "json"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _, headers, _ = both(lambda: environ(body=event(variant), X_FORWARDED_PROTO="https"), django)
    assert headers["Permissions-Policy"] == "interest-cohort=()"


def test_other_paths_go_to_django(variant: Variant) -> None:
    for path in ("/api/v1/events/", "/api/v1/eventsx", "/api/v1/newsrooms/demo/appeals.json"):
        through_django = call(django_application, environ("GET", path=path))
        through_beacon = call(application, environ("GET", path=path))
        assert through_beacon == through_django


def test_the_beacon_answers_without_django_s_request_cycle(variant: Variant) -> None:
    started: list[Any] = []

    def record(**kwargs: Any) -> None:
        started.append(kwargs)

    request_started.connect(record)
    try:
        call(application, environ(body=event(variant)))
        assert started == []
        call(application, environ("GET", path="/api/v1/newsrooms/demo/appeals.json"))
        assert len(started) == 1
    finally:
        request_started.disconnect(record)


def test_an_unexpected_error_is_the_same_json_500(variant: Variant, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_kwargs: Any) -> None:
        raise RuntimeError("the counter broke")

    monkeypatch.setattr(counters, "event_record", broken)
    status, headers, body = both(lambda: environ(body=event(variant)))
    assert status == "500 Internal Server Error" and error_code(body) == "internal_error"
    assert headers["Content-Type"] == "application/json"


def test_wrapping_twice_changes_nothing(variant: Variant) -> None:
    twice = events_first(application)
    assert call(twice, environ(body=b"{")) == call(django_application, environ(body=b"{"))


def test_the_beacon_ends_a_request_as_django_does_at_most_once_a_second(
    variant: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readerfund.appeals import beacon

    finished: list[Any] = []

    def record(**kwargs: Any) -> None:
        finished.append(kwargs)

    monkeypatch.setattr(beacon._tidied, "at", 0.0, raising=False)
    request_finished.connect(record)
    try:
        for _ in range(5):
            call(application, environ(body=event(variant)))
    finally:
        request_finished.disconnect(record)
    assert len(finished) == 1  # its receiver closes a connection past CONN_MAX_AGE, or a broken one

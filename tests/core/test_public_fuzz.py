"""Every public endpoint answers odd input with a 4xx, never a 500: on SQLite and PostgreSQL alike.

The table holds inputs that once made a 500; the hypothesis run throws arbitrary methods, bodies,
content types and headers at the same endpoints.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from readerfund.demo.processes import free_port

KEY = "a" * 20
CHECKOUT = {"request_key": KEY, "amount": 500, "currency": "USD", "frequency": "monthly", "email": "a@example.org"}
REMINDER = {"newsroom": "demo", "email": "a@example.org", "remind_on": "2099-01-01", "consent": True}


@pytest.fixture
def stripe_down(settings: Any) -> None:
    # A body valid enough to reach Stripe gets the designed 503, fast, instead of a real request.
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"


def _send(client: Client, method: str, path: str, body: bytes | None, content_type: str, **headers: Any) -> Any:
    kwargs: dict[str, Any] = dict(headers)
    if body is not None:
        kwargs |= {"data": body, "content_type": content_type}
    return client.generic(method, path, **kwargs)


def _assert_no_500(response: Any, path: str) -> None:
    # 503 is the checkout's designed answer to "Stripe unreachable", with its message.
    if response.status_code == 503 and path.startswith("/support/"):
        assert json.loads(response.content)["error"]["code"] == "unavailable"
        return
    assert response.status_code < 500, (path, response.status_code, response.content[:300])


NUL = "\x00"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        # PostgreSQL refuses NUL in text: these reached a query and answered 500 there.
        ("POST", "/api/v1/events", {"newsroom": f"de{NUL}mo", "event": "view", "campaign": 1, "variant": 1}),
        ("POST", "/api/v1/reminders", {**REMINDER, "newsroom": f"de{NUL}mo"}),
        ("GET", f"/support/demo/thanks/{KEY}%00/", None),
        ("GET", f"/support/demo/refused/{KEY}%00/", None),
        # "²".isdigit() is true but int("²") raises.
        ("GET", "/support/demo/?amount=%C2%B2", None),
        ("GET", "/support/demo/?variant=%C2%B2&campaign=%C2%B2", None),
        ("POST", "/support/demo/start", {**CHECKOUT, "variant": "²"}),
        # urlsplit raises on an unclosed IPv6 bracket.
        ("GET", "/support/demo/?return=http://%5B::1", None),
        ("POST", "/support/demo/start", {**CHECKOUT, "return": "http://[::1"}),
    ],
)
def test_inputs_that_once_made_a_500(
    demo_newsroom: Any, stripe_down: None, method: str, path: str, body: dict[str, Any] | None
) -> None:
    client = Client(raise_request_exception=False)
    raw = json.dumps(body).encode() if body is not None else None
    response = _send(client, method, path, raw, "text/plain", HTTP_X_FORWARDED_FOR="192.0.2.1")
    _assert_no_500(response, path)
    if body is not None and path.startswith("/api/"):
        # No newsroom's slug holds a NUL: the answer its document gives for an unknown one.
        assert response.status_code == 404
        assert json.loads(response.content)["error"]["code"] == "unknown_newsroom"


LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # JSON may escape half of a surrogate pair; Python decodes it into a str that cannot be encoded as
        # UTF-8, so the name's encryption, the address's hash or SQLite's binding raised: an HTML 500.
        ("/support/demo/start", {**CHECKOUT, "name": f"Ada{LONE_SURROGATE}"}),
        ("/support/demo/start", {**CHECKOUT, "email": f"a@exa{LONE_SURROGATE}mple.org"}),
        ("/support/demo/start", {**CHECKOUT, "return": f"http://testserver/{LONE_SURROGATE}"}),
        ("/api/v1/reminders", {**REMINDER, "email": f"a@exa{LONE_SURROGATE}mple.org"}),
    ],
)
def test_a_lone_surrogate_in_a_body_is_refused_with_a_message(
    demo_newsroom: Any, stripe_down: None, path: str, body: dict[str, Any]
) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(path, data=json.dumps(body), content_type="text/plain", HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert response.status_code == 400, response.content[:300]
    assert json.loads(response.content)["error"]["code"] == "invalid_text"


# The same half pair as raw bytes: Python's JSON decoder reads bytes with 'surrogatepass', so UTF-8's
# ED A0 80 (or a UTF-16 body) became a lone surrogate in a str without any "\\u" escape for a byte test
# to see, and the address's hash or the name's encryption raised: a 500.
_RAW_SURROGATE = b"\xed\xa0\x80"


def _raw(body: dict[str, Any], field: str, *, where: str = "value") -> bytes:
    marker = "@@HALF@@"
    body = {**body, marker: 1} if where == "key" else {**body, field: f"{body.get(field, '')}{marker}"}
    return json.dumps(body).encode().replace(marker.encode(), _RAW_SURROGATE)


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/v1/reminders", _raw(REMINDER, "email")),
        ("/api/v1/reminders", _raw(REMINDER, "locale")),
        ("/api/v1/reminders", _raw(REMINDER, "timezone")),
        ("/api/v1/reminders", _raw(REMINDER, "", where="key")),
        ("/api/v1/reminders", json.dumps({**REMINDER, "email": "a\ud800@example.org"}).encode("utf-16")),
        ("/api/v1/events", _raw({"newsroom": "demo", "event": "view", "campaign": 1, "variant": 1}, "newsroom")),
        ("/support/demo/start", _raw(CHECKOUT, "name")),
        ("/support/demo/start", _raw(CHECKOUT, "email")),
        ("/support/demo/start", _raw(CHECKOUT, "return")),
        ("/support/demo/pay", _raw({"request_key": KEY}, "request_key")),
    ],
)
def test_a_lone_surrogate_in_raw_bytes_is_refused_with_a_message(
    demo_newsroom: Any, stripe_down: None, path: str, raw: bytes
) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(path, data=raw, content_type="text/plain", HTTP_X_FORWARDED_FOR="192.0.2.3")
    assert response.status_code == 400, response.content[:300]
    error = json.loads(response.content)["error"]
    assert error["code"] in ("invalid_text", "malformed_json") and "UTF-8" in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        # Forms, query strings and paths: Django decodes their bytes replacing what is not UTF-8, so a half
        # pair arrives as U+FFFD; each answers with its page, never a 500.
        ("GET", "/support/demo/?return=http%3A%2F%2Ftestserver%2F%ED%A0%80&amount=%ED%A0%80", None),
        ("GET", "/support/%ED%A0%80/", None),
        ("GET", "/api/v1/newsrooms/demo/appeals.json?locale=%ED%A0%80", None),
        ("GET", "/api/v1/newsrooms/%ED%A0%80/appeals.json", None),
        ("GET", "/reminders/unsubscribe/%ED%A0%80/", None),
        ("GET", "/account/demo/?locale=%ED%A0%80", None),
        ("POST", "/account/demo/", b"email=a%ED%A0%80%40example.org&locale=en"),
    ],
)
def test_a_lone_surrogate_in_a_form_query_or_path_is_no_500(
    demo_newsroom: Any, method: str, path: str, form: bytes | None
) -> None:
    client = Client(raise_request_exception=False)
    kwargs: dict[str, Any] = {}
    if form is not None:
        kwargs = {"data": form, "content_type": "application/x-www-form-urlencoded"}
    response = client.generic(method, path, **kwargs)
    assert response.status_code < 500, (path, response.status_code, response.content[:300])


def test_nul_anywhere_in_a_checkout_body_is_refused_with_a_message(demo_newsroom: Any) -> None:
    client = Client()
    body = json.dumps({**CHECKOUT, "nested": [{"deep": NUL}]})
    response = client.post("/support/demo/start", data=body, content_type="text/plain")
    assert response.status_code == 400
    assert "NUL" in json.loads(response.content)["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/reminders", "/api/v1/events"])
def test_the_public_api_ignores_a_nul_where_it_reads_nothing(demo_newsroom: Any, path: str) -> None:
    # Its document allows any other key; only the fields it names are read, each checked on its own.
    body = REMINDER if path.endswith("reminders") else {"newsroom": "demo", "event": "view", "campaign": 1}
    raw = json.dumps({**body, "nested": [{"deep": NUL}], f"k{NUL}y": {f"{NUL}": NUL}})
    response = Client().post(path, data=raw, content_type="text/plain")
    assert response.status_code in (202, 400, 404) and response.status_code < 500
    if response.status_code != 202:
        assert json.loads(response.content)["error"]["code"] != "invalid_text"


# --- hypothesis ---------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _near_valid(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The endpoint's own fields, each either its valid value or anything at all, some left out."""
    fields = {name: st.one_of(st.just(value), _json) for name, value in template.items()}
    return st.fixed_dictionaries({}, optional=fields)


_ENDPOINTS: dict[str, dict[str, Any]] = {
    "/api/v1/events": {"newsroom": "demo", "event": "view", "campaign": 1, "variant": 1},
    "/api/v1/reminders": REMINDER,
    "/api/v1/newsrooms/{slug}/appeals.json": {},
    "/support/{slug}/": {},
    "/support/{slug}/start": CHECKOUT,
    "/support/{slug}/pay": {"request_key": KEY},
    "/support/{slug}/thanks/{key}/": {},
    "/support/{slug}/refused/{key}/": {},
    "/reminders/unsubscribe/{key}/": {},
    "/healthz": {},
    "/embed.js": {},
    "/api/v1/openapi.json": {},
    "/api/v1/bare": {},
}


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, str, dict[str, str]]:
    template = draw(st.sampled_from(sorted(_ENDPOINTS)))
    slug = draw(st.sampled_from(["demo", "nope"]) | st.from_regex(r"[-a-zA-Z0-9_]{1,20}", fullmatch=True))
    key = quote(draw(st.sampled_from([KEY]) | st.text(min_size=1, max_size=40)), safe="")
    path = template.format(slug=slug, key=key)
    query = draw(
        st.dictionaries(
            st.sampled_from(
                ["locale", "amount", "variant", "campaign", "return", "lang", "size", "frequency", "currency"]
            ),
            st.text(max_size=20),
            max_size=3,
        )
    )
    if query:
        path += "?" + urlencode(query)
    method = draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    body: bytes | None = None
    if method in ("POST", "PUT", "PATCH"):
        body = draw(
            st.one_of(
                _near_valid(_ENDPOINTS[template]).map(lambda d: json.dumps(d).encode()),
                _json.map(lambda v: json.dumps(v).encode()),
                st.binary(max_size=200),
            )
        )
    content_type = draw(
        st.sampled_from(
            ["text/plain", "application/json", "application/x-www-form-urlencoded", "multipart/form-data", ""]
        )
    )
    header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30)
    headers = draw(
        st.fixed_dictionaries(
            {"HTTP_X_FORWARDED_FOR": st.ip_addresses().map(str)},
            optional={
                "HTTP_ORIGIN": header_text,
                "HTTP_CF_IPCOUNTRY": header_text,
                "HTTP_IF_NONE_MATCH": header_text,
                "HTTP_X_READERFUND_LOCALE": header_text,
                "HTTP_ACCEPT_LANGUAGE": header_text,
                "HTTP_HOST": st.sampled_from(["testserver", "127.0.0.1:8000", "", "evil.example", "тест.рф"]),
            },
        )
    )
    return method, path, body, content_type, headers


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(request=_requests(), enforce_csrf=st.booleans())
def test_public_endpoints_never_answer_500(
    demo_newsroom: Any,
    stripe_down: None,
    request: tuple[str, str, bytes | None, str, dict[str, str]],
    enforce_csrf: bool,
) -> None:
    method, path, body, content_type, headers = request
    client = Client(raise_request_exception=False, enforce_csrf_checks=enforce_csrf)
    response = _send(client, method, path, body, content_type, **headers)
    _assert_no_500(response, path)

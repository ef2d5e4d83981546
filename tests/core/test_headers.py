"""Security headers on every response (readerfund/core/headers.py): CSP with per-request nonces, Stripe
only on payment pages, SRI on our payment pages' scripts, Permissions-Policy, HSTS over https, short reader
CSRF cookies, `Vary: Origin` wherever CORS answers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from readerfund.checkout.scripts import OUR_SCRIPTS
from readerfund.core.headers import security_headers
from tests.factories import contribution_paid

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "readerfund"
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def csp(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def _scripts(html: str) -> list[str]:
    return _SCRIPT_TAG.findall(html)


def assert_strict_page(response: Any) -> dict[str, list[str]]:
    policy = csp(response)
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    (nonce,) = [s for s in scripts if s.startswith("'nonce-")]
    html = response.content.decode()
    for attributes in _scripts(html):
        # Every script is either ours by URL or carries this response's nonce (data blocks don't run).
        assert 'type="application/json"' in attributes or "src=" in attributes or nonce[7:-1] in attributes, attributes
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "an inline event handler the CSP would block"
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    return policy


# --- the templates themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("templates/**/*.html"))
)
def test_no_template_has_an_inline_script_without_the_nonce_or_an_inline_handler(template: str) -> None:
    html = (TEMPLATES / template).read_text()
    if "/notifications/" in template:  # e-mails: no script runs in a mail reader, and no CSP reaches one
        return
    for attributes in _scripts(html):
        assert "src=" in attributes or 'nonce="{{ csp_nonce }}"' in attributes, (template, attributes)
    assert "{% stripe_js" in html or 'stripe_js_url }}"></script>' not in html
    assert not re.search(r"\son[a-z]+\s*=\s*\"", html), template


# --- pages -------------------------------------------------------------------------------------------


def test_the_checkout_page_allows_stripe_js_and_our_script_with_its_integrity(
    client: Client, demo_newsroom: Any, localstripe: str
) -> None:
    response = client.get("/support/demo/")
    policy = assert_strict_page(response)
    assert localstripe in policy["script-src"]
    assert localstripe in policy["connect-src"]
    html = response.content.decode()
    ours = re.search(r'<script src="/support/checkout.js" integrity="(sha384-[^"]+)"', html)
    assert ours, html[-600:]
    served = client.get("/support/checkout.js").content
    assert ours.group(1) == "sha384-" + base64.b64encode(hashlib.sha384(served).digest()).decode()
    assert "payment=(self" in response["Permissions-Policy"]


def test_each_response_has_its_own_nonce(client: Client, demo_newsroom: Any) -> None:
    first = csp(client.get("/support/demo/"))["script-src"]
    second = csp(client.get("/support/demo/"))["script-src"]
    assert [s for s in first if "nonce" in s] != [s for s in second if "nonce" in s]


def test_the_thank_you_pages_inline_script_carries_the_nonce(
    client: Client, demo_newsroom: Any, localstripe: str
) -> None:
    contribution = contribution_paid(demo_newsroom, frequency="one_off")
    response = client.get(f"/support/demo/thanks/{contribution.request_key}/")
    assert response.status_code == 200
    policy = assert_strict_page(response)
    (nonce,) = [s[7:-1] for s in policy["script-src"] if s.startswith("'nonce-")]
    assert f'<script nonce="{nonce}">' in response.content.decode()
    # Not a payment page: no Stripe.
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["frame-src"] == ["'none'"]


@pytest.mark.parametrize(
    "path", ["/account/demo/", "/demo/", "/demo/1/", "/reminders/unsubscribe/broken/", "/admin/login/", "/nope/x/"]
)
def test_other_pages_are_strict_and_load_no_stripe(client: Client, demo_newsroom: Any, path: str) -> None:
    response = client.get(path)
    assert response["Content-Type"].startswith("text/html"), (path, response.status_code)
    policy = assert_strict_page(response)
    assert not any("stripe" in s or s.startswith("http") for s in policy["script-src"]), policy


def test_real_stripe_gets_what_stripe_js_needs(settings: Any) -> None:
    headers = dict(
        security_headers(page=True, secure=True, nonce="n", payment_script_urls=["https://js.stripe.com/v3/"])
    )
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-n' https://js.stripe.com;" in policy
    assert "https://api.stripe.com" in policy and "https://hooks.stripe.com" in policy


def test_json_and_scripts_may_run_nothing(client: Client, demo_newsroom: Any) -> None:
    for path in ("/api/v1/openapi.json", "/api/v1/newsrooms/demo/appeals.json", "/embed.js", "/healthz", "/api/x"):
        response = client.get(path)
        assert response["Content-Security-Policy"].startswith("default-src 'none'"), path
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"


# --- HSTS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_url", "secure", "seconds", "sent"),
    [
        ("http://127.0.0.1:8000", False, 31536000, False),  # the demo: plain http, browsers would ignore it
        ("https://support.example.org", False, 31536000, True),  # TLS ended by the proxy in front
        ("http://127.0.0.1:8000", True, 31536000, True),
        ("https://support.example.org", True, 0, False),  # turned off
    ],
)
def test_hsts_when_served_over_https(
    client: Client, demo_newsroom: Any, settings: Any, site_url: str, secure: bool, seconds: int, sent: bool
) -> None:
    settings.SITE_URL = site_url
    settings.HSTS_SECONDS = seconds
    for path in ("/support/demo/", "/api/v1/openapi.json"):
        response = client.get(path, secure=secure)
        assert ("Strict-Transport-Security" in response) is sent, path
        if sent:
            assert response["Strict-Transport-Security"] == f"max-age={seconds}; includeSubDomains"


def test_hsts_is_on_by_default() -> None:
    from readerfund.config import settings as config

    assert config.HSTS_SECONDS >= 31536000


# --- CSRF cookie -----------------------------------------------------------------------------------


def test_reader_pages_csrf_cookie_is_short_lived(client: Client, demo_newsroom: Any, settings: Any) -> None:
    response = client.get("/support/demo/")
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    # Django's default is a year: a trace, on a shared or seized device, that this browser gave.
    assert int(cookie["max-age"]) == settings.READER_CSRF_COOKIE_SECONDS <= 2 * 3600
    assert cookie["expires"]
    staff = client.get("/admin/login/")
    assert int(staff.cookies[settings.CSRF_COOKIE_NAME]["max-age"]) == settings.CSRF_COOKIE_AGE


# --- Vary: Origin ----------------------------------------------------------------------------------


def _vary(response: Any) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("origin", ["allowed", "https://evil.example", None])
def test_every_cors_answer_varies_on_origin(client: Client, demo_newsroom: Any, origin: str | None) -> None:
    # A cache in front would otherwise serve one origin's answer (with or without its
    # Access-Control-Allow-Origin) to another.
    headers = {}
    if origin is not None:
        headers["HTTP_ORIGIN"] = demo_newsroom.origins[0] if origin == "allowed" else origin
    event = {"newsroom": "demo", "campaign": 1, "variant": 1, "event": "view"}
    reminder = {"newsroom": "demo", "email": "a@example.org", "remind_on": "2099-01-01", "consent": True}
    answers = [
        client.post("/api/v1/events", json.dumps(event), content_type="text/plain", **headers),
        client.post("/api/v1/reminders", json.dumps(reminder), content_type="text/plain", **headers),
        client.post("/api/v1/reminders", "{", content_type="text/plain", **headers),
        client.get("/api/v1/newsrooms/demo/appeals.json", **headers),
        client.get("/api/v1/newsrooms/nope/appeals.json", **headers),
        client.options("/api/v1/events", **headers),
        client.options("/api/v1/reminders", **headers),
        client.options("/api/v1/newsrooms/demo/appeals.json", **headers),
        client.put("/api/v1/events", **headers),
    ]
    for response in answers:
        assert "origin" in _vary(response), (response.status_code, response.content[:100])


# --- the inventory of payment pages' scripts (PCI DSS 4.0 6.4.3) ----------------------------------


def test_the_inventory_lists_each_script_with_the_hash_of_what_is_served(
    client: Client, demo_newsroom: Any, capsys: Any
) -> None:
    call_command("payment_scripts")
    printed = capsys.readouterr().out
    assert "Stripe.js" in printed
    for name, script in OUR_SCRIPTS.items():
        from django.urls import reverse

        served = client.get(reverse(name))
        assert served.status_code == 200
        digest = "sha384-" + base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert digest == script.integrity()
        assert digest in printed and reverse(name) in printed


def test_every_script_on_the_payment_pages_is_in_the_inventory(
    client: Client, demo_newsroom: Any, localstripe: str
) -> None:
    html = client.get("/support/demo/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    from django.urls import reverse

    ours = {reverse(name) for name in OUR_SCRIPTS}
    for source in sources:
        assert source in ours or source.startswith(localstripe), source

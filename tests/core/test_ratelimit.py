from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory

from readerfund.core.ratelimit import RateLimited, client_ip, rate_limit_hit


def _request(forwarded: str = "", remote: str = "10.0.0.9") -> Any:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().post("/api/v1/reminders", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (1, "", "10.0.0.9"),
        # What the client wrote is left of what our proxy appended: it must not pick the key.
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, "203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 192.0.2.4", "203.0.113.7"),
        (0, "198.51.100.1, 203.0.113.7", "10.0.0.9"),
    ],
)
def test_client_ip_trusts_only_the_proxies_hops(settings: Any, hops: int, forwarded: str, expected: str) -> None:
    settings.TRUSTED_PROXY_HOPS = hops
    settings.CLIENT_IP_HEADER = ""
    assert client_ip(_request(forwarded)) == expected


@pytest.mark.django_db
def test_a_made_up_forwarded_header_does_not_escape_the_per_ip_limit() -> None:
    def attempt(spoofed: str) -> None:
        ip = client_ip(_request(f"{spoofed}, 203.0.113.7"))
        rate_limit_hit(scope="test", key=ip, limit=2, window_seconds=600)

    attempt("198.51.100.1")
    attempt("198.51.100.2")
    with pytest.raises(RateLimited):
        attempt("198.51.100.3")


def test_by_default_no_proxy_is_trusted() -> None:
    # A deployment without a proxy that trusted one hop took the last X-Forwarded-For entry, which the
    # client writes itself: rotating it gave every card attempt its own per-IP limit.
    from readerfund.config import settings as config

    assert config.TRUSTED_PROXY_HOPS == 0
    assert config.CLIENT_IP_HEADER == ""


@pytest.mark.django_db
def test_rotating_x_forwarded_for_meets_the_per_ip_limit_by_default(client: Any, demo_newsroom: Any) -> None:
    from readerfund.reminders import api

    answers = []
    for n in range(api.IP_LIMIT + 5):
        body = {"newsroom": demo_newsroom.slug, "email": f"r{n}@example.org", "remind_on": "2099-01-01"}
        response = client.post(
            "/api/v1/reminders",
            data=json.dumps(body | {"consent": True}),
            content_type="text/plain",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        answers.append(response.status_code)
    assert answers.count(429) == 5


@pytest.mark.parametrize(
    ("header", "meta", "expected"),
    [
        # The CDN's own header names the reader; whatever X-Forwarded-For says is ignored.
        (
            "CF-Connecting-IP",
            {"HTTP_CF_CONNECTING_IP": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "1.2.3.9"},
            "203.0.113.7",
        ),
        ("X-Real-IP", {"HTTP_X_REAL_IP": " 203.0.113.8 "}, "203.0.113.8"),
        # Missing or not an address: the connection's own.
        ("CF-Connecting-IP", {}, "10.0.0.9"),
        ("CF-Connecting-IP", {"HTTP_CF_CONNECTING_IP": "not an address"}, "10.0.0.9"),
    ],
)
def test_a_cdns_client_ip_header(settings: Any, header: str, meta: dict[str, str], expected: str) -> None:
    settings.CLIENT_IP_HEADER = header
    request = RequestFactory().post("/api/v1/reminders", REMOTE_ADDR="10.0.0.9", **meta)
    assert client_ip(request) == expected


def test_one_ipv6_network_is_one_client(settings: Any) -> None:
    # Anyone with an IPv6 /64 (a home line, a cheap server) has 2**64 addresses to rotate through.
    settings.TRUSTED_PROXY_HOPS = 0
    first = client_ip(_request(remote="2001:db8:1:2::1"))
    other = client_ip(_request(remote="2001:db8:1:2:ffff:1:2:3"))
    assert first == other == "2001:db8:1:2::/64"
    assert client_ip(_request(remote="2001:db8:1:3::1")) != first
    assert client_ip(_request(remote="::ffff:203.0.113.7")) == "203.0.113.7"

from __future__ import annotations

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

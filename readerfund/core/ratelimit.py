"""Fixed-window rate limits stored in the database (no extra server), keyed by a keyed hash.

The raw key (an IP, an address) is hashed with the privacy key and windows expire, so the table
cannot be read back into who did what.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from readerfund.core.counting import counter_add
from readerfund.core.models import RateLimitWindow
from readerfund.core.privacy import lookup_hash


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts. Please wait {retry_after} seconds and try again.")
        self.retry_after = retry_after


def client_ip(request: HttpRequest) -> str:
    """The one place the reader's address is read (for per-IP limits; only ever hashed, never logged).

    By default the connection's own address (TRUSTED_PROXY_HOPS = 0): without a proxy in front, any
    X-Forwarded-For is whatever the client wrote, and trusting it let anyone rotate it past every per-IP
    limit. Behind a CDN that sets its own header (CLIENT_IP_HEADER, e.g. CF-Connecting-IP), that header.
    Behind TRUSTED_PROXY_HOPS proxies that append to X-Forwarded-For, the address the outermost one saw:
    only the last `hops` entries are facts, anything left of them the client's own writing.

    An IPv6 address counts as its /64: one home line or server holds 2**64 of them.
    """
    address = ""
    if settings.CLIENT_IP_HEADER:
        address = request.META.get(_meta_name(settings.CLIENT_IP_HEADER), "").strip()
    elif settings.TRUSTED_PROXY_HOPS > 0:
        hops = settings.TRUSTED_PROXY_HOPS
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if forwarded:
            address = forwarded[-min(hops, len(forwarded))]
    return _client_key(address) or _client_key(request.META.get("REMOTE_ADDR", "")) or "unknown"


def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _window(now: datetime | None, window_seconds: int) -> tuple[int, int, datetime]:
    epoch = int((now or timezone.now()).timestamp())
    start_epoch = epoch - epoch % window_seconds
    return epoch, start_epoch, datetime.fromtimestamp(start_epoch, tz=UTC)


def rate_limit_count(*, scope: str, key: str, window_seconds: int, now: datetime | None = None, add: int = 1) -> int:
    """Add `add` attempts to the current window of `key` in `scope`; returns the window's count after it."""
    _, _, window_start = _window(now, window_seconds)
    key_hash = lookup_hash(key, scope=f"ratelimit:{scope}")
    expires_at = window_start + timedelta(seconds=window_seconds)
    with transaction.atomic():
        if add:
            counter_add(
                RateLimitWindow,
                key={"key_hash": key_hash, "window_start": window_start},
                increments={"count": add},
                defaults={"expires_at": expires_at},
            )
        counts = RateLimitWindow.objects.filter(key_hash=key_hash, window_start=window_start).values_list(
            "count", flat=True
        )
        return counts[0] if counts else 0


def rate_limit_peek(*, scope: str, key: str, window_seconds: int, now: datetime | None = None) -> int:
    """The current window's count, without counting anything."""
    return rate_limit_count(scope=scope, key=key, window_seconds=window_seconds, now=now, add=0)


def rate_limit_first(*, scope: str, key: str, keep_until: datetime) -> bool:
    """True the first time `key` is seen in `scope`: a single-use mark (a proof of work's challenge, a decline
    already counted), kept as a keyed hash like every window until `keep_until`. One row per key, not per
    fixed window, so no window boundary forgets a mark early (a replay just after it would pass)."""
    key_hash = lookup_hash(key, scope=f"ratelimit:{scope}")
    with transaction.atomic():
        counter_add(
            RateLimitWindow,
            key={"key_hash": key_hash, "window_start": _MARK},
            increments={"count": 1},
            defaults={"expires_at": keep_until},
        )
        count = RateLimitWindow.objects.filter(key_hash=key_hash, window_start=_MARK).values_list("count", flat=True)[0]
    return count == 1


_MARK = datetime(2000, 1, 1, tzinfo=UTC)  # the window_start of single-use marks


def rate_limit_hit(*, scope: str, key: str, limit: int, window_seconds: int, now: datetime | None = None) -> None:
    """Count one attempt; raise RateLimited when the window already holds `limit` attempts."""
    epoch, start_epoch, _ = _window(now, window_seconds)
    count = rate_limit_count(scope=scope, key=key, window_seconds=window_seconds, now=now)
    if count > limit:
        raise RateLimited(retry_after=max(1, start_epoch + window_seconds - epoch))


def rate_limit_prune(*, now: datetime | None = None) -> int:
    deleted, _ = RateLimitWindow.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def rate_limit_forget(*, scope: str, key: str) -> int:
    """Delete every window counted for `key` in `scope` (a supporter erasing their data: the keyed hash
    of their address must not outlive it, even for the hour a window lasts). Returns how many."""
    deleted, _ = RateLimitWindow.objects.filter(key_hash=lookup_hash(key, scope=f"ratelimit:{scope}")).delete()
    return deleted

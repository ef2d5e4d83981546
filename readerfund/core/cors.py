"""CORS for the public API: a newsroom's configured origins only. No credentials are ever allowed.

The core knows no newsroom: the newsrooms app hands it, once at start-up (its AppConfig.ready), the
function that lists every newsroom's origins by slug (`cors_origins_source_set`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# () -> {newsroom slug: its allowed origins}; set by readerfund.newsrooms.apps.
OriginsSource = Callable[[], dict[str, frozenset[str]]]
_source: list[OriginsSource] = []

# An edit to a newsroom's origins reaches every process within this many seconds.
_REFRESH_SECONDS = 30.0

# One entry, "all": (loaded at, slug -> origins). All newsrooms at once, so a request naming an
# unknown slug costs neither a query nor a cache entry.
_origins_cache: dict[str, tuple[float, dict[str, frozenset[str]]]] = {}


def cors_origins_source_set(source: OriginsSource) -> None:
    """Where the allowed origins come from (the newsrooms app calls this when Django starts)."""
    _source[:] = [source]
    _origins_cache.clear()


def _origins_by_slug() -> dict[str, frozenset[str]]:
    cached = _origins_cache.get("all")
    now = time.monotonic()
    if cached and now - cached[0] < _REFRESH_SECONDS:
        return cached[1]
    if not _source:
        raise RuntimeError("No CORS origins source: readerfund.newsrooms must be in INSTALLED_APPS.")
    by_slug = _source[0]()
    _origins_cache["all"] = (now, by_slug)
    return by_slug


def _allowed(origin: str, slug: str | None) -> bool:
    by_slug = _origins_by_slug()
    if slug is not None:
        return origin in by_slug.get(slug, frozenset())
    return any(origin in origins for origins in by_slug.values())


def cors_headers(request: HttpRequest, slug: str | None) -> dict[str, str]:
    """Allow the origin if the newsroom (any newsroom when slug is None) lists it."""
    return cors_allow(request.META.get("HTTP_ORIGIN", ""), slug)


def cors_allow(origin: str, slug: str | None) -> dict[str, str]:
    origin = origin.rstrip("/")
    if not origin or not _allowed(origin, slug):
        return {}
    return {"Access-Control-Allow-Origin": origin}


# The answer names the origin or not depending on Origin: a cache must keep them apart.
_VARY = "Origin"


def cors_answer_headers(origin: str, slug: str | None) -> list[tuple[str, str]]:
    """The CORS headers of an answer (not a preflight) to a request from `origin`.

    On plain data, so the beacon answered before Django (appeals/beacon.py) adds the same ones.
    """
    return [("Vary", _VARY), *cors_allow(origin, slug).items()]


def cors_preflight_headers(origin: str, slug: str | None) -> list[tuple[str, str]]:
    headers = cors_allow(origin, slug)
    if headers:
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, If-None-Match",
            "Access-Control-Max-Age": "86400",
        }
    return [("Vary", _VARY), *headers.items()]


def cors_apply(request: HttpRequest, response: HttpResponse, slug: str | None) -> HttpResponse:
    """Add the CORS answer for this request's origin to a response, and return it.

    `Vary: Origin` always, whatever the origin (or none): the answer depends on it, and a cache in front
    would otherwise hand one origin's answer, with or without its Access-Control-Allow-Origin, to another."""
    for name, value in cors_answer_headers(request.META.get("HTTP_ORIGIN", ""), slug):
        if name == "Vary":
            patch_vary_headers(response, [value])
        else:
            response[name] = value
    return response


def cors_preflight(request: HttpRequest, slug: str | None) -> HttpResponse:
    response = HttpResponse(status=204)
    for name, value in cors_preflight_headers(request.META.get("HTTP_ORIGIN", ""), slug):
        response[name] = value
    return response


def cors_cache_clear() -> None:
    _origins_cache.clear()

"""CORS for the public API: a newsroom's configured origins only. No credentials are ever allowed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from readerfund.newsrooms.models import Newsroom

_origins_cache: dict[str | None, tuple[float, set[str]]] = {}


def _allowed_origins(slug: str | None) -> set[str]:
    import time

    cached = _origins_cache.get(slug)
    if cached and time.monotonic() - cached[0] < 30:
        return cached[1]
    rows = Newsroom.objects.all() if slug is None else Newsroom.objects.filter(slug=slug)
    origins = {origin for newsroom in rows.only("allowed_origins") for origin in newsroom.origins}
    _origins_cache[slug] = (time.monotonic(), origins)
    return origins


def cors_headers(request: HttpRequest, slug: str | None) -> dict[str, str]:
    origin = request.META.get("HTTP_ORIGIN", "").rstrip("/")
    if not origin or origin not in _allowed_origins(slug):
        return {}
    return {"Access-Control-Allow-Origin": origin}


def cors_preflight(request: HttpRequest, slug: str | None) -> HttpResponse:
    response = HttpResponse(status=204)
    headers = cors_headers(request, slug)
    if headers:
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, If-None-Match",
            "Access-Control-Max-Age": "86400",
        }
    for name, value in headers.items():
        response[name] = value
    return response

"""Public API: the published appeals document and aggregate events. No cookies, no reader data."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from readerfund.appeals import counters
from readerfund.appeals.selectors import (
    published_campaign_exists,
    published_response,
    published_variant_exists,
)
from readerfund.core.cors import cors_headers, cors_preflight
from readerfund.core.http import ApiError, field, json_body

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LOCALE = re.compile(r"^[a-z]{2,3}$")


def _country(request: HttpRequest) -> str | None:
    header = "HTTP_" + settings.COUNTRY_HEADER.upper().replace("-", "_")
    value = request.META.get(header, "").strip().upper()
    # Cloudflare sends XX for unknown and T1 for Tor: treat both as unknown.
    return value if _COUNTRY.match(value) and value not in {"XX", "T1"} else None


def appeals_json(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors_preflight(request, slug)
    if request.method not in ("GET", "HEAD"):
        return ApiError(405, "method_not_allowed", "Use GET.").response()
    locale = (request.GET.get("locale") or "en").lower()[:3]
    if not _LOCALE.match(locale):
        return ApiError(400, "invalid_locale", "locale must be a language code such as 'en' or 'ru'.").response()
    published = published_response(slug=slug, country=_country(request), locale=locale)
    if published is None:
        return ApiError(404, "unknown_newsroom", f"No newsroom '{slug}' is published here.").response()
    body, etag = published
    headers = {
        "Cache-Control": f"public, max-age={settings.APPEALS_MAX_AGE}",
        "ETag": etag,
        "Vary": f"{settings.COUNTRY_HEADER}, Origin",
        **cors_headers(request, slug),
    }
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
def events(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors_preflight(request, None)
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", "Use POST with a JSON body.")
        data = json_body(request)
        slug = field(data, "newsroom", str)
        event = field(data, "event", str)
        campaign_id = field(data, "campaign", int)
        variant_id = field(data, "variant", int)
        if event not in counters.EVENT_FIELDS:
            raise ApiError(
                400,
                "unknown_event",
                f"Unknown event '{event}'; use one of {', '.join(counters.EVENT_FIELDS)}.",
            )
        exists = published_variant_exists(slug=slug, campaign_id=campaign_id, variant_id=variant_id)
        if exists is None:
            raise ApiError(404, "unknown_newsroom", f"No newsroom '{slug}' is published here.")
        if not exists:
            if not published_campaign_exists(slug=slug, campaign_id=campaign_id):
                raise ApiError(404, "unknown_campaign", f"Campaign {campaign_id} is not live for '{slug}'.")
            raise ApiError(404, "unknown_variant", f"Variant {variant_id} is not part of campaign {campaign_id}.")
    except ApiError as error:
        response: HttpResponse = error.response()
    else:
        counters.event_record(variant_id=variant_id, event=event)
        response = HttpResponse(status=204)
    for name, value in cors_headers(request, None).items():
        response[name] = value
    return response


def bare(request: HttpRequest) -> HttpResponse:
    """A constant JSON of the published document's size: the benchmarks' baseline."""
    return HttpResponse(_BARE_BODY, content_type="application/json")


_BARE_BODY = JsonResponse({"padding": "x" * 1500}).content

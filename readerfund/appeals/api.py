"""Public API: the published appeals document and aggregate events. No cookies, no reader data."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.views.decorators.csrf import csrf_exempt

from readerfund.appeals import counters
from readerfund.appeals.selectors import (
    published_campaign_exists,
    published_response,
    published_variant_exists,
)
from readerfund.core.cors import cors_answer_headers, cors_apply, cors_preflight, cors_preflight_headers
from readerfund.core.http import (
    Answer,
    ApiError,
    answer_response,
    etag_matches,
    field,
    json_object,
    method_not_allowed,
    method_not_allowed_answer,
    read_body,
)

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LOCALE = re.compile(r"^[a-z]{2,3}$")


def _country(request: HttpRequest) -> str | None:
    header = "HTTP_" + settings.COUNTRY_HEADER.upper().replace("-", "_")
    value = request.META.get(header, "").strip().upper()
    # Cloudflare sends XX for unknown and T1 for Tor: treat both as unknown.
    return value if _COUNTRY.match(value) and value not in {"XX", "T1"} else None


def _locale(request: HttpRequest) -> str | None:
    """The language of ?locale=, e.g. 'ru' from 'ru-RU'; None (the newsroom's default) when absent."""
    return _locale_in_query(request.META.get("QUERY_STRING", ""))


# Pageviews repeat a handful of query strings: parsing each once saves a QueryDict per request.
@functools.lru_cache(maxsize=256)
def _locale_in_query(query_string: str) -> str | None:
    raw = QueryDict(query_string).get("locale", "").strip()
    if not raw:
        return None
    language = re.split(r"[-_]", raw, maxsplit=1)[0].lower()
    if not _LOCALE.match(language):
        raise ApiError(400, "invalid_locale", f"locale must be a language code such as 'en' or 'ru', not {raw[:20]!r}.")
    return language


def appeals_json(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors_preflight(request, slug)
    if request.method not in ("GET", "HEAD"):
        response: HttpResponse = method_not_allowed(
            ("GET", "HEAD", "OPTIONS"), "Use GET to read the published appeals."
        )
    else:
        try:
            published = published_response(slug=slug, country=_country(request), locale=_locale(request))
            if published is None:
                raise ApiError(404, "unknown_newsroom", f"No newsroom '{slug}' is published here.")
        except ApiError as error:
            response = error.response()
        else:
            body, etag = published
            if etag_matches(etag, request.META.get("HTTP_IF_NONE_MATCH", "")):
                response = HttpResponseNotModified()
            else:
                response = HttpResponse(body, content_type="application/json")
            response["ETag"] = etag
            response["Cache-Control"] = f"public, max-age={settings.APPEALS_MAX_AGE}"
            # Origin is here only because the CORS answer depends on it; each newsroom's readers send one.
            response["Vary"] = f"{settings.COUNTRY_HEADER}, Origin"
    return cors_apply(request, response, slug)


@csrf_exempt
def events(request: HttpRequest) -> HttpResponse:
    method = request.method or ""
    return answer_response(events_answer(method, request.META.get("HTTP_ORIGIN", ""), lambda: read_body(request)))


def events_answer(method: str, origin: str, body: Callable[[], bytes]) -> Answer:
    """The events endpoint on plain data: Django's view above and the beacon answered before Django
    (appeals/beacon.py) both answer through this, so validation, CORS and errors exist once."""
    if method == "OPTIONS":
        return Answer(204, cors_preflight_headers(origin, None))
    if method != "POST":
        answer = method_not_allowed_answer(("POST", "OPTIONS"), "Use POST with a JSON body.")
    else:
        try:
            variant_id, event = event_parse(body())
        except ApiError as error:
            answer = error.answer()
        else:
            counters.event_record(variant_id=variant_id, event=event)
            answer = Answer(204)
    answer.headers += cors_answer_headers(origin, None)
    return answer


def event_parse(raw: bytes) -> tuple[int, str]:
    """The (variant, event) a valid body names; ApiError says what is wrong with any other."""
    data = json_object(raw, refuse_nul=False)
    slug = field(data, "newsroom", str)
    event = field(data, "event", str)
    campaign_id = field(data, "campaign", int)
    variant_id = field(data, "variant", int)
    if event not in counters.EVENT_FIELDS:
        choices = ", ".join(counters.EVENT_FIELDS)
        raise ApiError(400, "unknown_event", f"Unknown event {event[:40]!r}; use one of {choices}.", field="event")
    exists = published_variant_exists(slug=slug, campaign_id=campaign_id, variant_id=variant_id)
    if exists is None:
        raise ApiError(404, "unknown_newsroom", f"No newsroom {slug[:60]!r} is published here.", field="newsroom")
    if not exists:
        if not published_campaign_exists(slug=slug, campaign_id=campaign_id):
            raise ApiError(
                404, "unknown_campaign", f"Campaign {campaign_id} is not live for '{slug}'.", field="campaign"
            )
        raise ApiError(
            404, "unknown_variant", f"Variant {variant_id} is not part of campaign {campaign_id}.", field="variant"
        )
    return variant_id, event


_MAX_BARE_BYTES = 64 * 1024


@functools.lru_cache(maxsize=8)
def _bare_body(size: int) -> bytes:
    overhead = len(b'{"padding":""}')
    return b'{"padding":"' + b"x" * max(size - overhead, 0) + b'"}'


def bare(request: HttpRequest) -> HttpResponse:
    """A constant JSON, by default about the published document's size: the benchmarks' baseline.

    ?size=N makes it N bytes, so a benchmark can match the document it compares against.
    """
    if not settings.DEMO:
        # Only the demo and the benchmarks need it; production doesn't serve it.
        return ApiError(404, "not_found", "No such endpoint.").response()
    try:
        size = min(max(int(request.GET.get("size", "1500")), 0), _MAX_BARE_BYTES)
    except ValueError:
        size = 1500
    return HttpResponse(_bare_body(size), content_type="application/json")

"""Middleware that keeps the public endpoints public: no cookies, no page machinery, JSON errors."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, resolve

from readerfund.core.http import ApiError, length_headers

# Public, cacheable endpoints: their responses must vary only on what they say they vary on.
_PUBLIC_PREFIXES = ("/api/", "/embed.js", "/healthz", "/webhooks/")
_API_PREFIX = "/api/"

logger = logging.getLogger(__name__)


class PublicApiMiddleware:
    """Serve /api/ straight from the URL's view, past sessions, CSRF, auth and messages.

    The API reads no cookie and sets none, so the page middleware below this one has nothing to do
    there but cost time on every pageview's request, and each of them could add a Set-Cookie or a
    `Vary: Cookie` that would split every cache. Put it right after SecurityMiddleware. Unknown API
    paths and unexpected errors answer JSON, so a developer's client never parses an HTML page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(_API_PREFIX):
            return self.get_response(request)
        response = self._answer(request)
        if isinstance(response, HttpResponse) and not response.has_header("Content-Length"):
            for name, value in length_headers(response.status_code, response.content):
                response[name] = value
        return response

    def _answer(self, request: HttpRequest) -> HttpResponseBase:
        try:
            # CommonMiddleware would check the Host against ALLOWED_HOSTS; it is skipped, so check here.
            request.get_host()
            match = resolve(request.path_info)
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        except Resolver404:
            return ApiError(
                404, "unknown_endpoint", f"No API endpoint at {request.path_info[:100]}; see /api/v1/openapi.json."
            ).response()
        except SuspiciousOperation as exc:  # a disallowed Host, too many query fields, …
            return ApiError(400, "bad_request", str(exc)[:200] or "The request was refused.").response()
        except Exception:
            return api_internal_error(request.path_info).response()


def api_internal_error(path: str) -> ApiError:
    """Log the exception being handled and say so; the beacon answered before Django (appeals/beacon.py)
    answers its errors through this too."""
    # The path names only a newsroom; nothing about the reader goes into the log.
    logger.exception("API error on %s", path[:100])
    return ApiError(500, "internal_error", "Something went wrong on our side; it has been logged.")


# Where the API's requests leave Django's middleware (above): what comes after never sees them.
API_MIDDLEWARE = f"{__name__}.PublicApiMiddleware"


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for pages only; the public API picks its locale from the query."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path.startswith(_PUBLIC_PREFIXES):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(_PUBLIC_PREFIXES):
            return response
        return super().process_response(request, response)

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware

# Public, cacheable endpoints: their responses must vary only on what they say they vary on.
_PUBLIC_PREFIXES = ("/api/", "/embed.js", "/healthz", "/webhooks/")


class PageLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for pages only; the public API picks its locale from the query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        super().__init__(get_response)

    def process_request(self, request: HttpRequest) -> None:
        if not request.path.startswith(_PUBLIC_PREFIXES):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith(_PUBLIC_PREFIXES):
            return response
        return super().process_response(request, response)

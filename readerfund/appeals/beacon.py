"""The events beacon answered before Django's request cycle: the one request a pageview costs the origin.

`events_first(application)` wraps Django's WSGI application (config/wsgi.py). A request for exactly
`/api/v1/events` is answered here by the endpoint's own code, `appeals.api.events_answer` (validation,
counting, CORS, errors: the Django view answers through the same function); everything else goes to
Django. What is skipped is the machinery around the view: the request and response objects, the request
signals, URL resolution and the middleware, which cost about nine tenths of the request's time.

The headers Django's middleware adds to an API response (SecurityMiddleware's and whatever is listed
above `PublicApiMiddleware` in MIDDLEWARE, the only ones that see /api/) are not written down here:
they are read off the real middleware, run once on a stand-in response per distinct (Host, scheme,
content type), and stamped on every answer. So a header added to that middleware reaches both paths;
the Host check is Django's own, in the same step, and a request it refuses (or that the middleware
answers itself, such as an https redirect) is handed to Django to answer. This holds for middleware that
decides an API response's headers from the Host and the scheme only, as SecurityMiddleware does;
tests/appeals/test_beacon.py compares both paths' answers header for header, and fails otherwise.
"""

from __future__ import annotations

import functools
import io
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, setting_changed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.module_loading import import_string

from readerfund.appeals.api import events_answer
from readerfund.core.http import environ_body, length_headers
from readerfund.core.middleware import API_MIDDLEWARE, api_internal_error

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Distinct (Host, scheme) keys a process remembers; a client rotating its Host header past this
# costs one pass through the middleware per request, about what Django's path costs.
_KEYS = 256
_JSON = "application/json"


def events_first(application: WSGIApplication) -> WSGIApplication:
    path = reverse("events")

    def events_or_django(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != path or environ.get("SCRIPT_NAME") or _script_forced:
            return application(environ, start_response)
        stamped = _middleware_headers(*_key(environ))
        if stamped is None:  # refused Host, or the middleware answers this request itself
            return application(environ, start_response)
        try:
            answer = events_answer(
                # Upper case, as Django's request.method is.
                environ.get("REQUEST_METHOD", "").upper(),
                environ.get("HTTP_ORIGIN", ""),
                lambda: environ_body(environ),
            )
        except Exception:
            answer = api_internal_error(path).answer()
        content_type = _JSON if answer.body else None
        framing = length_headers(answer.status, answer.body)
        start_response(_status_line(answer.status), answer.headers + stamped[content_type] + framing)
        _connections_tidy()
        return [answer.body]

    return events_or_django


@functools.cache
def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


# The environ keys Django reads for the Host check and request.is_secure(), as the settings say; read
# once (settings are read per request otherwise), again when a test changes them.
_key_names: tuple[str, str, str] = ("", "", "")
_script_forced = False  # FORCE_SCRIPT_NAME: Django then resolves other paths; leave it all to Django


def _key_names_read(**_kwargs: Any) -> None:
    global _key_names, _script_forced
    _script_forced = bool(settings.FORCE_SCRIPT_NAME)
    _key_names = (
        "HTTP_X_FORWARDED_HOST" if settings.USE_X_FORWARDED_HOST else "",
        "HTTP_X_FORWARDED_PORT" if settings.USE_X_FORWARDED_PORT else "",
        settings.SECURE_PROXY_SSL_HEADER[0] if settings.SECURE_PROXY_SSL_HEADER else "",
    )
    _middleware_headers.cache_clear()


def _key(environ: dict[str, Any]) -> tuple[str, ...]:
    forwarded_host, forwarded_port, proxy_ssl = _key_names
    get = environ.get
    return (
        get("HTTP_HOST", ""),
        get(forwarded_host, "") if forwarded_host else "",
        get(forwarded_port, "") if forwarded_port else "",
        get("SERVER_NAME", ""),
        str(get("SERVER_PORT", "")),
        get("wsgi.url_scheme", "http"),
        get(proxy_ssl, "") if proxy_ssl else "",
    )


@functools.lru_cache(maxsize=_KEYS)
def _middleware_headers(
    host: str,
    forwarded_host: str,
    forwarded_port: str,
    server_name: str,
    server_port: str,
    scheme: str,
    proxy_ssl: str,
) -> dict[str | None, list[tuple[str, str]]] | None:
    """The headers the API's middleware adds to a JSON answer and to an empty one, for a request with
    these values; None when Django must answer (a refused Host, or the middleware answers by itself)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("events"),
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
    }
    for name, value in (
        ("HTTP_HOST", host),
        ("HTTP_X_FORWARDED_HOST", forwarded_host),
        ("HTTP_X_FORWARDED_PORT", forwarded_port),
    ):
        if value:
            environ[name] = value
    if settings.SECURE_PROXY_SSL_HEADER and proxy_ssl:
        environ[settings.SECURE_PROXY_SSL_HEADER[0]] = proxy_ssl
    request = WSGIRequest(environ)
    try:
        request.get_host()  # PublicApiMiddleware's check, Django's rules
    except DisallowedHost:
        return None
    learned: dict[str | None, list[tuple[str, str]]] = {}
    for content_type in (None, _JSON):
        stand_in = HttpResponse(status=200)
        del stand_in["Content-Type"]
        if content_type:
            stand_in["Content-Type"] = content_type
        response = _api_middleware(functools.partial(_stand_in_view, stand_in))(request)
        if response is not stand_in:
            return None
        learned[content_type] = [(name, value) for name, value in response.items() if name != "Content-Type"]
    return learned


def _stand_in_view(response: HttpResponse, _request: HttpRequest) -> HttpResponse:
    return response


def _api_middleware(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """The middleware above PublicApiMiddleware around `view`, built as Django's handler builds it."""
    names = list(settings.MIDDLEWARE)
    handler: Callable[[HttpRequest], Any] = convert_exception_to_response(view)
    for name in reversed(names[: names.index(API_MIDDLEWARE)]):
        try:
            handler = convert_exception_to_response(import_string(name)(handler))
        except MiddlewareNotUsed:
            continue
    return handler


_tidied = threading.local()
_TIDY_SECONDS = 1.0


def _connections_tidy() -> None:
    # Django ends every request with request_finished, whose receiver closes the thread's database
    # connection once it is too old (CONN_MAX_AGE) or broken. The beacon queries only when a cache
    # refreshes, and the check costs as much as the rest of its answer: each thread sends it at most
    # once a second instead. (Tests keep their own connection as Django's test client does: by
    # disconnecting close_old_connections from the signal.)
    now = time.monotonic()
    if now - getattr(_tidied, "at", 0.0) >= _TIDY_SECONDS:
        _tidied.at = now
        request_finished.send(sender=events_first)


setting_changed.connect(_key_names_read)
_key_names_read()

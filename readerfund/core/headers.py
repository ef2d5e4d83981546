"""The security headers of every response of ours, in one place: the pages' middleware applies them, and
so can any path that answers before Django (`security_headers` takes no request).

- Content-Security-Policy. Pages: scripts only from us, an inline script only with the request's nonce,
  and on payment pages Stripe.js from its own origin (js.stripe.com, or the emulator's stand-in: a page
  that renders `{% stripe_js %}` says so on the request). Everything else (JSON, scripts, files): nothing
  may run or be framed at all.
- Permissions-Policy: no camera, microphone, location, sensors, USB; the Payment Request API only for
  us and Stripe on payment pages.
- Strict-Transport-Security when the site is served over https (HSTS_SECONDS; on by default then).
- X-Content-Type-Options and Referrer-Policy, which Django's SecurityMiddleware also sets.
- Reader pages' CSRF cookie lives READER_CSRF_COOKIE_SECONDS, not Django's year: on a shared or seized
  device a year-old cookie from a newsroom's support page says its reader gave.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import http_date

# What Stripe.js itself needs besides its script (Stripe's CSP guide): its API, and the frames of its
# card fields and of 3-D Secure.
_STRIPE_JS_ORIGIN = "https://js.stripe.com"
_STRIPE_CONNECT = ("https://api.stripe.com",)
_STRIPE_FRAMES = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")

# Only features browsers know: an unknown one is a console warning on every page.
_PERMISSIONS = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), usb=(), serial=(), hid=(), browsing-topics=()"
)
_NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_ADMIN_PREFIX = "/admin/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def content_security_policy(*, nonce: str, payment_script_urls: Iterable[str] = ()) -> str:
    """A page's policy. No 'unsafe-inline' for scripts, no 'unsafe-eval', no third party but Stripe on
    payment pages. Styles may be inline: our pages carry their small stylesheet and style attributes,
    which a nonce cannot cover, and a style cannot run code."""
    stripe = sorted({origin for origin in map(_origin, payment_script_urls) if origin})
    real_stripe = _STRIPE_JS_ORIGIN in stripe
    scripts = ["'self'", f"'nonce-{nonce}'", *stripe]
    connect = ["'self'", *stripe, *(_STRIPE_CONNECT if real_stripe else ())]
    frames = [*stripe, *(_STRIPE_FRAMES if real_stripe else ())] or ["'none'"]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(scripts)}",
            "script-src-attr 'none'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            f"frame-src {' '.join(sorted(set(frames)))}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def permissions_policy(*, payment_script_urls: Iterable[str] = ()) -> str:
    stripe = sorted({origin for origin in map(_origin, payment_script_urls) if origin})
    payment = f"payment=(self {' '.join(f'{chr(34)}{o}{chr(34)}' for o in stripe)})" if stripe else "payment=()"
    return f"{_PERMISSIONS}, {payment}"


def hsts_applies(*, secure: bool) -> bool:
    """Sent when this request came over https, or the site is served over https (TLS ended by a proxy in
    front, so we see http): browsers ignore the header on plain http anyway (RFC 6797)."""
    return settings.HSTS_SECONDS > 0 and (secure or settings.SITE_URL.startswith("https://"))


def security_headers(
    *, page: bool, secure: bool, nonce: str | None = None, payment_script_urls: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """The headers for one response. `page`: an HTML page of ours (then `nonce` is the one its inline
    scripts carry); otherwise JSON, a script or a file. Pure apart from settings: a fast path that
    answers before Django calls it too."""
    urls = tuple(payment_script_urls)
    if page:
        if nonce is None:
            raise ValueError("a page's policy needs the nonce its inline scripts carry")
        csp = content_security_policy(nonce=nonce, payment_script_urls=urls)
    else:
        csp = _NOT_A_PAGE_CSP
    headers = [
        ("Content-Security-Policy", csp),
        ("Permissions-Policy", permissions_policy(payment_script_urls=urls)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin"),
    ]
    if hsts_applies(secure=secure):
        headers.append(("Strict-Transport-Security", f"max-age={settings.HSTS_SECONDS}; includeSubDomains"))
    return headers


def csp_nonce(request: HttpRequest) -> str:
    """This request's nonce (made on first use). Templates write `nonce="{{ csp_nonce }}"`."""
    nonce = getattr(request, "_csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request._csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


def payment_script_allow(request: HttpRequest, url: str) -> None:
    """This page loads Stripe.js from `url`: its policy allows that origin (and what Stripe.js needs)."""
    urls: set[str] = getattr(request, "_csp_payment_scripts", set())
    urls.add(url)
    request._csp_payment_scripts = urls  # type: ignore[attr-defined]


def csp_context(request: HttpRequest) -> dict[str, object]:
    """Template context processor: `{{ csp_nonce }}`, made only if the page uses it."""
    return {"csp_nonce": SimpleLazyObject(lambda: csp_nonce(request))}


def _is_page(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def reader_csrf_cookie_shorten(request: HttpRequest, response: HttpResponseBase) -> None:
    cookie = response.cookies.get(settings.CSRF_COOKIE_NAME)
    if cookie is None or request.path.startswith(_ADMIN_PREFIX) or not cookie.value:
        return
    seconds = settings.READER_CSRF_COOKIE_SECONDS
    cookie["max-age"] = seconds
    cookie["expires"] = http_date((timezone.now() + timedelta(seconds=seconds)).timestamp())


class SecurityHeadersMiddleware:
    """First in MIDDLEWARE: every response passes here, the public API's and error pages included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        page = _is_page(response)
        headers = security_headers(
            page=page,
            secure=request.is_secure(),
            nonce=csp_nonce(request) if page else None,
            payment_script_urls=getattr(request, "_csp_payment_scripts", ()),
        )
        for name, value in headers:
            # A view's own, stricter choice stands (the e-mail link pages send no Referer at all).
            response.setdefault(name, value)
        reader_csrf_cookie_shorten(request, response)
        return response

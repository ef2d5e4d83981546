"""The supporter's sign-in pages under /account/<newsroom>/ (the signed-in page itself: supporters/page.py).

Views parse, call one service, render. Whatever the address, the sign-in form answers with the same page
(word for word): a reader's page must not tell a stranger who supports this newsroom. The rate limits
answer with that page too. Nothing here logs an address, a name or a token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from readerfund.checkout.validation import locale_pick
from readerfund.core.locales import locale_or
from readerfund.core.privacy import email_checked
from readerfund.core.ratelimit import RateLimited, client_ip, rate_limit_hit
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Supporter
from readerfund.supporters import signin
from readerfund.supporters.copy import page_copy
from readerfund.supporters.renewal_link import signin_next_pop
from readerfund.supporters.session import (
    supporter_current,
    supporter_session_end,
    supporter_session_start,
)

# (attempts, window in seconds). Sending: a stranger must not flood someone's inbox. Codes: 8 digits are
# guessable only by many tries; these cap them across re-sent e-mails and addresses.
LIMITS = {
    "send-ip": (10, 600),
    "send-address": (5, 3600),
    "code-ip": (20, 600),
    "code-address": (10, 3600),
}


def _limit(scope: str, key: str) -> None:
    limit, window = LIMITS[scope]
    rate_limit_hit(scope=f"supporters:{scope}", key=key, limit=limit, window_seconds=window)


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store"
    return response


def _locale(request: HttpRequest, newsroom: Newsroom) -> str:
    return locale_pick(request.POST.get("locale") or request.GET.get("locale"), newsroom)


def _not_found(request: HttpRequest) -> HttpResponse:
    locale = locale_or(request.GET.get("locale"))
    context = {"t": page_copy(locale, newsroom=""), "locale": locale, "newsroom": None}
    return render(request, "supporters/not_found.html", context, status=404)


def _signin_page(
    request: HttpRequest, newsroom: Newsroom, locale: str, *, status: int = 200, **context: Any
) -> HttpResponseBase:
    t = page_copy(locale, newsroom=newsroom.name)
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "error_text": t.get(context.get("error", ""), ""),
        "send_url": reverse("supporters-signin", args=[newsroom.slug]),
        "code_url": reverse("supporters-code", args=[newsroom.slug]),
        **context,
    }
    return _no_store(render(request, "supporters/signin.html", context, status=status))


def _home_url(newsroom: Newsroom, locale: str) -> str:
    return reverse("supporters-home", args=[newsroom.slug]) + "?" + urlencode({"locale": locale})


def _signed_in(request: HttpRequest, newsroom: Newsroom, supporter: Supporter, locale: str) -> HttpResponseBase:
    # As Django's login does: a CSRF cookie planted before the sign-in (a sibling subdomain can set one)
    # must not sign the supporter's own forms (pause, cancel, erase) afterwards.
    rotate_token(request)
    response = HttpResponseRedirect(_home_url(newsroom, locale), status=303)
    # A failed renewal's link sent the reader here on the way to a card page (supporters/renewal_link.py).
    card_path = signin_next_pop(request, response, supporter=supporter)
    if card_path:
        response["Location"] = card_path + "?" + urlencode({"locale": locale})
    supporter_session_start(response=response, supporter=supporter)
    return _no_store(response)


def _address(raw: str) -> str | None:
    try:
        return email_checked(raw)
    except ValidationError:
        return None


@require_http_methods(["GET", "POST"])
def account_signin(request: HttpRequest, slug: str) -> HttpResponseBase:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None:
        return _not_found(request)
    locale = _locale(request, newsroom)
    if request.method == "GET":
        if supporter_current(request, newsroom=newsroom) is not None:
            return HttpResponseRedirect(_home_url(newsroom, locale))
        return _signin_page(request, newsroom, locale, signed_out=request.GET.get("signed_out") == "1")
    address = _address(str(request.POST.get("email", "")))
    if address is None:
        return _signin_page(request, newsroom, locale, status=400, error="invalid_email")
    try:
        _limit("send-ip", client_ip(request))
        _limit("send-address", f"{newsroom.id}:{address}")
    except RateLimited:
        # The same answer as a sent e-mail: a limit must not tell a prober anything either.
        return _signin_page(request, newsroom, locale, sent=True, email=address)
    signin.signin_request(newsroom=newsroom, email=address, locale=locale)
    return _signin_page(request, newsroom, locale, sent=True, email=address)


@require_POST
def account_code(request: HttpRequest, slug: str) -> HttpResponseBase:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None:
        return _not_found(request)
    locale = _locale(request, newsroom)
    address = _address(str(request.POST.get("email", "")))
    code = str(request.POST.get("code", ""))[:40]
    if address is None:
        return _signin_page(request, newsroom, locale, status=400, error="invalid_email", code_form=True)
    wrong: dict[str, Any] = {"error": "code_wrong", "email": address, "code_form": True}
    try:
        _limit("code-ip", client_ip(request))
        _limit("code-address", f"{newsroom.id}:{address}")
    except RateLimited:
        # The same answer as a wrong code: a limit tells a guesser nothing about the address either.
        return _signin_page(request, newsroom, locale, status=400, **wrong)
    supporter = signin.signin_code_use(newsroom=newsroom, email=address, code=code)
    if supporter is None:
        return _signin_page(request, newsroom, locale, status=400, **wrong)
    return _signed_in(request, newsroom, supporter, locale)


@require_http_methods(["GET", "POST"])
def account_link(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    """GET shows one button and changes nothing (mail scanners follow links); its POST signs in."""
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None:
        return _not_found(request)
    locale = _locale(request, newsroom)
    if request.method == "POST":
        check = signin.signin_link_use(newsroom=newsroom, token=token)
        if check.state == "valid" and check.supporter is not None:
            return _signed_in(request, newsroom, check.supporter, locale)
    else:
        check = signin.signin_link_check(newsroom=newsroom, token=token)
    t = page_copy(locale, newsroom=newsroom.name)
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "valid": check.state == "valid",
        "new_url": reverse("supporters-signin", args=[newsroom.slug]) + "?" + urlencode({"locale": locale}),
    }
    status = {"valid": 200, "gone": 410}.get(check.state, 404)
    response = _no_store(render(request, "supporters/link.html", context, status=status))
    # The token is in this page's URL: no other site may learn it from a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def account_signout(request: HttpRequest, slug: str) -> HttpResponseBase:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None:
        return _not_found(request)
    locale = _locale(request, newsroom)
    query = urlencode({"locale": locale, "signed_out": "1"})
    response = HttpResponseRedirect(reverse("supporters-signin", args=[newsroom.slug]) + "?" + query, status=303)
    supporter_session_end(request=request, response=response)
    return _no_store(response)

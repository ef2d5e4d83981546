"""The link in a failed renewal's e-mail: /account/<newsroom>/renewal/<token>/ leads to that contribution's
card page (supporters/page.py `contribution_card`), through the sign-in when the reader is not signed in.

The token (payments/notices.py `renewal_card_token`) is signed over the contribution's random request key
and the failed invoice, and it only ever points the way: it signs no one in and changes nothing, so a mail
scanner opening it, a replay, or a forwarded e-mail gets no further than the sign-in page, which e-mails
the supporter's own address only. Once the renewal is paid, or the plan has ended, the link says so (410).

Not signed in: the card page's path is remembered in a short signed cookie (path /account/) and the reader
is sent to the sign-in page; the sign-in then lands on the card page (supporters/views.py `_signed_in`).
Only the card page of a contribution of the supporter who signs in is ever a destination (and that page
would show anyone else's id as a 404 anyway).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET

from readerfund.checkout.validation import locale_pick
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, RenewalFailure, Supporter
from readerfund.payments.notices import renewal_card_read
from readerfund.supporters.email_links_copy import link_copy
from readerfund.supporters.session import COOKIE_PATH, supporter_current

NEXT_COOKIE = "readerfund_next"
_NEXT_SALT = "readerfund.supporters.signin-next"
NEXT_SECONDS = 3600

WORDS = {
    "en": {
        "invalid_text": "It may be incomplete: check that the whole link was copied from the e-mail. "
        "You can always sign in to change your card.",
        "expired_text": "The links in these e-mails work for three weeks. Sign in to change your card.",
        "paid_title": "Nothing to do",
        "paid_text": "This payment has been made since. Thank you: there is nothing more to do.",
        "ended_title": "This contribution has ended",
        "ended_text": "Nothing more will be charged for it.",
    },
    "ru": {
        "invalid_text": "Возможно, она скопирована не целиком: проверьте, что ссылка взята из письма полностью. "
        "Сменить карту можно и войдя в личный кабинет.",
        "expired_text": "Ссылки из этих писем действуют три недели. Войдите, чтобы сменить карту.",
        "paid_title": "Ничего делать не нужно",
        "paid_text": "Этот платёж уже прошёл. Спасибо, больше ничего делать не нужно.",
        "ended_title": "Этот взнос прекращён",
        "ended_text": "Больше по нему ничего списываться не будет.",
    },
}


def _sealed(response: HttpResponseBase) -> HttpResponseBase:
    # The token in the URL is the e-mail's link: no Referer carries it elsewhere, no cache keeps the page.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _message(
    request: HttpRequest, newsroom: Newsroom | None, locale: str, kind: str, *, status: int
) -> HttpResponseBase:
    t = {**link_copy(locale, newsroom=newsroom.name if newsroom else ""), **WORDS[locale]}
    manage_url = reverse("supporters-signin", args=[newsroom.slug]) + f"?locale={locale}" if newsroom else "/"
    context = {
        "newsroom": newsroom,
        "locale": locale,
        "t": t,
        "kind": kind,
        "title": t[f"{kind}_title"],
        "text": t.get(f"{kind}_text", ""),
        "note": "",
        "manage_url": manage_url,
    }
    return _sealed(render(request, "supporters/link_message.html", context, status=status))


def signin_next_set(response: HttpResponseBase, path: str) -> None:
    response.set_signed_cookie(
        NEXT_COOKIE, path, salt=_NEXT_SALT, max_age=NEXT_SECONDS, path=COOKIE_PATH, httponly=True, samesite="Lax"
    )


def signin_next_pop(request: HttpRequest, response: HttpResponseBase, *, supporter: Supporter) -> str:
    """The card page remembered before the sign-in, if it is of one of this supporter's own contributions;
    "" otherwise (someone else's link opened in this browser leads to their own page). The cookie is
    deleted either way."""
    raw = request.get_signed_cookie(NEXT_COOKIE, default="", salt=_NEXT_SALT, max_age=NEXT_SECONDS)
    if NEXT_COOKIE in request.COOKIES:
        response.delete_cookie(NEXT_COOKIE, path=COOKIE_PATH, samesite="Lax")
    path = str(raw or "").split("?", 1)[0]
    if not path.startswith("/account/") or len(path) > 200:
        return ""
    try:
        match = resolve(path)
    except Resolver404:
        return ""
    if match.url_name != "supporters-card" or match.kwargs.get("slug") != supporter.newsroom.slug:
        return ""
    if not Contribution.objects.filter(id=int(match.kwargs["contribution_id"]), supporter=supporter).exists():
        return ""
    return path


@require_GET
def renewal_card_link(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    asked = request.GET.get("locale")
    if newsroom is None:
        return _message(request, None, "ru" if asked == "ru" else "en", "invalid", status=404)
    read = renewal_card_read(token)
    contribution = None
    failure = None
    if isinstance(read, tuple):
        request_key, invoice_id = read
        # Another newsroom's contribution is "no such link" here: the answer must not say it exists elsewhere.
        contribution = (
            Contribution.objects.select_related("supporter").filter(newsroom=newsroom, request_key=request_key).first()
        )
        failure = (
            RenewalFailure.objects.filter(newsroom=newsroom, contribution=contribution, provider_invoice_id=invoice_id)
            .only("status")
            .first()
            if contribution is not None
            else None
        )
    locale = locale_pick(asked or (contribution.locale if contribution else None), newsroom)
    if read == "expired":
        return _message(request, newsroom, locale, "expired", status=410)
    if contribution is None or failure is None:
        return _message(request, newsroom, locale, "invalid", status=404)
    if failure.status == RenewalFailure.Status.RECOVERED:
        return _message(request, newsroom, locale, "paid", status=410)
    if failure.status != RenewalFailure.Status.OPEN or contribution.status != Contribution.Status.PAST_DUE:
        return _message(request, newsroom, locale, "ended", status=410)
    card_path = reverse("supporters-card", args=[newsroom.slug, contribution.id])
    query = "?" + urlencode({"locale": locale})
    supporter = supporter_current(request, newsroom=newsroom)
    if supporter is not None and supporter.id == contribution.supporter_id:
        return _sealed(HttpResponseRedirect(card_path + query, status=303))
    response = HttpResponseRedirect(reverse("supporters-signin", args=[newsroom.slug]) + query, status=303)
    signin_next_set(response, card_path)
    return _sealed(response)


__all__ = ["NEXT_COOKIE", "renewal_card_link", "signin_next_pop", "signin_next_set"]

"""The supporter's own short session: a random token in a cookie of its own, its hash in SupporterSession.

Kept apart from Django's auth and session on purpose: a staff member's admin login never makes anyone a
supporter, and a supporter's cookie opens no admin page. The cookie's path is /account/, so no other page
of ours (the checkout, the admin) is even sent it.

    supporter_session_start(response=response, supporter=supporter)   after a link or code was accepted
    supporter_current(request, newsroom=newsroom) -> Supporter | None  only a live session of that newsroom
    supporter_session_end(request=request, response=response)         sign-out
    @supporter_required                                                view(request, supporter, *args, **kw)
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from readerfund.core.privacy import lookup_hash
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Supporter
from readerfund.supporters.models import SupporterSession

COOKIE_NAME = "readerfund_account"
COOKIE_PATH = "/account/"
SESSION_SECONDS = 3600
_HASH_SCOPE = "supporters:session"


def _token_hash(token: str) -> str:
    return lookup_hash(token, scope=_HASH_SCOPE)


def supporter_session_start(*, response: HttpResponseBase, supporter: Supporter) -> None:
    """Open an hour's session for `supporter` and set its cookie on `response`."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    SupporterSession.objects.create(
        supporter=supporter,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=SESSION_SECONDS),
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _live_session(request: HttpRequest) -> SupporterSession | None:
    token = request.COOKIES.get(COOKIE_NAME, "")
    # A token is 43 urlsafe characters; anything else is not ours (and a NUL would upset PostgreSQL).
    if not token or len(token) > 100 or not token.isascii():
        return None
    return (
        SupporterSession.objects.select_related("supporter", "supporter__newsroom")
        .filter(token_hash=_token_hash(token), ended_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def supporter_current(request: HttpRequest, *, newsroom: Newsroom) -> Supporter | None:
    """The signed-in supporter of `newsroom`, or None (no cookie, ended, expired, erased, another newsroom)."""
    session = _live_session(request)
    if session is None:
        return None
    supporter = session.supporter
    if supporter.newsroom_id != newsroom.id or supporter.erased_at is not None:
        return None
    return supporter


def supporter_session_end(*, request: HttpRequest, response: HttpResponseBase) -> None:
    """End the request's session (whichever newsroom it belongs to) and delete its cookie."""
    session = _live_session(request)
    if session is not None:
        SupporterSession.objects.filter(id=session.id, ended_at__isnull=True).update(ended_at=timezone.now())
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")


def supporter_sessions_prune(*, now: datetime | None = None) -> int:
    """Periodic: forget sessions a day after they expired or ended."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = SupporterSession.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def supporter_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For views under /account/<slug>/: called as view(request, supporter, *args, **kwargs) when a
    supporter of that newsroom is signed in; otherwise the reader is sent to the sign-in page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        newsroom = get_object_or_404(Newsroom, slug=slug)
        supporter = supporter_current(request, newsroom=newsroom)
        if supporter is None:
            return HttpResponseRedirect(reverse("supporters-signin", args=[newsroom.slug]))
        response = view(request, supporter, *args, **kwargs)
        # A supporter's page is theirs alone: never kept by a shared cache or the browser's history.
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


__all__ = [
    "COOKIE_NAME",
    "supporter_current",
    "supporter_required",
    "supporter_session_end",
    "supporter_session_start",
]

"""Supporters of the demo newsroom, made as the checkout makes them (checkout/services.py supporter_for)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from readerfund.checkout.services import supporter_for
from readerfund.core.privacy import normalize_email
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.models import OutboxMessage
from readerfund.payments.models import Contribution, Supporter
from readerfund.supporters.models import SignInRequest
from readerfund.supporters.session import COOKIE_NAME, supporter_session_start
from readerfund.supporters.signin import signin_deliver

ADDRESS = "Reader@Example.org"


def supporter_make(
    newsroom: Newsroom, email: str = ADDRESS, *, status: str = Contribution.Status.SUCCEEDED, **fields: Any
) -> Supporter:
    supporter = supporter_for(newsroom=newsroom, email=normalize_email(email), name="Ада", locale="en")
    Contribution.objects.create(
        newsroom=newsroom,
        supporter=supporter,
        frequency=fields.pop("frequency", "monthly"),
        amount=fields.pop("amount", 500),
        currency=fields.pop("currency", "USD"),
        status=status,
        request_key=secrets.token_urlsafe(24),
        **fields,
    )
    return supporter


def signed_in_client(supporter: Supporter) -> Client:
    """A browser with the supporter's session cookie, as signing in leaves it."""
    response = HttpResponse()
    supporter_session_start(response=response, supporter=supporter)
    client = Client()
    client.cookies[COOKIE_NAME] = response.cookies[COOKIE_NAME].value
    return client


@pytest.fixture
def supporter(demo_newsroom: Newsroom) -> Supporter:
    return supporter_make(demo_newsroom)


@pytest.fixture
def other_newsroom(db: Any) -> Newsroom:
    return Newsroom.objects.create(slug="exile-gazette", name="The Exile Gazette")


def signin_secrets(message: OutboxMessage) -> tuple[str, str]:
    """(link path, code) from a queued sign-in e-mail."""
    context = json.loads(message.context)
    path = re.sub(r"^https?://[^/]+", "", context["url"])
    return path, context["code"]


def signin_deliveries_run() -> int:
    """What the worker does after a sign-in request: hand each undelivered one to signin_deliver."""
    waiting = list(SignInRequest.objects.exclude(undelivered="").values_list("id", flat=True))
    for signin_id in waiting:
        signin_deliver(signin_id=signin_id)
    return len(waiting)


@pytest.fixture
def ask(client: Client) -> Callable[..., Any]:
    """Post the sign-in form, then deliver as the worker would; returns the response."""

    def post(email: str = ADDRESS, *, slug: str = "demo", locale: str = "en", **headers: str) -> Any:
        response = client.post(f"/account/{slug}/", {"email": email, "locale": locale}, headers=headers)
        signin_deliveries_run()
        return response

    return post


@pytest.fixture
def signin_email(ask: Callable[..., Any]) -> Callable[..., tuple[str, str]]:
    """Ask for a sign-in e-mail and read its link path and code from the outbox."""

    def get(email: str = ADDRESS, **kwargs: Any) -> tuple[str, str]:
        before = set(OutboxMessage.objects.values_list("id", flat=True))
        assert ask(email, **kwargs).status_code == 200
        (message,) = OutboxMessage.objects.exclude(id__in=before)
        return signin_secrets(message)

    return get

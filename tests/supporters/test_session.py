"""The supporter's session: an hour at most, ended by sign-out, one newsroom's, and never the staff's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from readerfund.payments.models import Contribution
from readerfund.supporters.models import SupporterSession
from readerfund.supporters.session import (
    COOKIE_NAME,
    supporter_current,
    supporter_session_end,
    supporter_session_start,
)
from tests.supporters.conftest import supporter_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, supporter, signin_email):
    path, _ = signin_email()
    assert client.post(path).status_code == 303
    return client


def test_the_home_page_lists_the_supporters_contributions_newest_first(signed_in, demo_newsroom, supporter):
    older = supporter.contributions.get()
    Contribution.objects.filter(id=older.id).update(created_at=timezone.now() - timedelta(days=30))
    Contribution.objects.create(
        newsroom=demo_newsroom,
        supporter=supporter,
        frequency="one_off",
        amount=2500,
        currency="EUR",
        status=Contribution.Status.SUCCEEDED,
        request_key="newer-contribution-key-0000",
    )
    stranger = supporter_make(demo_newsroom, "someone-else@example.org", amount=99900)
    response = signed_in.get("/account/demo/home/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Your support" in body
    newer_at, older_at = body.index("€25"), body.index("$5")
    assert newer_at < older_at
    assert "One-off" in body and "Monthly" in body and "Paid" in body
    assert "$999" not in body and stranger.reference not in body
    assert 'id="signout-form"' in body


def test_the_home_page_speaks_russian(signed_in):
    body = signed_in.get("/account/demo/home/?locale=ru").content.decode()
    assert "Ваша поддержка" in body and "Ежемесячно" in body and "Выйти" in body


def test_without_a_session_the_home_page_sends_to_sign_in(client, supporter):
    response = client.get("/account/demo/home/")
    assert response.status_code == 302
    assert response["Location"] == "/account/demo/"


def test_the_session_ends_after_an_hour(signed_in, monkeypatch):
    session = SupporterSession.objects.get()
    assert session.expires_at - session.created_at == timedelta(hours=1)
    assert signed_in.cookies[COOKIE_NAME]["max-age"] == 3600
    almost = timezone.now() + timedelta(minutes=59)
    monkeypatch.setattr(timezone, "now", lambda: almost)
    assert signed_in.get("/account/demo/home/").status_code == 200
    later = timezone.now() + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert signed_in.get("/account/demo/home/").status_code == 302


def test_sign_out_ends_the_session_even_for_a_copied_cookie(signed_in):
    token = signed_in.cookies[COOKIE_NAME].value
    response = signed_in.post("/account/demo/signout", {"locale": "en"})
    assert response.status_code == 303
    assert response["Location"] == "/account/demo/?locale=en&signed_out=1"
    assert response.cookies[COOKIE_NAME].value == ""
    assert SupporterSession.objects.get().ended_at is not None
    assert "You are signed out." in signed_in.get(response["Location"]).content.decode()
    copy = Client()
    copy.cookies[COOKIE_NAME] = token
    assert copy.get("/account/demo/home/").status_code == 302


def test_a_session_of_one_newsroom_does_not_open_anothers(signed_in, other_newsroom):
    supporter_make(other_newsroom)  # the same address supports the other newsroom too
    response = signed_in.get(f"/account/{other_newsroom.slug}/home/")
    assert response.status_code == 302
    assert response["Location"] == f"/account/{other_newsroom.slug}/"
    assert signed_in.get("/account/demo/home/").status_code == 200


def test_the_staff_session_does_not_sign_a_supporter_in(client, supporter):
    admin = User.objects.create_superuser("editor", "reader@example.org", "a-long-passphrase")
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/account/demo/home/").status_code == 302


def test_the_supporter_session_does_not_sign_into_the_admin(signed_in):
    response = signed_in.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "sessionid" not in signed_in.cookies


def test_the_cookie_is_secure_behind_https(supporter, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = HttpResponse()
    supporter_session_start(response=response, supporter=supporter)
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/account/"


def test_supporter_current_answers_only_for_that_newsroom(supporter, other_newsroom):
    response = HttpResponse()
    supporter_session_start(response=response, supporter=supporter)
    request = RequestFactory().get("/account/demo/home/")
    request.COOKIES[COOKIE_NAME] = response.cookies[COOKIE_NAME].value
    assert supporter_current(request, newsroom=supporter.newsroom) == supporter
    assert supporter_current(request, newsroom=other_newsroom) is None
    ended = HttpResponse()
    supporter_session_end(request=request, response=ended)
    assert supporter_current(request, newsroom=supporter.newsroom) is None


@pytest.mark.parametrize("cookie", ["", "x" * 43, "\x00abc", "é" * 43, "a" * 500])
def test_a_forged_cookie_is_nobody(supporter, cookie):
    request = RequestFactory().get("/account/demo/home/")
    request.COOKIES[COOKIE_NAME] = cookie
    assert supporter_current(request, newsroom=supporter.newsroom) is None


def test_an_erased_supporter_is_signed_out(signed_in, supporter):
    supporter.erased_at = timezone.now()
    supporter.save(update_fields=["erased_at"])
    assert signed_in.get("/account/demo/home/").status_code == 302


def test_a_signed_in_supporter_opening_the_sign_in_page_goes_home(signed_in):
    response = signed_in.get("/account/demo/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/demo/home/")

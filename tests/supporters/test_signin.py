"""Sign-in by link and by code: once, for 15 minutes, for one newsroom, and silent about who supports."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from readerfund.core.privacy import normalize_email
from readerfund.notifications.delivery import outbox_deliver
from readerfund.notifications.models import OutboxMessage
from readerfund.payments.models import Contribution
from readerfund.reminders.services import reminder_schedule
from readerfund.supporters.models import SignInRequest, SupporterSession
from readerfund.supporters.session import COOKIE_NAME
from readerfund.supporters.signin import CODE_MAX_FAILURES, signin_deliver, signin_deliver_due, signin_request
from tests.logwatch import sensitive, watch
from tests.supporters.conftest import ADDRESS, signin_deliveries_run, supporter_make

pytestmark = pytest.mark.django_db


def _neutral(response: Any, address: str) -> str:
    """The page without what differs by design between any two renders: the CSRF mask, the typed address."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    return body.replace(normalize_email(address), "ADDRESS")


def _code_post(client: Client, code: str, email: str = ADDRESS, slug: str = "demo") -> Any:
    return client.post(f"/account/{slug}/code", {"email": email, "code": code, "locale": "en"})


def _signed_in(client: Client, slug: str = "demo") -> bool:
    response = client.get(f"/account/{slug}/home/")
    return response.status_code == 200


def test_the_link_signs_in_once(client, supporter, signin_email):
    path, _code = signin_email()
    page = client.get(path)
    assert page.status_code == 200
    assert 'id="link-form"' in page.content.decode()
    assert not _signed_in(client)
    response = client.post(path)
    assert response.status_code == 303
    assert response["Location"].startswith("/account/demo/home/")
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["path"] == "/account/" and cookie["samesite"] == "Lax"
    assert _signed_in(client)
    again = Client().post(path)
    assert again.status_code == 410
    assert "This link no longer works" in again.content.decode()
    assert COOKIE_NAME not in again.cookies


def test_the_code_signs_in_once_on_another_device(client, supporter, signin_email):
    _path, code = signin_email()
    laptop = Client()
    response = _code_post(laptop, code, email="  reader@EXAMPLE.org ")
    assert response.status_code == 303
    assert _signed_in(laptop)
    again = _code_post(Client(), code)
    assert again.status_code == 400
    body = again.content.decode()
    assert "This code does not work" in body and 'role="alert"' in body
    assert re.search(r'<input[^>]*id="code"[^>]*aria-invalid="true"[^>]*autofocus', body)


def test_the_link_and_the_code_are_one_secret(client, supporter, signin_email):
    path, code = signin_email()
    assert _code_post(Client(), code).status_code == 303
    assert client.post(path).status_code == 410


def test_signing_in_retires_the_other_pending_emails(client, supporter, signin_email):
    first_path, first_code = signin_email()
    second_path, _ = signin_email()
    assert Client().post(second_path).status_code == 303
    assert Client().post(first_path).status_code == 410
    assert _code_post(Client(), first_code).status_code == 400


def test_an_expired_link_and_code_are_refused(client, supporter, signin_email, monkeypatch):
    path, code = signin_email()
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert _code_post(client, code).status_code == 400
    assert not SupporterSession.objects.exists()


def test_a_link_still_works_just_before_its_fifteen_minutes(client, supporter, signin_email, monkeypatch):
    path, _ = signin_email()
    later = timezone.now() + timedelta(minutes=14, seconds=50)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.post(path).status_code == 303


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token[:-3],
        lambda token: token + "x",
        lambda token: "%00" + token,
        lambda token: "a" * 43,
    ],
)
def test_a_tampered_link_is_refused(client, supporter, signin_email, tamper):
    path, _ = signin_email()
    token = path.rstrip("/").rsplit("/", 1)[1]
    bad = path.replace(token, tamper(token))
    assert client.get(bad).status_code == 404
    assert client.post(bad).status_code == 404
    assert "This link no longer works" in client.post(bad).content.decode()
    assert not SupporterSession.objects.exists()
    assert client.post(path).status_code == 303  # the real one is untouched


def test_a_link_of_one_newsroom_does_nothing_at_another(client, supporter, other_newsroom, signin_email):
    supporter_make(other_newsroom)  # the same address supports both
    path, code = signin_email()
    elsewhere = path.replace("/account/demo/", f"/account/{other_newsroom.slug}/")
    assert client.get(elsewhere).status_code == 404
    assert client.post(elsewhere).status_code == 404
    assert _code_post(client, code, slug=other_newsroom.slug).status_code == 400
    assert not SupporterSession.objects.exists()
    assert client.post(path).status_code == 303


def test_opening_the_link_changes_nothing(client, supporter, signin_email):
    """A mail scanner follows the link with a GET (twice, say): the reader's link must survive it."""
    path, _ = signin_email()
    before = list(SignInRequest.objects.values())
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        assert COOKIE_NAME not in response.cookies
    assert list(SignInRequest.objects.values()) == before
    assert not SupporterSession.objects.exists()
    assert client.post(path).status_code == 303


def test_a_brute_forced_code_locks(client, supporter, signin_email):
    _, code = signin_email()
    wrong = f"{(int(code.replace(' ', '')) + 1) % 10**8:08d}"
    for _ in range(CODE_MAX_FAILURES):
        assert _code_post(client, wrong).status_code == 400
    response = _code_post(client, code)
    assert response.status_code == 400
    assert "This code does not work" in response.content.decode()
    assert not SupporterSession.objects.exists()


def test_one_wrong_try_short_of_the_lock_the_code_still_works(client, supporter, signin_email):
    _, code = signin_email()
    wrong = f"{(int(code.replace(' ', '')) + 1) % 10**8:08d}"
    for _ in range(CODE_MAX_FAILURES - 1):
        _code_post(client, wrong)
    assert _code_post(client, code).status_code == 303


def test_codes_per_address_are_limited_across_new_emails(client, supporter, signin_email):
    """Asking for a new e-mail gives a fresh count per request, but not per address."""
    for _ in range(2):
        _, code = signin_email()
        wrong = f"{(int(code.replace(' ', '')) + 1) % 10**8:08d}"
        for _ in range(CODE_MAX_FAILURES):
            _code_post(client, wrong)
    _, code = signin_email()
    assert _code_post(client, code).status_code == 400  # the eleventh try this hour


def test_unknown_reminder_only_and_abandoned_addresses_get_no_email_and_the_same_page(
    client, demo_newsroom, supporter, ask
):
    reminder_schedule(
        newsroom=demo_newsroom,
        email="reminded@example.org",
        remind_on=timezone.now().date() + timedelta(days=3),
        locale="en",
        campaign_id=None,
        variant_id=None,
    )
    supporter_make(demo_newsroom, "typed-by-a-stranger@example.org", status=Contribution.Status.PENDING)
    outbox_before = OutboxMessage.objects.count()
    known = _neutral(ask(ADDRESS), ADDRESS)
    assert OutboxMessage.objects.count() == outbox_before + 1
    for address in ("nobody@example.org", "reminded@example.org", "typed-by-a-stranger@example.org"):
        response = ask(address)
        assert response.status_code == 200
        assert _neutral(response, address) == known
    assert OutboxMessage.objects.count() == outbox_before + 1
    assert not OutboxMessage.objects.filter(template="signin").exclude(message_key__startswith="signin-").exists()


def _statements(run: Callable[[], Any]) -> list[str]:
    """The SQL a call runs, with every value masked: what it does, not with what."""
    with CaptureQueriesContext(connection) as captured:
        run()
    masked = []
    for query in captured.captured_queries:
        sql = re.sub(r"'[^']*'", "?", query["sql"])
        sql = re.sub(r'"s\d+_x\d+"', "SAVEPOINT_NAME", sql)
        masked.append(re.sub(r"\b\d+(\.\d+)?\b", "?", sql))
    return masked


def test_asking_does_the_same_work_for_a_supporter_and_a_stranger(client, demo_newsroom, supporter):
    """The answer's time cannot tell who the address is: the request runs the same statements either way,
    and the supporter is looked up later, by the worker."""
    ask_known = lambda: client.post("/account/demo/", {"email": ADDRESS, "locale": "en"})  # noqa: E731
    ask_stranger = lambda: client.post("/account/demo/", {"email": "stranger@example.org", "locale": "en"})  # noqa: E731
    ask_known()  # warm caches (the newsroom, the templates) alike for both
    ask_stranger()
    known = _statements(ask_known)
    stranger = _statements(ask_stranger)
    assert known == stranger
    assert not any("payments_supporter" in sql for sql in known)
    assert not OutboxMessage.objects.filter(template="signin").exists()


def test_a_wrong_code_costs_the_same_for_a_supporter_and_a_stranger(client, demo_newsroom, supporter, ask):
    ask(ADDRESS)
    ask("stranger@example.org")
    _code_post(Client(), "12345678", "warm@example.org")  # this IP's window exists for both alike
    known = _statements(lambda: _code_post(Client(), "12345678", ADDRESS))
    stranger = _statements(lambda: _code_post(Client(), "12345678", "stranger@example.org"))
    assert known == stranger
    # Both requests counted the wrong try.
    assert sorted(SignInRequest.objects.values_list("code_failures", flat=True)) == [1, 1]


def test_the_worker_emails_a_supporter_once_and_forgets_the_secrets(demo_newsroom, supporter):
    signin_request(newsroom=demo_newsroom, email=ADDRESS, locale="en")
    signin_request(newsroom=demo_newsroom, email="stranger@example.org", locale="en")
    known, stranger = SignInRequest.objects.order_by("id")
    assert known.undelivered and stranger.undelivered
    assert ADDRESS.lower() not in repr(SignInRequest.objects.values().get(id=known.id)).lower()
    assert signin_deliver(signin_id=known.id) == "sent"
    assert signin_deliver(signin_id=known.id) == "done"
    assert signin_deliver(signin_id=stranger.id) == "done"
    known.refresh_from_db()
    stranger.refresh_from_db()
    assert (known.undelivered, stranger.undelivered) == ("", "")
    assert known.supporter_id == supporter.id and stranger.supporter_id is None
    (message,) = OutboxMessage.objects.filter(template="signin")
    assert message.message_key == f"signin-{known.id}"


def test_a_request_is_queued_for_the_worker_by_id_only(
    client, demo_newsroom, supporter, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/account/demo/", {"email": ADDRESS, "locale": "en"}).status_code == 200
    (task,) = DBTaskResult.objects.filter(task_path__endswith="signin_deliver_task")
    signin = SignInRequest.objects.get()
    assert task.args_kwargs == {"args": [], "kwargs": {"signin_id": signin.id}}
    assert not OutboxMessage.objects.exists()


def test_a_request_whose_task_was_lost_is_delivered_by_the_periodic_scan(demo_newsroom, supporter):
    now = timezone.now()
    signin_request(newsroom=demo_newsroom, email=ADDRESS, locale="en", now=now)
    assert signin_deliver_due(now=now + timedelta(seconds=5)) == 0
    assert signin_deliver_due(now=now + timedelta(seconds=31)) == 1
    assert OutboxMessage.objects.filter(template="signin").count() == 1
    assert signin_deliver_due(now=now + timedelta(seconds=60)) == 0
    # One the worker never reached in its 15 minutes is not sent late: its secrets are just forgotten.
    signin_request(newsroom=demo_newsroom, email=ADDRESS, locale="en", now=now)
    assert signin_deliver_due(now=now + timedelta(minutes=16)) == 0
    assert OutboxMessage.objects.filter(template="signin").count() == 1
    assert not SignInRequest.objects.exclude(undelivered="").exists()


def test_an_erased_supporter_gets_no_email(client, supporter, ask):
    supporter.erased_at = timezone.now()
    supporter.save(update_fields=["erased_at"])
    assert ask().status_code == 200
    assert not OutboxMessage.objects.filter(template="signin").exists()


def test_the_per_address_limit_answers_the_same_page_and_sends_nothing(client, supporter, ask):
    first = _neutral(ask(), ADDRESS)
    for _ in range(4):
        ask()
    assert OutboxMessage.objects.filter(template="signin").count() == 5
    limited = ask()
    assert limited.status_code == 200
    assert _neutral(limited, ADDRESS) == first
    assert OutboxMessage.objects.filter(template="signin").count() == 5


def test_the_per_ip_limit_answers_the_same_page_and_sends_nothing(client, demo_newsroom, supporter, ask, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    first = _neutral(ask("someone-0@example.org"), "someone-0@example.org")
    for number in range(1, 10):
        ask(f"someone-{number}@example.org")
    limited = ask(ADDRESS)
    assert _neutral(limited, ADDRESS) == first
    assert not OutboxMessage.objects.filter(template="signin").exists()
    # Another reader's address is not held back by this one's.
    ask(ADDRESS, REMOTE_ADDR="192.0.2.7")
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post("/account/demo/", {"email": ADDRESS}).status_code == 200
    signin_deliveries_run()
    assert OutboxMessage.objects.filter(template="signin").count() == 1


def test_a_malformed_address_is_asked_again_with_focus_on_the_field(client, demo_newsroom):
    response = client.post("/account/demo/", {"email": "not an address"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'aria-invalid="true"' in body and "autofocus" in body and 'role="alert"' in body


def test_the_page_speaks_russian(client, supporter, ask):
    page = client.get("/account/demo/?locale=ru")
    assert "Прислать ссылку для входа" in page.content.decode()
    assert "письмо для входа уже в пути" in ask(locale="ru").content.decode()
    message = OutboxMessage.objects.get(template="signin")
    assert message.locale == "ru"


def test_an_unknown_newsroom_is_a_404(client, db):
    assert client.get("/account/no-such-newsroom/").status_code == 404
    assert client.post("/account/no-such-newsroom/code", {"email": ADDRESS, "code": "1"}).status_code == 404


def test_nothing_secret_is_stored_or_logged(client, supporter, signin_email, caplog):
    caplog.set_level(logging.DEBUG)
    path, code = signin_email()
    token = path.rstrip("/").rsplit("/", 1)[1]
    client.post(path)
    _code_post(Client(), code)
    row = SignInRequest.objects.values().get()
    session = SupporterSession.objects.values().get()
    stored = repr(row) + repr(session)
    assert token not in stored and code.replace(" ", "") not in stored
    cookie = client.cookies[COOKIE_NAME].value
    assert cookie not in stored
    logged = caplog.text.lower()
    for secret in (normalize_email(ADDRESS), token.lower(), code.replace(" ", ""), cookie.lower(), "ада"):
        assert secret not in logged


def test_the_thank_you_page_links_to_managing_the_support(client, demo_newsroom, supporter):
    contribution = supporter.contributions.get()
    response = client.get(f"/support/demo/thanks/{contribution.request_key}/")
    assert 'href="/account/demo/?locale=en"' in response.content.decode()


def _parts(message: Any) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


def _link_and_code(message: Any) -> tuple[str, str]:
    text = _parts(message)["text/plain"].replace("\r\n", "\n")
    link = re.search(r"^https?://[^/\s]+(/account/demo/signin/[A-Za-z0-9_-]+/)$", text, re.M)
    code = re.search(r"^(\d{4} \d{4})$", text, re.M)
    assert link and code, text
    return link.group(1), code.group(1)


def test_a_sign_in_email_reaches_a_real_smtp_server_and_its_link_and_code_work(client, supporter, ask, smtp_server):
    ask()
    message = OutboxMessage.objects.get(template="signin")
    assert outbox_deliver(message_id=message.id) == "sent"
    (delivered,) = smtp_server.wait_for(1)
    assert delivered["Subject"] == "Your sign-in link"
    assert delivered["To"] == normalize_email(ADDRESS)
    html = _parts(delivered)["text/html"]
    assert "<img" not in html and "<script" not in html
    path, code = _link_and_code(delivered)
    assert path in html
    sent = OutboxMessage.objects.get(id=message.id)
    assert sent.context == "" and sent.to_address == ""  # the outbox forgets the secret once it is out
    phone = Client()
    assert phone.post(path).status_code == 303
    assert _signed_in(phone)
    assert _code_post(Client(), code).status_code == 400  # one secret: used by the link

    ask()
    message = OutboxMessage.objects.filter(template="signin").latest("id")
    assert outbox_deliver(message_id=message.id) == "sent"
    _, code = _link_and_code(smtp_server.wait_for(2)[-1])
    laptop = Client()
    assert _code_post(laptop, code).status_code == 303
    assert _signed_in(laptop)


def test_the_russian_sign_in_email_names_no_outlet_in_its_subject(client, supporter, ask, smtp_server):
    ask(locale="ru")
    message = OutboxMessage.objects.get(template="signin")
    assert outbox_deliver(message_id=message.id) == "sent"
    (delivered,) = smtp_server.wait_for(1)
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(delivered["Subject"]))) == "Ссылка для входа"
    assert "Ссылка и код действуют один раз" in _parts(delivered)["text/plain"]


@pytest.mark.parametrize("way", ["link", "code"])
def test_signing_in_gives_a_new_csrf_token(client, supporter, signin_email, way):
    # A CSRF cookie planted before the sign-in (a sibling subdomain can set one) must not sign the
    # supporter's own forms afterwards: Django's login rotates it for the same reason.
    client.get("/account/demo/")
    planted = client.cookies["csrftoken"].value
    path, code = signin_email()
    response = client.post(path) if way == "link" else _code_post(client, code)
    assert response.status_code == 303
    assert response.cookies["csrftoken"].value not in ("", planted)


def test_a_refused_csrf_check_on_the_link_logs_no_token(supporter, signin_email):
    # A phone's in-app browser that keeps no cookies, or a form left open while another tab signed in
    # (the CSRF token rotates): Django's CSRF check refuses the POST and logs the path, which holds the link.
    path, _code = signin_email()
    sensitive(path.rstrip("/").rsplit("/", 1)[1])
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path).status_code == 403
    assert watch.leaks() == []
    assert Client().post(path).status_code == 303  # and the link still works

"""Sign-in by e-mail: a one-time link, and the same secret as an 8-digit code for another device.

What it promises, and how:
- Nothing is stored in the clear: the link's token and the code are kept as keyed hashes (core/privacy.py
  lookup_hash), the code's hash bound to its own request; until the worker has e-mailed them they are
  also held encrypted (SignInRequest.undelivered), and blanked then.
- Once, for 15 minutes: using the link or the code marks the request used in one conditional UPDATE
  (two tabs racing get one session), and retires the supporter's other pending sign-ins with it.
- No e-mail to an address that never supported this newsroom, and no way to tell from the answer or
  its time: the request runs the same statements whoever the address is (a row holding the address's
  keyed hash and the secrets, encrypted, and a task queued by id); the worker then looks the address
  up, e-mails a supporter through the outbox and forgets the secrets either way (signin_deliver). A
  wrong code costs the same too: requests are found by the address's hash, not by the supporter.
  bench/signin.py measures the answer's time for both.
- A code is 8 digits, so wrong guesses are counted: a request's code locks after CODE_MAX_FAILURES (its
  link still works), and the views add limits per address and per IP.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from readerfund.core.privacy import lookup_hash, normalize_email
from readerfund.newsrooms.models import Newsroom
from readerfund.notifications.services import email_queue
from readerfund.payments.models import Contribution, Payment, Supporter
from readerfund.supporters.models import SignInRequest

SIGNIN_SECONDS = 15 * 60
CODE_DIGITS = 8
CODE_MAX_FAILURES = 5
# A supporter may hold a few unexpired sign-in e-mails at once (they asked twice): any of their codes works.
_PENDING_CHECKED = 5
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_TOKEN_SCOPE = "supporters:signin-link"
# Stands in for a request's token hash when there is none to check, so a miss costs a hash like a hit.
_NO_REQUEST = "0" * 64

Status = Contribution.Status
# Money reached the newsroom: typing an address into the checkout and abandoning it is not support.
_SUPPORTED = (Status.SUCCEEDED, Status.ACTIVE, Status.PAST_DUE)


@dataclass(frozen=True)
class LinkCheck:
    """state: 'valid' (supporter set), 'gone' (used, expired or retired) or 'unknown' (no such link here)."""

    state: str
    supporter: Supporter | None = None


def _supporter_hash(newsroom: Newsroom, address: str) -> str:
    # The very hash checkout/services.py supporter_for stores.
    return lookup_hash(address, scope=f"supporter:{newsroom.id}")


def _token_hash(token: str) -> str:
    return lookup_hash(token, scope=_TOKEN_SCOPE)


def _code_hash(token_hash: str, code: str) -> str:
    return lookup_hash(code, scope=f"supporters:signin-code:{token_hash}")


def code_clean(code: str) -> str:
    """What a reader types, as the code: spaces and dashes dropped ("1234 5678", "1234-5678")."""
    return re.sub(r"[\s-]", "", code or "")


def signin_supporter_find(*, newsroom: Newsroom, email: str) -> Supporter | None:
    """The newsroom's supporter with this address who has actually supported it, if any."""
    return _supporter_by_hash(newsroom, _supporter_hash(newsroom, normalize_email(email)))


def _supporter_by_hash(newsroom: Newsroom, email_hash: str) -> Supporter | None:
    supported = Contribution.objects.filter(supporter=OuterRef("pk")).filter(
        Q(status__in=_SUPPORTED) | Q(Exists(Payment.objects.filter(contribution=OuterRef("pk"))))
    )
    return (
        Supporter.objects.filter(
            newsroom=newsroom,
            email_hash=email_hash,
            erased_at__isnull=True,
        )
        .filter(Exists(supported))
        .exclude(email="")
        .first()
    )


def signin_request(*, newsroom: Newsroom, email: str, locale: str, now: datetime | None = None) -> None:
    """Take a sign-in request: the very same work whoever the address belongs to.

    The request only writes a row (the address's keyed hash, and the link's secrets encrypted until the
    worker has passed them on) and queues its delivery; `signin_deliver`, in the worker, decides whether
    the address belongs to a supporter and so whether an e-mail goes out. Nothing in the answer, its
    time included, depends on who the address is.
    """
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token_hash = _token_hash(token)
    signin = SignInRequest.objects.create(
        newsroom=newsroom,
        email_hash=_supporter_hash(newsroom, normalize_email(email)),
        token_hash=token_hash,
        code_hash=_code_hash(token_hash, code),
        undelivered=json.dumps({"token": token, "code": code, "locale": locale}, separators=(",", ":")),
        created_at=now,
        expires_at=now + timedelta(seconds=SIGNIN_SECONDS),
    )
    signin_id = signin.id
    transaction.on_commit(lambda: _deliver_enqueue(signin_id))


def _deliver_enqueue(signin_id: int) -> None:
    from readerfund.supporters.tasks import signin_deliver_task

    # Ids only: task arguments are stored in the clear.
    signin_deliver_task.enqueue(signin_id=signin_id)


def signin_deliver(*, signin_id: int) -> str:
    """Worker: e-mail the link and code if the address is a supporter's, then forget the secrets.

    Once per request whatever runs it (the task, the periodic catch-up, both): the row is claimed by
    blanking its secrets in the same transaction that queues the e-mail.
    """
    signin = SignInRequest.objects.select_related("newsroom").filter(id=signin_id).exclude(undelivered="").first()
    if signin is None:
        return "done"
    newsroom = signin.newsroom
    supporter = _supporter_by_hash(newsroom, signin.email_hash)
    secrets_ = json.loads(signin.undelivered)
    with transaction.atomic():
        claimed = (
            SignInRequest.objects.filter(id=signin.id)
            .exclude(undelivered="")
            .update(undelivered="", supporter=supporter)
        )
        if not claimed or supporter is None:
            return "done" if claimed else "taken"
        url = settings.SITE_URL + reverse("supporters-link", args=[newsroom.slug, secrets_["token"]])
        code = secrets_["code"]
        email_queue(
            newsroom=newsroom,
            to=supporter.email,
            template="signin",
            # The outbox encrypts the context and blanks it once the e-mail is out.
            context={"url": url, "code": f"{code[:4]} {code[4:]}", "minutes": SIGNIN_SECONDS // 60},
            locale=secrets_["locale"],
            message_key=f"signin-{signin.id}",
        )
    return "sent"


# A request the worker has not reached this long after it was made lost its task (a worker died).
_DELIVERY_GRACE = timedelta(seconds=30)


def signin_deliver_due(*, now: datetime | None = None) -> int:
    """Periodic: deliver requests whose task was lost; those past their 15 minutes just forget the secrets."""
    now = now or timezone.now()
    waiting = SignInRequest.objects.exclude(undelivered="")
    waiting.filter(expires_at__lte=now).update(undelivered="")
    due = list(waiting.filter(created_at__lte=now - _DELIVERY_GRACE).values_list("id", flat=True)[:200])
    for signin_id in due:
        signin_deliver(signin_id=signin_id)
    return len(due)


def _consume(signin: SignInRequest, *, now: datetime) -> Supporter | None:
    """Mark the request used, once; retire the supporter's other pending sign-ins with it."""
    if signin.supporter is None:
        return None
    with transaction.atomic():
        taken = SignInRequest.objects.filter(id=signin.id, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        if not taken:
            return None
        SignInRequest.objects.filter(supporter=signin.supporter, used_at__isnull=True).update(used_at=now)
    return signin.supporter


def _by_token(*, newsroom: Newsroom, token: str) -> SignInRequest | None:
    if not _TOKEN.match(token or ""):
        return None
    return (
        SignInRequest.objects.select_related("supporter")
        .filter(token_hash=_token_hash(token), newsroom=newsroom, supporter__isnull=False)
        .first()
    )


def signin_link_check(*, newsroom: Newsroom, token: str, now: datetime | None = None) -> LinkCheck:
    """What a link would do, changing nothing (a GET; mail scanners follow links)."""
    now = now or timezone.now()
    signin = _by_token(newsroom=newsroom, token=token)
    if signin is None or signin.supporter is None:
        return LinkCheck("unknown")
    if signin.used_at is not None or signin.expires_at <= now or signin.supporter.erased_at is not None:
        return LinkCheck("gone")
    return LinkCheck("valid", signin.supporter)


def signin_link_use(*, newsroom: Newsroom, token: str, now: datetime | None = None) -> LinkCheck:
    """Sign in with the link (a POST): 'valid' with the supporter once, 'gone' ever after."""
    now = now or timezone.now()
    check = signin_link_check(newsroom=newsroom, token=token, now=now)
    if check.state != "valid":
        return check
    signin = _by_token(newsroom=newsroom, token=token)
    supporter = _consume(signin, now=now) if signin is not None else None
    return LinkCheck("valid", supporter) if supporter is not None else LinkCheck("gone")


def signin_code_use(*, newsroom: Newsroom, email: str, code: str, now: datetime | None = None) -> Supporter | None:
    """Sign in with the address and the code from the e-mail; None for any miss, whatever its reason.

    The pending requests are found by the address's hash, so an address that asked and is no supporter
    costs the same reads, hashes and failure counts as one that is: only a request the worker matched to
    a supporter can sign in.
    """
    now = now or timezone.now()
    code = code_clean(code)
    pending = list(
        SignInRequest.objects.select_related("supporter")
        .filter(
            newsroom=newsroom,
            email_hash=_supporter_hash(newsroom, normalize_email(email)),
            used_at__isnull=True,
            expires_at__gt=now,
            code_failures__lt=CODE_MAX_FAILURES,
        )
        .order_by("-created_at")[:_PENDING_CHECKED]
    )
    if not pending:
        _code_hash(_NO_REQUEST, code)
    well_formed = len(code) == CODE_DIGITS and code.isascii() and code.isdigit()
    match = next(
        (
            s
            for s in pending
            if hmac.compare_digest(_code_hash(s.token_hash, code), s.code_hash) and well_formed and s.supporter
        ),
        None,
    )
    if match is None:
        if pending:
            SignInRequest.objects.filter(id__in=[s.id for s in pending]).update(code_failures=F("code_failures") + 1)
        return None
    return _consume(match, now=now)


def signin_requests_prune(*, now: datetime | None = None) -> int:
    """Periodic: forget sign-in requests a day after they expired."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = SignInRequest.objects.filter(expires_at__lt=cutoff).delete()
    return deleted

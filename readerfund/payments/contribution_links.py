"""The pause and cancel links in a supporter's e-mails: each one does one thing to one contribution, once.

- Signed (django.core.signing, a salt of its own) over the contribution's random request key and the
  action: a row id would repeat after a restore or in a second deployment, and an edited token fails
  the signature. Valid for LINK_MAX_AGE.
- Single-purpose: "pause" or "cancel", nothing else, and never a sign-in.
- Single use: after the change is made, the token's keyed hash goes in EmailLinkUse and the same link
  only says "already done". Two POSTs racing each other are held apart by the change's own marker
  (payments/change_markers.py): the provider is asked once.

The page that follows the link is readerfund/supporters/email_links.py; the GET there changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from readerfund.core.privacy import lookup_hash
from readerfund.payments.change_markers import ChangeRefused, recurring_check
from readerfund.payments.models import Contribution, EmailLinkUse, Frequency

_SALT = "readerfund.payments.contribution-link"
_HASH_SCOPE = "payments:contribution-link"
ACTIONS = ("pause", "cancel")
# Long enough for a monthly receipt's links to outlive the next receipt; short enough that an old inbox
# (a seized phone) does not hold working links for ever.
LINK_MAX_AGE = 60 * 24 * 3600
Status = Contribution.Status


@dataclass(frozen=True)
class LinkRead:
    """state: 'valid' (request_key and action set), 'expired' or 'invalid' (tampered, or not ours)."""

    state: str
    request_key: str = ""
    action: str = ""


def contribution_link_token(*, contribution: Contribution, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    return signing.dumps({"k": contribution.request_key, "a": action}, salt=_SALT, compress=True)


def contribution_link_url(*, contribution: Contribution, action: str) -> str:
    token = contribution_link_token(contribution=contribution, action=action)
    return settings.SITE_URL + reverse("supporters-email-link", args=[contribution.newsroom.slug, token])


def contribution_link_read(token: str) -> LinkRead:
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        return LinkRead("expired")
    except signing.BadSignature:
        return LinkRead("invalid")
    if not isinstance(data, dict) or not isinstance(data.get("k"), str) or data.get("a") not in ACTIONS:
        return LinkRead("invalid")
    return LinkRead("valid", request_key=data["k"], action=data["a"])


def _token_hash(token: str) -> str:
    return lookup_hash(token, scope=_HASH_SCOPE)


def contribution_link_used(token: str) -> bool:
    return EmailLinkUse.objects.filter(token_hash=_token_hash(token)).exists()


def contribution_link_mark_used(token: str) -> None:
    """After the change is made. A second mark (two POSTs that both got through) is the same use."""
    try:
        with transaction.atomic():
            EmailLinkUse.objects.create(token_hash=_token_hash(token), used_at=timezone.now())
    except IntegrityError:
        pass


def contribution_link_check(*, contribution: Contribution, action: str) -> None:
    """Raise ChangeRefused when the link's action cannot be made now; the same rules as payments/changes.py,
    so the page says so before the supporter presses anything."""
    if action == "pause" and contribution.status == Status.PAUSED:
        raise ChangeRefused("already_paused", "This contribution is paused already.")
    recurring_check(
        contribution,
        allowed=(Status.ACTIVE,) if action == "pause" else (Status.ACTIVE, Status.PAUSED, Status.PAST_DUE),
    )
    if contribution.cancels_at is not None:
        raise ChangeRefused("cancel_pending", "This contribution is canceled and ends at the end of its period.")


def contribution_links_for(contribution: Contribution) -> dict[str, str]:
    """The links a recurring contribution's e-mails carry (none for a one-off): pause, cancel, and the
    supporter's sign-in page to manage everything else."""
    if contribution.frequency not in (Frequency.MONTHLY, Frequency.ANNUAL):
        return {}
    return {
        "pause_url": contribution_link_url(contribution=contribution, action="pause"),
        "cancel_url": contribution_link_url(contribution=contribution, action="cancel"),
        "manage_url": settings.SITE_URL
        + reverse("supporters-signin", args=[contribution.newsroom.slug])
        + "?"
        + urlencode({"locale": contribution.locale}),
    }

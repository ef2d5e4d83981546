"""The lease a checkout request holds while it talks to Stripe, so a double click, a reload or a retry
never creates a second charge or subscription, and no transaction is held across the call.

`provider_attempted_at` is committed before the first create call. While it is recent, the request that
set it owns the checkout: another request for the same checkout is told to ask again in a moment. Once
it is older than the lease (the owner died, or said it is done with `attempt_release`), the next request
takes over, knowing an earlier one may have reached Stripe: it looks the object up by its metadata
before creating anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import OperationalError, transaction
from django.utils import timezone

from readerfund.payments.models import Contribution

# Longer than the slowest owner: a recurring checkout makes up to five calls of at most 20 s each.
ATTEMPT_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class AttemptClaim:
    owner: bool  # this request may create at the provider now
    earlier: bool  # an earlier request set the marker: its create may have reached the provider


def attempt_claim(*, contribution: Contribution) -> AttemptClaim:
    now = timezone.now()
    with transaction.atomic():
        row = Contribution.objects.select_for_update().get(id=contribution.id)
        attempted = row.provider_attempted_at
        if attempted is not None and now - attempted < ATTEMPT_LEASE:
            return AttemptClaim(owner=False, earlier=True)
        if _choice(row) != _choice(contribution):
            # A start changed the checkout (a reload, another amount) after this request read it: what this
            # request would charge is no longer what the reader asked for. The page asks again.
            return AttemptClaim(owner=False, earlier=attempted is not None)
        row.provider_attempted_at = now
        row.save(update_fields=["provider_attempted_at", "updated_at"])
    contribution.provider_attempted_at = now
    return AttemptClaim(owner=True, earlier=attempted is not None)


def _choice(contribution: Contribution) -> tuple[object, ...]:
    return (
        contribution.amount,
        contribution.currency,
        contribution.frequency,
        contribution.provider_setup_intent_id,
        contribution.payment_method_type,
    )


def attempt_release(*, contribution: Contribution) -> None:
    """The owner's calls have ended (answered or failed): the next request need not wait for the lease.
    The marker stays set, so that request still looks before it creates."""
    expired = timezone.now() - ATTEMPT_LEASE
    try:
        Contribution.objects.filter(id=contribution.id).update(provider_attempted_at=expired)
    except OperationalError:
        return  # the database is busy: the lease simply runs out, and the next request waits for it
    contribution.provider_attempted_at = expired

"""The one writer of a contribution's status, by the pure table in payments/transitions.py."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from readerfund.payments.conversions import conversion_count
from readerfund.payments.ledger.renewal_failures import renewal_failures_close
from readerfund.payments.models import Contribution
from readerfund.payments.notices import payment_failed_notify
from readerfund.payments.transitions import Signal, status_next

Status = Contribution.Status
# Reaching one of these is a conversion (counted once per contribution, see payments/conversions.py).
_CONVERTED = {Status.ACTIVE, Status.SUCCEEDED}


def contribution_status_apply(*, contribution_id: int, signal: Signal, reason: str = "") -> Contribution:
    """Apply what the provider (or our checkout) says to the contribution's status; returns the row as
    written. A signal the table says is stale changes nothing. Runs in a short transaction of its own, or
    inside the caller's when it writes a payment together with the status."""
    with transaction.atomic():
        contribution = (
            Contribution.objects.select_for_update().select_related("supporter", "newsroom").get(id=contribution_id)
        )
        was = contribution.status
        paused_until = contribution.paused_until
        pause_over = paused_until is None or paused_until <= timezone.now().date()
        new = status_next(was, signal, pause_over=pause_over)
        if new is not None:
            contribution.status = new
            contribution.failure_reason = reason[:200] if new in (Status.FAILED, Status.PAST_DUE) else ""
            fields = ["status", "failure_reason", "updated_at"]
            if was == Status.PAUSED:
                # The pause is over (resumed, ended, or past its date): its date no longer says anything.
                contribution.paused_until = None
                fields.append("paused_until")
            contribution.save(update_fields=fields)
        if new == Status.CANCELED:
            # A plan that ends with a failed renewal open: no retry of ours may charge it after this.
            renewal_failures_close(contribution=contribution)
        if (was, new, contribution.payment_method_type) == (Status.PENDING, Status.FAILED, "sepa_debit"):
            # A direct debit fails days after the reader left: the thank-you page said we would write.
            payment_failed_notify(contribution=contribution)
        if contribution.status in _CONVERTED:
            conversion_count(contribution=contribution)
    return contribution

"""Repair what lost webhooks and lost answers left out, reading from Stripe only what may have changed.

Stripe gives up on a webhook after a few days, localstripe after one try, an outage of ours can drop
any, and a checkout whose answer from Stripe was lost (a crash, a reader who closed the tab) never
stored the id of what it had created. Each run, in the newsroom's own Stripe account:

1. lists the PaymentIntents, Subscriptions and Refunds created since the newsroom's cursor
   (payments.ReconcileCursor), in pages of 100. An object whose id we never stored is found there and
   matched to its contribution by the checkout's request key in its metadata together with the amount,
   currency and frequency (ledger/matching.py); one that carries no key of ours (another deployment's,
   another newsroom's on a shared account, one made by hand) is skipped and counted;
2. re-reads by id what we hold that may still move: recent one-offs not yet settled, subscriptions that
   are not canceled (and their invoices not yet recorded as paid), refunds still pending;
3. writes through the ledger's idempotent services, the webhook handlers' own.

Settled history (succeeded one-offs with their payment, canceled subscriptions, invoices recorded as
paid) is read again only when asked: `ReconcileScope.since` re-reads what was created from that day on,
`everything` all of it. What changed is the difference of the ledger before and after, so a second run
reports nothing. A rate limit (429) or an outage waits and tries again (run.py); if Stripe still refuses
after that, the run stops and leaves the cursors where they were.

The modules: run.py (a run's state, its patience with Stripe, the cursors and the listing), one_off.py,
recurring.py and refunds.py (what each kind of object needs), snapshot.py (the ledger before and after).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db.models import Max
from django.utils import timezone

from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway
from readerfund.payments.accounts import account_for
from readerfund.payments.models import Payment
from readerfund.payments.reconcile import one_off, recurring, refunds
from readerfund.payments.reconcile.run import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_TRIES,
    CURSOR_LAG,
    UNSETTLED_WINDOW,
    ReconcileReport,
    ReconcileScope,
    Run,
    StripeUnreachable,
    Tally,
    backoff_delay,
)
from readerfund.payments.reconcile.snapshot import ledger_snapshot, snapshot_difference

logger = logging.getLogger(__name__)

__all__ = [
    "BACKOFF_CAP_SECONDS",
    "BACKOFF_TRIES",
    "CURSOR_LAG",
    "UNSETTLED_WINDOW",
    "ReconcileReport",
    "ReconcileScope",
    "StripeUnreachable",
    "Tally",
    "backoff_delay",
    "ledger_reconcile",
    "ledger_snapshot",
    "snapshot_difference",
]


def ledger_reconcile(
    *,
    newsroom: Newsroom,
    scope: ReconcileScope | None = None,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ReconcileReport:
    """Bring the newsroom's ledger in line with its Stripe account and say what changed. `progress` gets
    a line per page and per step; `sleep` is how it waits before trying Stripe again (time.sleep)."""
    account = account_for(newsroom)
    run = Run(
        newsroom=newsroom,
        account=account.fingerprint,
        scope=scope or ReconcileScope(),
        progress=progress or _silent,
        sleep=sleep,
        started=timezone.now(),
    )
    before = ledger_snapshot(newsroom=newsroom)
    payments_before = Payment.objects.filter(newsroom=newsroom).aggregate(last=Max("id"))["last"] or 0
    with gateway.account_use(account):
        try:
            one_off.one_offs_reconcile(run)
            recurring.subscriptions_reconcile(run)
            # After the payments above exist: refunds hang off their charges.
            refunds.refunds_reconcile(run, payments_before=payments_before)
        except StripeUnreachable as stop:
            logger.warning("reconcile of %s stopped: %s", newsroom.slug, stop)
            run.report.errors.append(str(stop))
    run.report.changes = run.repairs + snapshot_difference(before, ledger_snapshot(newsroom=newsroom))
    return run.report


def _silent(line: str) -> None:
    pass

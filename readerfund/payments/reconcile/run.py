"""One reconcile run: what it reads again, what it found, its patience with Stripe, and the cursors."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, ReconcileCursor
from readerfund.payments.provider import GatewayRateLimited, GatewayUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Stripe stamps `created` when it starts making an object, and another request may list it only once
# that create is done: a cursor at the very start of a run could step over a create still in flight,
# the lost answer we look for. The cursor stays this far behind (a create takes 20 s at most, three tries).
CURSOR_LAG = timedelta(minutes=5)
# A contribution still pending, waiting for 3-D Secure, or failed can still turn into money (a late
# 3-D Secure, a SEPA debit takes up to 14 days): re-read by id for this long, then only when asked.
UNSETTLED_WINDOW = timedelta(days=30)
UNSETTLED = (Contribution.Status.PENDING, Contribution.Status.REQUIRES_ACTION, Contribution.Status.FAILED)
PROGRESS_EVERY = 100  # objects read by id between two progress lines, as many as a listed page
BACKOFF_TRIES = 5
BACKOFF_CAP_SECONDS = 60.0

PAYMENT_INTENTS, SUBSCRIPTIONS, INVOICES, REFUNDS, CHARGES = (
    "payment intents",
    "subscriptions",
    "invoices",
    "refunds",
    "charges",
)


@dataclass(frozen=True)
class ReconcileScope:
    """What to read again besides what is new: nothing (the default), what was created since a day
    (`since`), or all of the account's history (`everything`)."""

    since: datetime | None = None
    everything: bool = False

    def rereads(self, created: int | None = None) -> bool:
        """Whether settled history is read again (of an object created at `created`, Unix time)."""
        if self.everything:
            return True
        if self.since is None:
            return False
        return created is None or created >= self.since.timestamp()


@dataclass
class Tally:
    read: int = 0
    repaired: int = 0
    foreign: int = 0  # carries no request key of ours

    def line(self, label: str) -> str:
        return f"{label}: {self.read} read, {self.repaired} repaired, {self.foreign} not ours"


def _tallies() -> dict[str, Tally]:
    return {label: Tally() for label in (PAYMENT_INTENTS, SUBSCRIPTIONS, INVOICES, REFUNDS, CHARGES)}


@dataclass
class ReconcileReport:
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=_tallies)

    @property
    def checked(self) -> int:
        return sum(tally.read for tally in self.tallies.values())


class StripeUnreachable(Exception):  # noqa: N818 - says what happened, as GatewayUnavailable does
    """Stripe kept rate-limiting us, or could not be reached, through every try: the run stops."""


@dataclass
class Run:
    newsroom: Newsroom
    account: str  # the account's fingerprint: cursors are per newsroom and account
    scope: ReconcileScope
    progress: Callable[[str], None]
    started: datetime
    sleep: Callable[[float], None] | None = None  # None: time.sleep, looked up when it is needed
    report: ReconcileReport = field(default_factory=ReconcileReport)
    repairs: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # ids handled in this run, so none is read twice

    def tally(self, label: str) -> Tally:
        return self.report.tallies[label]

    def wait(self, seconds: float) -> None:
        (self.sleep or time.sleep)(seconds)

    def by_id(self, label: str, object_ids: list[str]) -> Iterator[str]:
        """The ids not yet handled in this run, each counted as read, with a progress line every 100."""
        done = 0
        for object_id in object_ids:
            if object_id in self.seen:
                continue
            self.seen.add(object_id)
            self.tally(label).read += 1
            yield object_id
            done += 1
            if done % PROGRESS_EVERY == 0:
                self.progress(self.tally(label).line(f"{label}, by id"))

    def repaired(self, label: str, contribution: Contribution, what: str) -> None:
        self.tally(label).repaired += 1
        line = f"repaired contribution {contribution.id}: found its {what}, whose id was never stored"
        logger.info("reconcile: %s", line)
        self.repairs.append(line)


# --- patience --------------------------------------------------------------------------------------------


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait after failed try number `attempt` (from 1): the Retry-After Stripe gave, else
    1, 2, 4, 8 ... (Stripe documents no such header and asks for an exponential backoff), capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), BACKOFF_CAP_SECONDS)
    return min(2.0 ** (attempt - 1), BACKOFF_CAP_SECONDS)


def patiently(run: Run, what: str, call: Callable[[], T]) -> T:
    """`call`, tried again after a wait while Stripe rate-limits us or is unavailable. Safe to repeat:
    a retryable error means nothing was done, and the ledger's syncs are idempotent anyway."""
    for attempt in range(1, BACKOFF_TRIES):
        try:
            return call()
        except GatewayUnavailable as error:
            retry_after = error.retry_after if isinstance(error, GatewayRateLimited) else None
            delay = backoff_delay(attempt, retry_after)
            run.progress(f"{what}: Stripe answered {error.kind}; trying again in {delay:g} s")
            run.wait(delay)
    try:
        return call()
    except GatewayUnavailable as error:
        raise StripeUnreachable(
            f"{what}: {type(error).__name__}: {error} ({BACKOFF_TRIES} tries; run it again later)"
        ) from error


def error_note(run: Run, what: str, exc: Exception) -> None:
    logger.warning("reconcile: %s failed: %s", what, type(exc).__name__)
    run.report.errors.append(f"{what}: {type(exc).__name__}: {exc}")


def sync(run: Run, what: str, call: Callable[[], object]) -> bool:
    """Run one of the ledger's services (patiently); False, with the error noted, if it failed."""
    try:
        patiently(run, what, call)
    except StripeUnreachable:
        raise
    except Exception as exc:  # one unreachable or odd object must not stop the rest of the repair
        error_note(run, what, exc)
        return False
    return True


# --- cursors and listings --------------------------------------------------------------------------------


def _cursor(run: Run, object_type: str) -> ReconcileCursor | None:
    return ReconcileCursor.objects.filter(newsroom=run.newsroom, account=run.account, object_type=object_type).first()


def _listed_from(run: Run, object_type: str) -> int:
    """Unix time to list from: the cursor's (the beginning without one), or the scope's start if earlier.
    A re-read never reads less than a plain run would."""
    if run.scope.everything:
        return 0
    cursor = _cursor(run, object_type)
    start = int(cursor.created_through.timestamp()) if cursor else 0
    if run.scope.since is not None:
        start = min(start, int(run.scope.since.timestamp()))
    return start


def _cursor_advance(run: Run, object_type: str) -> None:
    """All of the type created since the cursor was read: the next run may start a little before this
    one did (CURSOR_LAG). The cursor never moves back."""
    through = run.started - CURSOR_LAG
    held = _cursor(run, object_type)
    if held is not None and held.created_through >= through:
        return
    ReconcileCursor.objects.update_or_create(
        newsroom=run.newsroom, account=run.account, object_type=object_type, defaults={"created_through": through}
    )


def _pages(run: Run, label: str, listed_from: int, page_of: Callable[..., tuple[list[T], str]]) -> Iterator[list[T]]:
    after = ""
    while True:
        page = functools.partial(page_of, created_since=listed_from, starting_after=after)
        items, after = patiently(run, f"{label} list", page)
        yield items
        if not after:
            return


def listing(run: Run, label: str, object_type: str, page_of: Callable[..., Any], handle: Callable[[Any], None]) -> int:
    """Hand every object of the type created since the cursor to `handle`, page by page; then move the
    cursor on, unless one of them could not be handled (the next run tries again from the same place).
    Returns the Unix time it listed from."""
    listed_from = _listed_from(run, object_type)
    errors = len(run.report.errors)
    tally = run.tally(label)
    for number, items in enumerate(_pages(run, label, listed_from, page_of), start=1):
        for item in items:
            tally.read += 1
            run.seen.add(item.id)
            handle(item)
        run.progress(tally.line(f"{label}, page {number}"))
    if len(run.report.errors) == errors:
        _cursor_advance(run, object_type)
    return listed_from

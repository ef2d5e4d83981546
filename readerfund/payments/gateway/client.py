"""The Stripe client, its errors and the small request helpers every gateway module uses."""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import stripe
from django.db import connections

from readerfund.payments.accounts import ProviderAccount
from readerfund.payments.provider import (
    GatewayError,
    GatewayUnavailable,
    error_from_payload,
)

# Pinned: Invoice.payment_intent / Invoice.subscription and Subscription.current_period_end exist in
# this version (later ones moved them), and localstripe answers in these shapes.
API_VERSION = "2024-06-20"
TIMEOUT_SECONDS = 20


def error_translate(exc: stripe.StripeError) -> GatewayError:
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayUnavailable(str(exc.user_message or exc), kind="unavailable")
    payload: dict[str, Any] = {}
    error = getattr(exc, "error", None)
    if error is not None:
        payload = {k: getattr(error, k, None) for k in ("type", "code", "decline_code", "message")}
    if not payload.get("message"):
        payload["message"] = exc.user_message or str(exc)
    if isinstance(exc, stripe.CardError):
        payload["type"] = "card_error"
        payload["code"] = payload.get("code") or exc.code
    # The status and headers decide rate limits, in-flight keys and bad keys (see error_kind).
    return error_from_payload(payload, http_status=exc.http_status, headers=exc.headers)


@contextlib.contextmanager
def provider_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise error_translate(exc) from exc


class NoProviderAccount(RuntimeError):
    """A provider call with no account selected: a bug, since nobody said whose money it is."""


class ProviderCallInTransaction(RuntimeError):
    """A provider call while a database transaction is open: a bug. On SQLite the transaction holds the
    database's one write lock (on PostgreSQL, row locks) for the whole round-trip to Stripe."""


_account: contextvars.ContextVar[ProviderAccount | None] = contextvars.ContextVar("provider_account", default=None)


@contextlib.contextmanager
def account_use(account: ProviderAccount) -> Iterator[ProviderAccount]:
    """Every provider call inside this block goes to `account` (see payments/accounts.py)."""
    token = _account.set(account)
    try:
        yield account
    finally:
        _account.reset(token)


def account_current() -> ProviderAccount:
    account = _account.get()
    if account is None:
        raise NoProviderAccount("A payment provider call needs gateway.account_use(account_for(newsroom)).")
    return account


def transaction_check() -> None:
    """Refuse to call the provider inside a transaction. A test's own wrapping transaction (pytest-django's
    `db`, marked by Django's TestCase) does not count: it stands for the autocommit of production."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block and any(
            not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
        ):
            raise ProviderCallInTransaction(
                "No payment provider call may run inside a database transaction: gather, decide, then write."
            )


# One client per thread and account: its HTTP session keeps the connection to Stripe open, where a
# client per call paid a TCP (and, at Stripe, TLS) handshake on every read. Per thread because a
# requests session is not meant to be shared between threads, per process because a forked worker
# must not share its parent's sockets, and per account because each newsroom has its own keys.
_clients = threading.local()
_CLIENTS_PER_THREAD = 32


def stripe_client() -> stripe.StripeClient:
    """The client for the selected account. Every call to the provider comes through here, so here is
    where the two rules are enforced: an account was chosen, and no transaction is open."""
    account = account_current()
    transaction_check()
    key = (account.fingerprint, os.getpid())
    cache: dict[tuple[str, int], stripe.StripeClient] | None = getattr(_clients, "by_account", None)
    if cache is None:
        cache = _clients.by_account = {}
    client = cache.get(key)
    if client is not None:
        return client
    kwargs: dict[str, Any] = {}
    base = account.api_base
    if base:
        kwargs["base_addresses"] = {"api": base, "files": base, "connect": base}
    if account.connected_account:
        kwargs["stripe_account"] = account.connected_account
    # Stripe dedupes retried writes by idempotency key; an emulator does not, so never retry there.
    retries = 0 if base else 2
    client = stripe.StripeClient(
        account.secret_key,
        stripe_version=API_VERSION,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        **kwargs,
    )
    if len(cache) >= _CLIENTS_PER_THREAD:
        cache.clear()
    cache[key] = client
    return client


def read(path: str, **params: Any) -> dict[str, Any]:
    """A GET answered as plain JSON. The ledger's reads skip the SDK's object model: building
    StripeObjects from a response and turning them back into dicts cost as much as the request."""
    return dict(stripe_client().raw_request("get", path, **params).data)


def read_all(path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint, page by page."""
    while True:
        page = read(path, **params)
        items = page.get("data") or []
        yield from items
        if not (page.get("has_more") and items):
            return
        params = {**params, "starting_after": items[-1]["id"]}


def path(*parts: str) -> str:
    # Ids come from event payloads: never let one reach another path.
    return "/v1/" + "/".join(quote(part, safe="") for part in parts)


def write_options(key: str) -> Any:
    """Idempotency keys come from our records' random request keys (never bare row ids, which repeat after
    a restore or in a second deployment on one account), scoped by the step: `<request key>:<step>`."""
    if not key:
        raise ValueError("every write to the provider needs an idempotency key")
    return {"idempotency_key": key}


# Stripe's largest page: a reconcile reads the account in pages of this many objects.
PAGE_SIZE = 100


def read_page(
    list_path: str, *, created_since: int = 0, starting_after: str = "", **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """One page of a list endpoint: its objects created at or after `created_since` (Unix time; 0 for all)
    and the `starting_after` of the next page ("" after the last).

    Stripe filters by `created[gte]`. localstripe answers 400 (PaymentIntents) or 500 (Refunds,
    Subscriptions) to it, so on an emulator the page is asked for unfiltered and filtered here, by each
    object's `created`: the one place that decides which. The next page follows the unfiltered page, so
    nothing is skipped either way."""
    query: dict[str, Any] = {"limit": PAGE_SIZE, **params}
    if starting_after:
        query["starting_after"] = starting_after
    emulated = account_current().emulator
    if created_since and not emulated:
        query["created"] = {"gte": created_since}
    page = read(list_path, **query)
    items = list(page.get("data") or [])
    next_after = str(items[-1]["id"]) if page.get("has_more") and items else ""
    if created_since and emulated:
        items = [item for item in items if int(item.get("created") or 0) >= created_since]
    return items, next_after

"""Stripe requests per processed event, by event type, for the webhooks bench (see bench/webhooks.py).

Counted at the HTTP client, where nothing is missed: every HTTP request that requests.Session sends
while a webhook handler runs is attributed to the type of the event that handler is processing (the
gateway's SDK calls and raw reads alike, and any retry). The db_worker processes install this through
bench/_webhook_worker.py and write their counts to a JSON file, which the bench adds up.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# What the bench aims at: the ledger reads an object's current state, so one read is the floor; two on
# average leaves room for the objects a sync must also read (an invoice's intent, a refund's charge).
MAX_REQUESTS_PER_EVENT = 2.0

# Stripe ids are a lower-case prefix, an underscore and a mix of letters and digits (`pi_3N…`, `in_1O…`);
# resource names (`payment_intents`) are lower-case words only.
_ID = re.compile(r"^[a-z]+_(?=[A-Za-z0-9_]*[A-Z0-9])[A-Za-z0-9_]+$")
_event_type: contextvars.ContextVar[str | None] = contextvars.ContextVar("bench_event_type", default=None)


@dataclass
class RequestCount:
    events: Counter[str] = field(default_factory=Counter)  # event type -> events handled
    requests: Counter[str] = field(default_factory=Counter)  # event type -> HTTP requests sent
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # event type -> "GET /v1/invoices/{id}" -> n
    seconds: Counter[str] = field(default_factory=Counter)  # event type -> time spent waiting for Stripe

    def add(self, other: RequestCount) -> None:
        self.events.update(other.events)
        self.requests.update(other.requests)
        self.seconds.update(other.seconds)
        for kind, calls in other.calls.items():
            self.calls.setdefault(kind, Counter()).update(calls)

    def dump(self, path: Path) -> None:
        data = {"events": self.events, "requests": self.requests, "calls": self.calls, "seconds": self.seconds}
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> RequestCount:
        data = json.loads(path.read_text())
        return cls(
            events=Counter(data["events"]),
            requests=Counter(data["requests"]),
            calls={kind: Counter(calls) for kind, calls in data["calls"].items()},
            seconds=Counter(data["seconds"]),
        )

    @property
    def average(self) -> float:
        total = sum(self.events.values())
        return sum(self.requests.values()) / total if total else 0.0


def call_name(method: str, url: str) -> str:
    """`GET /v1/invoices/{id}`: the endpoint, without the ids that make every request different."""
    parts = ["{id}" if _ID.match(part) else part for part in urlsplit(url).path.split("/")]
    return f"{method.upper()} {'/'.join(parts)}"


def _request_counted(count: RequestCount, request: Any) -> Any:
    @functools.wraps(request)
    def counted(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kind = _event_type.get()
        if kind is None:
            return request(self, method, url, *args, **kwargs)
        count.requests[kind] += 1
        count.calls.setdefault(kind, Counter())[call_name(method, url)] += 1
        started = time.perf_counter()
        try:
            return request(self, method, url, *args, **kwargs)
        finally:
            count.seconds[kind] += time.perf_counter() - started

    counted.bench_original = request  # type: ignore[attr-defined]
    return counted


@contextlib.contextmanager
def event_counted(count: RequestCount, kind: str) -> Iterator[None]:
    """Attribute the HTTP requests sent inside this block to one event of type `kind`."""
    count.events[kind] += 1
    count.requests[kind] += 0  # an event that needed no request still shows, with 0
    token = _event_type.set(kind)
    try:
        yield
    finally:
        _event_type.reset(token)


def _handler_counted(count: RequestCount, kind: str, handler: Any) -> Any:
    @functools.wraps(handler)
    def counted(newsroom: Any, event: dict[str, Any]) -> Any:
        with event_counted(count, kind):
            return handler(newsroom, event)

    counted.bench_original = handler  # type: ignore[attr-defined]
    return counted


def counting_install(count: RequestCount) -> None:
    """Count every HTTP request sent by requests.Session, and attribute it through the handler table.
    Call after django.setup(), before any event is processed; once per process."""
    import requests

    from readerfund.payments import handlers

    requests.Session.request = _request_counted(count, requests.Session.request)  # type: ignore[method-assign]
    for kind, handler in list(handlers.HANDLERS.items()):
        handlers.HANDLERS[kind] = _handler_counted(count, kind, handler)


def counting_uninstall() -> None:
    """Undo counting_install (for tests, which share one process)."""
    import requests

    from readerfund.payments import handlers

    original = getattr(requests.Session.request, "bench_original", None)
    if original is not None:
        requests.Session.request = original  # type: ignore[method-assign]
    for kind, handler in list(handlers.HANDLERS.items()):
        handlers.HANDLERS[kind] = getattr(handler, "bench_original", handler)


def requests_table(count: RequestCount) -> list[str]:
    """Event type, events, requests, requests per event, the time waiting for Stripe per event, and which
    calls those requests were (per event)."""
    width = max([len("event type"), *(len(kind) for kind in count.events)])
    lines = [
        f"  {'event type':<{width}}  {'events':>6}  {'requests':>8}  {'per event':>9}  {'ms/event':>8}  calls per event"
    ]
    for kind in sorted(count.events):
        events, requests = count.events[kind], count.requests[kind]
        calls = ", ".join(
            f"{name} x{number / events:.2f}" for name, number in sorted(count.calls.get(kind, Counter()).items())
        )
        waited = 1000 * count.seconds[kind] / events
        lines.append(
            f"  {kind:<{width}}  {events:>6}  {requests:>8}  {requests / events:>9.2f}  {waited:>8.1f}  {calls}"
        )
    events, requests = sum(count.events.values()), sum(count.requests.values())
    waited = 1000 * sum(count.seconds.values()) / events if events else 0.0
    lines.append(f"  {'all events':<{width}}  {events:>6}  {requests:>8}  {count.average:>9.2f}  {waited:>8.1f}")
    return lines

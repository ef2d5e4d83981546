"""Aggregate appeal events, buffered in memory and written in batches.

A pageview adds one to an in-process counter; a flush turns the counters into one upsert per
(variant, day). Nothing about the reader is kept: not an id, not an IP, not a user agent.
A crash loses at most the counts since the last flush (EVENTS_FLUSH_SECONDS): an accepted cost
for aggregate analytics, in exchange for no database write on the pageview path.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import Counter
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from readerfund.appeals.models import Variant, VariantDailyCount
from readerfund.core.counting import counter_add

EVENT_FIELDS = {"view": "views", "click": "clicks", "dismiss": "dismissals", "remind": "reminds"}

_buffer: Counter[tuple[int, date, str]] = Counter()
_lock = threading.Lock()
_last_flush = time.monotonic()
_flusher: threading.Thread | None = None
_stopping = threading.Event()


def event_record(*, variant_id: int, event: str, day: date | None = None) -> None:
    """Count one event. Flushes from a background thread, never on the request path."""
    key = (variant_id, day or timezone.now().date(), EVENT_FIELDS[event])
    with _lock:
        _buffer[key] += 1
    _ensure_flusher()


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None and _flusher.is_alive():
        return
    with _lock:
        if _flusher is not None and _flusher.is_alive():
            return
        _flusher = threading.Thread(target=_flush_loop, name="readerfund-event-flusher", daemon=True)
        _flusher.start()


def _flush_loop() -> None:
    while not _stopping.wait(settings.EVENTS_FLUSH_SECONDS):
        try:
            events_flush()
        except Exception:  # noqa: BLE001 - keep counting; the next flush retries the batch
            import logging

            logging.getLogger(__name__).exception("event flush failed; will retry")
        finally:
            # This thread's connection would otherwise stay open between flushes (and block
            # dropping a test database on PostgreSQL).
            connection.close()


def events_flusher_stop() -> None:
    """Stop the background flusher (tests flush by hand); the next event starts a new one."""
    global _flusher
    _stopping.set()
    if _flusher is not None:
        _flusher.join(timeout=10)
    _flusher = None
    _stopping.clear()


def events_flush() -> int:
    """Write the buffered counts. Returns how many (variant, day) rows were touched."""
    global _last_flush
    with _lock:
        batch = dict(_buffer)
        _buffer.clear()
        _last_flush = time.monotonic()
    if not batch:
        return 0
    rows: dict[tuple[int, date], dict[str, int]] = {}
    for (variant_id, day, field_name), count in batch.items():
        rows.setdefault((variant_id, day), {})[field_name] = count
    try:
        # One transaction for the batch: a failure writes none of it, so putting it all back below
        # can't count anything twice.
        with transaction.atomic():
            # A variant deleted since its events were counted has nowhere to go: drop those counts.
            existing = set(Variant.objects.filter(id__in={v for v, _ in rows}).values_list("id", flat=True))
            for (variant_id, day), increments in rows.items():
                if variant_id in existing:
                    _upsert(variant_id, day, increments)
    except Exception:
        # Put the batch back so a failed write loses nothing.
        with _lock:
            for key, count in batch.items():
                _buffer[key] += count
        raise
    return len(rows)


def _upsert(variant_id: int, day: date, increments: dict[str, int]) -> None:
    counter_add(VariantDailyCount, key={"variant_id": variant_id, "day": day}, increments=increments)


def events_pending() -> int:
    with _lock:
        return sum(_buffer.values())


atexit.register(lambda: events_flush() if _buffer else None)

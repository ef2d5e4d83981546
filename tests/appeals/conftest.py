from __future__ import annotations

from collections.abc import Iterator

import pytest

from readerfund.appeals import counters


@pytest.fixture(autouse=True)
def _flush_only_by_hand(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No background flusher: it would write (or, not seeing the test's uncommitted rows, drop)
    buffered counts while a test is still asserting what is buffered."""
    counters.events_flusher_stop()
    monkeypatch.setattr(counters, "_ensure_flusher", lambda: None)
    yield

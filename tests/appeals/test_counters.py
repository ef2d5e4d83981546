"""Buffered event counts: written in one batch, never lost, never counted twice."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from readerfund.appeals import counters
from readerfund.appeals.models import Variant, VariantDailyCount

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 3, 1)


def test_a_failed_flush_writes_nothing_and_the_retry_counts_once(
    demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = Variant.objects.filter(campaign__newsroom=demo_newsroom).order_by("id")
    for _ in range(3):
        counters.event_record(variant_id=first.id, event="view", day=DAY)
    counters.event_record(variant_id=second.id, event="click", day=DAY)
    real_upsert = counters._upsert
    calls = []

    def failing_on_the_second_row(variant_id: int, day: date, increments: dict[str, int]) -> None:
        calls.append(variant_id)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_upsert(variant_id, day, increments)

    monkeypatch.setattr(counters, "_upsert", failing_on_the_second_row)
    with pytest.raises(RuntimeError):
        counters.events_flush()
    assert VariantDailyCount.objects.count() == 0
    assert counters.events_pending() == 4
    monkeypatch.setattr(counters, "_upsert", real_upsert)
    assert counters.events_flush() == 2
    assert VariantDailyCount.objects.get(variant=first, day=DAY).views == 3
    assert VariantDailyCount.objects.get(variant=second, day=DAY).clicks == 1
    assert counters.events_pending() == 0


def test_counts_for_a_deleted_variant_are_dropped(demo_newsroom: Any) -> None:
    variant = Variant.objects.filter(campaign__newsroom=demo_newsroom).first()
    assert variant is not None
    counters.event_record(variant_id=variant.id, event="view", day=DAY)
    variant.delete()
    assert counters.events_flush() == 1
    assert not VariantDailyCount.objects.exists()
    assert counters.events_pending() == 0

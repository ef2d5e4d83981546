"""A/B results: aggregate conversion counters per variant, currency and frequency.

A contribution counts once, when it first succeeds (one-off) or first becomes active (recurring):
a started-but-abandoned checkout is not a conversion. Nothing here links an appeal view to a reader.
"""

from __future__ import annotations

from django.utils import timezone

from readerfund.core.counting import counter_add
from readerfund.payments.models import Contribution, ConversionCount


def conversion_count(*, contribution: Contribution) -> bool:
    """Add the contribution to its variant's counter once. Call inside a transaction holding its row."""
    if contribution.counted_at is not None:
        return False
    contribution.counted_at = timezone.now()
    Contribution.objects.filter(id=contribution.id).update(counted_at=contribution.counted_at)
    if contribution.variant_id is None:
        return False
    key = {
        "variant_id": contribution.variant_id,
        "currency": contribution.currency,
        "frequency": contribution.frequency,
    }
    counter_add(ConversionCount, key=key, increments={"count": 1, "amount": contribution.amount})
    return True

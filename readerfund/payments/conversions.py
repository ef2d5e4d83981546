"""A/B results: aggregate conversion counters per variant, currency and frequency.

A contribution counts once, when it first succeeds (one-off) or first becomes active (recurring):
a started-but-abandoned checkout is not a conversion. Nothing here links an appeal view to a reader.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

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
    increment = {"count": F("count") + 1, "amount": F("amount") + contribution.amount}
    if not ConversionCount.objects.filter(**key).update(**increment):
        try:
            with transaction.atomic():
                ConversionCount.objects.create(**key, count=1, amount=contribution.amount)
        except IntegrityError:
            ConversionCount.objects.filter(**key).update(**increment)
    return True

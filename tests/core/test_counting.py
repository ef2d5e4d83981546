import pytest

from readerfund.appeals.models import VariantDailyCount
from readerfund.core.counting import counter_add

pytestmark = pytest.mark.django_db


def test_counter_add_creates_then_adds(demo_newsroom) -> None:
    variant = demo_newsroom.campaigns.get().variants.first()
    key = {"variant_id": variant.id, "day": "2026-11-30"}
    counter_add(VariantDailyCount, key=key, increments={"views": 2})
    counter_add(VariantDailyCount, key=key, increments={"views": 3, "clicks": 1})
    row = VariantDailyCount.objects.get(**key)
    assert (row.views, row.clicks, row.dismissals) == (5, 1, 0)
    assert VariantDailyCount.objects.count() == 1

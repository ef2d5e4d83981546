from datetime import timedelta

import pytest
from django.utils import timezone

from readerfund.appeals.models import Variant
from readerfund.reminders.services import reminder_schedule


@pytest.fixture
def schedule_reminder(demo_newsroom):
    """Schedule a reminder through the service, as the API does."""

    def make(email="reader@example.org", *, days=14, locale="en", attributed=True):
        variant = Variant.objects.filter(campaign__newsroom=demo_newsroom).first()
        return reminder_schedule(
            newsroom=demo_newsroom,
            email=email,
            remind_on=timezone.now().date() + timedelta(days=days),
            locale=locale,
            campaign_id=variant.campaign_id if attributed else None,
            variant_id=variant.id if attributed else None,
        ).reminder

    return make


@pytest.fixture
def after(demo_newsroom):
    """A moment past a reminder's due time: the clock moved forward without sleeping."""

    def at(reminder):
        return reminder.due_at + timedelta(minutes=1)

    return at

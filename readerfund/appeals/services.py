"""Writes for appeals: publishing the compiled document when an editor saves."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from readerfund.appeals.models import Campaign, PublishedAppeals
from readerfund.appeals.publish import CampaignSpec, VariantSpec, compile_document
from readerfund.newsrooms.models import Newsroom


def _codes(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def campaign_spec(campaign: Campaign) -> CampaignSpec:
    return CampaignSpec(
        id=campaign.id,
        status=campaign.status,
        placement=campaign.placement,
        priority=campaign.priority,
        min_articles=campaign.min_articles,
        countries_include=frozenset(c.upper() for c in _codes(campaign.countries_include)),
        countries_exclude=frozenset(c.upper() for c in _codes(campaign.countries_exclude)),
        locales=frozenset(c.lower() for c in _codes(campaign.locales)),
        sections=frozenset(c.lower() for c in _codes(campaign.sections)),
        skip_supporters=campaign.skip_supporters,
        snooze_days=campaign.snooze_days,
        max_views_per_30_days=campaign.max_views_per_30_days,
        remind_choices=tuple(int(d) for d in (campaign.remind_choices or [])),
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        variants=tuple(
            VariantSpec(
                id=v.id,
                key=v.key,
                weight=v.weight,
                copy=v.copy,
                amounts=v.amounts,
                minimums=v.minimums,
                default_frequency=v.default_frequency,
            )
            for v in campaign.variants.all()
        ),
    )


def newsroom_header(newsroom: Newsroom) -> dict[str, str]:
    return {
        "slug": newsroom.slug,
        "name": newsroom.name,
        "default_locale": newsroom.default_locale,
        "default_currency": newsroom.default_currency,
        "brand_colour": newsroom.brand_colour,
    }


def appeals_publish(*, newsroom: Newsroom) -> PublishedAppeals:
    """Recompile and store the newsroom's document; bump its version so every process reloads it."""
    campaigns = Campaign.objects.filter(newsroom=newsroom, status=Campaign.Status.LIVE).prefetch_related("variants")
    document = compile_document(
        newsroom=newsroom_header(newsroom),
        campaigns=[campaign_spec(c) for c in campaigns],
        now=timezone.now(),
    )
    with transaction.atomic():
        published, created = PublishedAppeals.objects.select_for_update().get_or_create(
            newsroom=newsroom, defaults={"document": document, "version": 1}
        )
        if not created:
            PublishedAppeals.objects.filter(pk=published.pk).update(document=document, version=F("version") + 1)
            published.refresh_from_db()
    return published

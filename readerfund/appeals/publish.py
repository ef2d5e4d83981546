"""Compile a newsroom's campaigns into the document the embed reads. Pure: no Django import.

`compile_document` runs when an editor saves; `document_for_request` runs per request and only
filters, so serving the appeal never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PLACEMENTS = ("article-end",)


@dataclass(frozen=True)
class VariantSpec:
    id: int
    key: str
    weight: int
    copy: dict[str, dict[str, Any]]
    amounts: dict[str, dict[str, list[int]]]
    minimums: dict[str, dict[str, int]]
    default_frequency: str


@dataclass(frozen=True)
class CampaignSpec:
    id: int
    status: str
    placement: str
    priority: int
    min_articles: int
    countries_include: frozenset[str]
    countries_exclude: frozenset[str]
    locales: frozenset[str]
    sections: frozenset[str]
    skip_supporters: bool
    snooze_days: int
    max_views_per_30_days: int
    remind_choices: tuple[int, ...]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    variants: tuple[VariantSpec, ...] = field(default_factory=tuple)


def _iso(moment: datetime | None) -> str | None:
    # Second precision in UTC, so the strings compare in time order.
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _campaign_entry(campaign: CampaignSpec) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "placement": campaign.placement,
        "priority": campaign.priority,
        "starts_at": _iso(campaign.starts_at),
        "ends_at": _iso(campaign.ends_at),
        "target": {
            "min_articles": campaign.min_articles,
            "countries_include": sorted(campaign.countries_include),
            "countries_exclude": sorted(campaign.countries_exclude),
            "locales": sorted(campaign.locales),
            "sections": sorted(campaign.sections),
            "skip_supporters": campaign.skip_supporters,
        },
        "snooze_days": campaign.snooze_days,
        "max_views_per_30_days": campaign.max_views_per_30_days,
        "remind_choices": list(campaign.remind_choices),
        "variants": [
            {
                "id": v.id,
                "key": v.key,
                "weight": v.weight,
                "copy": v.copy,
                "amounts": v.amounts,
                "minimums": v.minimums,
                "default_frequency": v.default_frequency,
            }
            for v in campaign.variants
            if v.weight > 0
        ],
    }


def compile_document(*, newsroom: dict[str, Any], campaigns: list[CampaignSpec], now: datetime) -> dict[str, Any]:
    """Every live campaign that can still run, highest priority first, with all locales' copy."""
    entries = []
    for campaign in sorted(campaigns, key=lambda c: (-c.priority, c.id)):
        if campaign.status != "live" or campaign.placement not in PLACEMENTS:
            continue
        if campaign.ends_at is not None and campaign.ends_at <= now:
            continue
        entry = _campaign_entry(campaign)
        if entry["variants"]:
            entries.append(entry)
    return {"newsroom": newsroom, "campaigns": entries}


def _country_applies(target: dict[str, Any], country: str | None) -> bool:
    include, exclude = target["countries_include"], target["countries_exclude"]
    if country is None:
        # Unknown country: an include list can't be satisfied; an exclude list can't be ruled out.
        return not include
    return (not include or country in include) and country not in exclude


def _pick_copy(copy: dict[str, Any], locale: str, fallback: str) -> tuple[str, dict[str, Any]] | None:
    for candidate in (locale, fallback, *sorted(copy)):
        if candidate in copy:
            return candidate, copy[candidate]
    return None


def document_for_request(
    document: dict[str, Any], *, country: str | None, locale: str, now: datetime
) -> dict[str, Any]:
    """What one reader's browser needs: campaigns for their country, copy in their locale."""
    fallback = document["newsroom"].get("default_locale", "en")
    campaigns = []
    for entry in document["campaigns"]:
        starts, ends = entry["starts_at"], entry["ends_at"]
        now_iso = _iso(now) or ""
        if (starts and starts > now_iso) or (ends and ends <= now_iso):
            continue
        if not _country_applies(entry["target"], country):
            continue
        variants = []
        for variant in entry["variants"]:
            picked = _pick_copy(variant["copy"], locale, fallback)
            if picked is None:
                continue
            copy_locale, copy = picked
            variants.append({**variant, "locale": copy_locale, "copy": copy})
        if variants:
            target = {k: v for k, v in entry["target"].items() if not k.startswith("countries_")}
            campaigns.append({**entry, "target": target, "variants": variants})
    return {"newsroom": document["newsroom"], "locale": locale, "campaigns": campaigns}

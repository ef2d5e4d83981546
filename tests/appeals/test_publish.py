"""The compiled appeals document: what goes in when an editor saves, what one reader receives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.appeals.publish import CampaignSpec, VariantSpec, compile_document, document_for_request

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NEWSROOM = {"slug": "gazette", "name": "Gazette", "default_locale": "en", "default_currency": "USD"}
COPY = {
    "en": {"heading": "Support us", "cta": "Support"},
    "ru": {"heading": "Поддержите нас", "cta": "Поддержать"},
}


def variant(id: int = 1, *, weight: int = 1, copy: dict[str, Any] | None = None) -> VariantSpec:
    return VariantSpec(
        id=id,
        key=f"v{id}",
        weight=weight,
        copy=COPY if copy is None else copy,
        amounts={"USD": {"monthly": [200, 500]}},
        minimums={"USD": {"monthly": 200}},
        default_frequency="monthly",
    )


def campaign(id: int = 1, **changes: Any) -> CampaignSpec:
    spec = CampaignSpec(
        id=id,
        status="live",
        placement="article-end",
        priority=0,
        min_articles=0,
        countries_include=frozenset(),
        countries_exclude=frozenset(),
        locales=frozenset(),
        sections=frozenset(),
        skip_supporters=True,
        snooze_days=7,
        max_views_per_30_days=0,
        remind_choices=(14, 30),
        variants=(variant(id * 10),),
    )
    return replace(spec, **changes)


def served(*campaigns: CampaignSpec, country: str | None = "DE", locale: str = "en", at: datetime = NOW) -> dict:
    document = compile_document(newsroom=NEWSROOM, campaigns=list(campaigns), now=NOW)
    return document_for_request(document, country=country, locale=locale, now=at)


def ids(document: dict) -> list[int]:
    return [c["id"] for c in document["campaigns"]]


@pytest.mark.parametrize(
    ("changes", "published"),
    [
        ({}, True),
        ({"status": "draft"}, False),
        ({"status": "ended"}, False),
        ({"ends_at": NOW - timedelta(seconds=1)}, False),
        ({"ends_at": NOW}, False),
        ({"ends_at": NOW + timedelta(days=1)}, True),
        # Starts later: published now, so it appears without another save.
        ({"starts_at": NOW + timedelta(days=1)}, True),
        ({"placement": "sidebar"}, False),
        ({"variants": (variant(1, weight=0),)}, False),
        ({"variants": ()}, False),
    ],
)
def test_what_an_editors_save_publishes(changes: dict[str, Any], published: bool) -> None:
    document = compile_document(newsroom=NEWSROOM, campaigns=[campaign(**changes)], now=NOW)
    assert bool(document["campaigns"]) is published


def test_zero_weight_variants_are_dropped_and_the_rest_kept() -> None:
    document = compile_document(
        newsroom=NEWSROOM, campaigns=[campaign(variants=(variant(1, weight=0), variant(2, weight=3)))], now=NOW
    )
    assert [(v["id"], v["weight"]) for v in document["campaigns"][0]["variants"]] == [(2, 3)]


def test_campaigns_come_highest_priority_first_then_oldest() -> None:
    document = served(
        campaign(1, priority=0), campaign(2, priority=5), campaign(3, priority=5), campaign(4, priority=-1)
    )
    assert ids(document) == [2, 3, 1, 4]


@pytest.mark.parametrize(
    ("include", "exclude", "country", "shown"),
    [
        ((), (), "DE", True),
        ((), (), None, True),
        (("RU", "BY"), (), "RU", True),
        (("RU", "BY"), (), "DE", False),
        # An unknown country can't satisfy an include list...
        (("RU",), (), None, False),
        ((), ("RU",), "RU", False),
        ((), ("RU",), "DE", True),
        # ...and can't be ruled out by an exclude list.
        ((), ("RU",), None, True),
        (("RU", "BY"), ("BY",), "BY", False),
    ],
)
def test_country_include_and_exclude(include: tuple, exclude: tuple, country: str | None, shown: bool) -> None:
    spec = campaign(countries_include=frozenset(include), countries_exclude=frozenset(exclude))
    assert bool(served(spec, country=country)["campaigns"]) is shown


def test_the_reader_never_sees_the_country_lists() -> None:
    entry = served(campaign(countries_include=frozenset({"RU"})), country="RU")["campaigns"][0]
    assert not any(key.startswith("countries_") for key in entry["target"])


@pytest.mark.parametrize(
    ("starts", "ends", "at", "shown"),
    [
        (None, None, NOW, True),
        (NOW + timedelta(hours=1), None, NOW, False),
        (NOW + timedelta(hours=1), None, NOW + timedelta(hours=1), True),
        (None, NOW + timedelta(hours=1), NOW + timedelta(minutes=59), True),
        # Published before its end, requested after it: the request-time filter drops it.
        (None, NOW + timedelta(hours=1), NOW + timedelta(hours=1), False),
    ],
)
def test_schedule_applies_when_the_reader_asks(
    starts: datetime | None, ends: datetime | None, at: datetime, shown: bool
) -> None:
    assert bool(served(campaign(starts_at=starts, ends_at=ends), at=at)["campaigns"]) is shown


@pytest.mark.parametrize(
    ("copy", "locale", "picked"),
    [
        (COPY, "ru", "ru"),
        (COPY, "en", "en"),
        # No Ukrainian copy: the newsroom's default locale.
        (COPY, "uk", "en"),
        # Neither requested nor default: the first written, alphabetically.
        ({"ru": COPY["ru"], "de": COPY["en"]}, "uk", "de"),
    ],
)
def test_copy_falls_back_to_the_newsrooms_locale(copy: dict, locale: str, picked: str) -> None:
    entry = served(campaign(variants=(variant(1, copy=copy),)), locale=locale)["campaigns"][0]
    assert entry["variants"][0]["locale"] == picked
    assert entry["variants"][0]["copy"] == copy[picked]


def test_a_variant_without_any_copy_is_left_out() -> None:
    spec = campaign(variants=(variant(1, copy={}), variant(2)))
    assert [v["id"] for v in served(spec)["campaigns"][0]["variants"]] == [2]


def test_times_are_utc_strings_that_survive_json() -> None:
    document = compile_document(newsroom=NEWSROOM, campaigns=[campaign(ends_at=NOW + timedelta(days=1))], now=NOW)
    assert document["campaigns"][0]["ends_at"] == "2026-06-02T12:00:00Z"


# --- properties ------------------------------------------------------------------------------------

COUNTRIES = ["RU", "BY", "DE", "UA", "KZ"]
countries = st.frozensets(st.sampled_from(COUNTRIES), max_size=3)
moments = st.one_of(st.none(), st.integers(-48, 48).map(lambda h: NOW + timedelta(hours=h)))
campaign_specs = st.builds(
    lambda id, status, priority, include, exclude, starts, ends, weights: campaign(
        id,
        status=status,
        priority=priority,
        countries_include=include,
        countries_exclude=exclude,
        starts_at=starts,
        ends_at=ends,
        variants=tuple(variant(id * 10 + n, weight=w) for n, w in enumerate(weights)),
    ),
    id=st.integers(1, 10_000),
    status=st.sampled_from(["live", "live", "draft", "ended"]),
    priority=st.integers(-3, 3),
    include=countries,
    exclude=countries,
    starts=moments,
    ends=moments,
    weights=st.lists(st.integers(0, 3), max_size=3),
)
campaign_lists = st.lists(campaign_specs, max_size=6, unique_by=lambda c: c.id)


@given(campaign_lists, st.sampled_from([*COUNTRIES, None]), st.integers(-48, 48))
def test_a_reader_only_gets_live_running_campaigns_for_their_country(
    campaigns: list[CampaignSpec], country: str | None, hours: int
) -> None:
    at = NOW + timedelta(hours=hours)
    by_id = {c.id: c for c in campaigns}
    document = served(*campaigns, country=country, at=at)
    for entry in document["campaigns"]:
        spec = by_id[entry["id"]]
        assert spec.status == "live"
        assert spec.starts_at is None or spec.starts_at <= at
        assert spec.ends_at is None or (spec.ends_at > at and spec.ends_at > NOW)
        assert country not in spec.countries_exclude
        assert not spec.countries_include or country in spec.countries_include
        assert entry["variants"] and all(v["weight"] > 0 for v in entry["variants"])
    priorities = [by_id[i].priority for i in ids(document)]
    assert priorities == sorted(priorities, reverse=True)


@given(campaign_lists, st.sampled_from([*COUNTRIES, None]))
def test_every_eligible_campaign_is_served(campaigns: list[CampaignSpec], country: str | None) -> None:
    def eligible(spec: CampaignSpec) -> bool:
        return (
            spec.status == "live"
            and (spec.starts_at is None or spec.starts_at <= NOW)
            and (spec.ends_at is None or spec.ends_at > NOW)
            and (not spec.countries_include or country in spec.countries_include)
            and country not in spec.countries_exclude
            and any(v.weight > 0 for v in spec.variants)
        )

    assert set(ids(served(*campaigns, country=country))) == {c.id for c in campaigns if eligible(c)}

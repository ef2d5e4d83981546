"""Editing campaigns in the admin: mistakes explained in the editor's words, saves republish the appeal."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from readerfund.appeals import selectors
from readerfund.appeals.models import Campaign, PublishedAppeals, Variant
from readerfund.demo.seed import AMOUNTS, COPY_EN, MINIMUMS

pytestmark = pytest.mark.django_db

ADD = "/admin/appeals/campaign/add/"
APPEALS = "/api/v1/newsrooms/demo/appeals.json"


@pytest.fixture
def admin_client(db: Any) -> Client:
    """A signed-in superuser, without the slow password hashing of pytest-django's own fixture."""
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create(username="editor", is_staff=True, is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def _see_saves_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "_RECHECK_SECONDS", 0)


def variant_fields(index: int, **changes: Any) -> dict[str, str]:
    fields = {
        "key": f"v{index}",
        "weight": "1",
        "default_frequency": "monthly",
        "copy": json.dumps({"en": COPY_EN}),
        "amounts": json.dumps(AMOUNTS),
        "minimums": json.dumps(MINIMUMS),
        **changes,
    }
    return {f"variants-{index}-{name}": value for name, value in fields.items()}


def campaign_form(newsroom: Any, *variants: dict[str, str], **changes: str) -> dict[str, str]:
    data = {
        "newsroom": str(newsroom.pk),
        "name": "Spring appeal",
        "status": "live",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "placement": "article-end",
        "min_articles": "0",
        "countries_include": "",
        "countries_exclude": "",
        "locales": "",
        "sections": "",
        "skip_supporters": "on",
        "snooze_days": "7",
        "max_views_per_30_days": "0",
        "priority": "50",
        "remind_choices": "[14, 30, 90]",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        **changes,
    }
    for fields in variants:
        data |= fields
    return data


def page_text(response: Any) -> str:
    from html import unescape

    return unescape(response.content.decode())


def test_a_valid_campaign_saved_in_the_admin_is_published(admin_client: Client, demo_newsroom: Any) -> None:
    before = Client().get(APPEALS)
    response = admin_client.post(ADD, campaign_form(demo_newsroom, variant_fields(0), variant_fields(1, weight="3")))
    assert response.status_code == 302, page_text(response)
    campaign = Campaign.objects.get(name="Spring appeal")
    assert campaign.variants.count() == 2
    after = Client().get(APPEALS)
    assert after["ETag"] != before["ETag"]
    served = after.json()["campaigns"][0]
    assert served["id"] == campaign.id
    assert [v["weight"] for v in served["variants"]] == [1, 3]


def test_an_edit_republishes_and_changes_the_etag(admin_client: Client, demo_newsroom: Any) -> None:
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    etag = Client().get(APPEALS)["ETag"]
    version = PublishedAppeals.objects.get(newsroom=demo_newsroom).version
    data = campaign_form(demo_newsroom, name="Monthly appeal", priority="10")
    data |= {"variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "2"}
    for index, variant in enumerate(campaign.variants.order_by("id")):
        copy = {**variant.copy, "en": {**variant.copy["en"], "heading": f"Edited heading {index}"}}
        data |= variant_fields(index, key=variant.key, copy=json.dumps(copy))
        data |= {f"variants-{index}-id": str(variant.id), f"variants-{index}-campaign": str(campaign.id)}
    response = admin_client.post(f"/admin/appeals/campaign/{campaign.id}/change/", data)
    assert response.status_code == 302, page_text(response)
    assert PublishedAppeals.objects.get(newsroom=demo_newsroom).version == version + 1
    after = Client().get(APPEALS, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.json()["campaigns"][0]["variants"][0]["copy"]["heading"] == "Edited heading 0"


@pytest.mark.parametrize(
    ("variants", "changes", "message"),
    [
        (
            [{"weight": "0"}, {"weight": "0"}],
            {},
            "The variants' weights add up to zero, so no reader would ever see this campaign.",
        ),
        (
            [
                {
                    "minimums": json.dumps({"USD": {"monthly": 300}}),
                    "amounts": json.dumps({"USD": {"monthly": [200, 500]}}),
                }
            ],
            {},
            "The USD monthly minimum (300) is above the suggested amount(s) [200]; "
            "lower the minimum or raise the suggestions.",
        ),
        (
            [{}],
            {"starts_at_0": "2026-05-01", "starts_at_1": "00:00", "ends_at_0": "2026-04-01", "ends_at_1": "00:00"},
            "The campaign ends before it starts: move the end after the start.",
        ),
        ([{"copy": json.dumps({"en": {"heading": "Hello"}})}], {}, "Copy for 'en' is missing cta."),
        ([{"amounts": json.dumps({"USD": {"weekly": [100]}})}], {}, "Unknown frequency 'weekly' for USD"),
        ([{"minimums": json.dumps({"USD": 200})}], {}, "Minimums for USD must map one_off, monthly or annual"),
        (
            [{"amounts": json.dumps({"GBP": {"one_off": [25, 500]}}), "minimums": json.dumps({})}],
            {},
            "The suggested GBP one_off amount(s) £0.25 are below £0.30, the least Stripe can charge; raise them.",
        ),
        ([{}], {"remind_choices": "[0, 400]"}, "Reminder choices must be a list of days between 1 and 365"),
        ([{}], {"countries_include": "Russia"}, "List two-letter country codes separated by commas"),
    ],
)
def test_mistakes_are_explained_and_nothing_is_published(
    admin_client: Client, demo_newsroom: Any, variants: list[dict[str, str]], changes: dict[str, str], message: str
) -> None:
    version = PublishedAppeals.objects.get(newsroom=demo_newsroom).version
    data = campaign_form(demo_newsroom, *(variant_fields(i, **v) for i, v in enumerate(variants)), **changes)
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Campaign.objects.filter(name="Spring appeal").exists()
    assert PublishedAppeals.objects.get(newsroom=demo_newsroom).version == version


def test_variant_minimum_below_stripe_floor_is_refused_with_a_clear_message(
    admin_client: Client, demo_newsroom: Any
) -> None:
    version = PublishedAppeals.objects.get(newsroom=demo_newsroom).version
    variants_before = Variant.objects.count()
    minimums = {**MINIMUMS, "EUR": {**MINIMUMS["EUR"], "monthly": 1}}
    response = admin_client.post(ADD, campaign_form(demo_newsroom, variant_fields(0, minimums=json.dumps(minimums))))
    assert response.status_code == 200
    # Beside the minimums the editor typed, said once.
    field_errors = re.search(r'id="id_variants-0-minimums_error">(.*?)</ul>', page_text(response), re.S)
    assert field_errors, page_text(response)
    message = "The minimum for EUR monthly is €0.01; Stripe cannot charge less than €0.50."
    assert message in field_errors.group(1)
    assert page_text(response).count("Stripe cannot charge less than") == 1
    assert not Campaign.objects.filter(name="Spring appeal").exists()
    assert Variant.objects.count() == variants_before
    assert PublishedAppeals.objects.get(newsroom=demo_newsroom).version == version


def test_editing_a_stored_variant_below_stripe_floor_keeps_the_stored_minimums(
    admin_client: Client, demo_newsroom: Any
) -> None:
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    data = campaign_form(demo_newsroom, name=campaign.name, priority="10")
    data |= {"variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "2"}
    for index, variant in enumerate(campaign.variants.order_by("id")):
        data |= variant_fields(index, key=variant.key, minimums=json.dumps({"GBP": {"annual": 29}}))
        data |= {f"variants-{index}-id": str(variant.id), f"variants-{index}-campaign": str(campaign.id)}
    response = admin_client.post(f"/admin/appeals/campaign/{campaign.id}/change/", data)
    assert response.status_code == 200
    assert "The minimum for GBP annual is £0.29; Stripe cannot charge less than £0.30." in page_text(response)
    assert [v.minimums for v in campaign.variants.order_by("id")] == [MINIMUMS, MINIMUMS]


def test_deleting_campaigns_from_the_list_unpublishes_them(admin_client: Client, demo_newsroom: Any) -> None:
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    assert Client().get(APPEALS).json()["campaigns"]
    response = admin_client.post(
        "/admin/appeals/campaign/",
        {"action": "delete_selected", "_selected_action": [str(campaign.id)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Variant.objects.filter(campaign_id=campaign.id).exists()
    assert Client().get(APPEALS).json()["campaigns"] == []


def test_moving_a_campaign_to_another_newsroom_unpublishes_it_from_the_first(
    admin_client: Client, demo_newsroom: Any
) -> None:
    from readerfund.appeals.services import appeals_publish
    from readerfund.newsrooms.models import Newsroom

    other = Newsroom.objects.create(slug="other", name="Other")
    appeals_publish(newsroom=other)
    campaign = Campaign.objects.get(newsroom=demo_newsroom)
    data = campaign_form(other, name="Monthly appeal", priority="10")
    data |= {"variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "2"}
    for index, variant in enumerate(campaign.variants.order_by("id")):
        data |= variant_fields(index, key=variant.key, copy=json.dumps(variant.copy))
        data |= {f"variants-{index}-id": str(variant.id), f"variants-{index}-campaign": str(campaign.id)}
    response = admin_client.post(f"/admin/appeals/campaign/{campaign.id}/change/", data)
    assert response.status_code == 302, page_text(response)
    assert Client().get(APPEALS).json()["campaigns"] == []
    moved = Client().get("/api/v1/newsrooms/other/appeals.json").json()["campaigns"]
    assert [c["id"] for c in moved] == [campaign.id]

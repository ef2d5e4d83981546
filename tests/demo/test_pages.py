import pytest
from django.test import Client

from readerfund.appeals.models import Campaign, Variant
from readerfund.demo.seed import demo_seed
from readerfund.newsrooms.models import Newsroom

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/demo/", "/demo/2/", "/demo/3/"])
def test_demo_articles_carry_the_embed_exactly_as_a_newsroom_would(client: Client, demo_newsroom, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/embed.js" data-newsroom="demo"' in html
    assert "<article" in html


def test_unknown_article_or_newsroom_is_404(client: Client, demo_newsroom) -> None:
    assert client.get("/demo/9/").status_code == 404
    assert client.get("/nobody/").status_code == 404


def test_seed_is_idempotent_and_mirrors_the_appeal() -> None:
    demo_seed()
    demo_seed()
    assert Newsroom.objects.filter(slug="demo").count() == 1
    campaign = Campaign.objects.get(newsroom__slug="demo")
    assert campaign.status == Campaign.Status.LIVE
    variants = Variant.objects.filter(campaign=campaign)
    assert variants.count() == 2
    for variant in variants:
        assert set(variant.copy) == {"en", "ru"}
        assert "$2" in variant.copy["en"]["heading"]
        assert variant.minimums["USD"]["monthly"] == 200
        assert min(variant.amounts["USD"]["monthly"]) == 200


def test_demo_site_is_off_unless_asked_for(client: Client, demo_newsroom, settings) -> None:
    settings.DEMO = False
    assert client.get("/demo/").status_code == 404
    assert client.get("/demo/outbox/").status_code == 404
    assert client.get("/").status_code == 404


def test_root_leads_to_the_demo_article(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].endswith("/demo/")

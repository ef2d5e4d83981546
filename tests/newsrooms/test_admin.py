import pytest
from django.contrib.auth.models import User
from django.test import Client

from readerfund.appeals.models import PublishedAppeals

pytestmark = pytest.mark.django_db


def test_saving_a_newsroom_republishes_its_appeals(client: Client, demo_newsroom) -> None:
    admin = User.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(admin)
    before = PublishedAppeals.objects.get(newsroom=demo_newsroom).version
    data = {
        "slug": "demo",
        "name": "The Exile Gazette Weekly",
        "site_url": demo_newsroom.site_url,
        "allowed_origins": demo_newsroom.allowed_origins,
        "default_locale": "en",
        "default_currency": "USD",
        "brand_colour": "#1a5fb4",
        "risk_countries": "",
        "safer_options": "",
        "statement_descriptor": "READER SUPPORT",
        "sender_name": "Reader support",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/newsrooms/newsroom/{demo_newsroom.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    published = PublishedAppeals.objects.get(newsroom=demo_newsroom)
    assert published.version == before + 1
    assert published.document["newsroom"]["name"] == "The Exile Gazette Weekly"


def test_a_light_brand_colour_is_not_put_behind_white_text_on_the_checkout(client: Client, demo_newsroom) -> None:
    demo_newsroom.brand_colour = "#ffee00"
    demo_newsroom.save()
    page = client.get("/support/demo/").content.decode()
    assert "--brand: #1d1d1d" in page
    assert "#ffee00" not in page

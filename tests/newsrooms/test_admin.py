import pytest
from django.contrib.auth.models import User
from django.test import Client

from readerfund.appeals.models import PublishedAppeals

pytestmark = pytest.mark.django_db


def test_saving_a_newsroom_republishes_its_appeals(client: Client, demo_newsroom) -> None:
    admin = User.objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(admin)
    before = PublishedAppeals.objects.get(newsroom=demo_newsroom).version
    data = _newsroom_form(demo_newsroom, name="The Exile Gazette Weekly")
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


def _newsroom_form(newsroom, **changes):
    data = {
        "slug": newsroom.slug,
        "name": newsroom.name,
        "site_url": newsroom.site_url,
        "allowed_origins": newsroom.allowed_origins,
        "default_locale": "en",
        "default_currency": "USD",
        "brand_colour": "#1a5fb4",
        "risk_countries": "",
        "safer_options": "",
        "statement_descriptor": "READER SUPPORT",
        "sender_name": "Reader support",
        "retention_months": "24",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_a_newsrooms_stripe_secrets_are_stored_encrypted_and_never_shown_again(client: Client, demo_newsroom) -> None:
    from django.db import connection

    from readerfund.payments.accounts import account_for

    client.force_login(User.objects.create_superuser("operator", "op@example.org", "a-long-passphrase"))
    url = f"/admin/newsrooms/newsroom/{demo_newsroom.pk}/change/"
    keys = {
        "stripe_secret_key": "sk_test_newsroom_own_secret",
        "stripe_publishable_key": "pk_test_newsroom_own",
        "stripe_webhook_secret": "whsec_newsroom_own_secret",
    }
    assert client.post(url, _newsroom_form(demo_newsroom, **keys)).status_code == 302
    demo_newsroom.refresh_from_db()
    account = account_for(demo_newsroom)
    assert (account.secret_key, account.publishable_key, account.webhook_secret) == tuple(keys.values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stripe_secret_key, stripe_webhook_secret FROM newsrooms_newsroom WHERE id = %s", [demo_newsroom.pk]
        )
        stored = cursor.fetchone()
    assert all(value.startswith("v2:") and "secret" not in value for value in stored)
    page = client.get(url).content.decode()
    assert "sk_test_newsroom_own_secret" not in page and "whsec_newsroom_own_secret" not in page
    # Saving again with the secret fields left empty keeps them.
    assert (
        client.post(url, _newsroom_form(demo_newsroom, stripe_publishable_key="pk_test_newsroom_own")).status_code
        == 302
    )
    demo_newsroom.refresh_from_db()
    assert demo_newsroom.stripe_secret_key == "sk_test_newsroom_own_secret"
    assert "sk_test_newsroom_own_secret" not in repr(account_for(demo_newsroom))


def test_an_own_stripe_account_needs_all_three_keys_and_real_looking_ones(client: Client, demo_newsroom) -> None:
    client.force_login(User.objects.create_superuser("operator", "op@example.org", "a-long-passphrase"))
    url = f"/admin/newsrooms/newsroom/{demo_newsroom.pk}/change/"
    half = client.post(url, _newsroom_form(demo_newsroom, stripe_secret_key="sk_test_only"))
    assert half.status_code == 200 and "needs all three" in half.content.decode()
    wrong = client.post(url, _newsroom_form(demo_newsroom, stripe_secret_key="pk_test_oops"))
    assert "starts with sk_" in wrong.content.decode()
    demo_newsroom.refresh_from_db()
    assert demo_newsroom.stripe_secret_key == ""

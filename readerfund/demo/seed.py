"""The demo newsroom and its live campaign, mirroring the real appeal, in English and Russian."""

from __future__ import annotations

from django.db import transaction

from readerfund.appeals.models import Campaign, Variant
from readerfund.appeals.services import appeals_publish
from readerfund.newsrooms.models import Newsroom

COPY_EN = {
    "heading": "Please support us monthly starting from just $2",
    "paragraphs": [
        "We lost our advertisers when we were branded a “foreign agent”. Our readers are how we keep reporting.",
        "It's quick to set up, and you can pause or cancel at any time.",
    ],
    "highlight": "Every contribution keeps an independent newsroom working.",
    "cta": "Support us",
    "not_now": "Not now",
    "remind": "Remind me later",
    "remind_prompt": "Not ready to support today?",
}
COPY_RU = {
    "heading": "Поддержите нас ежемесячно — от $2",
    "paragraphs": [
        "Мы потеряли рекламодателей, когда нас объявили «иностранным агентом». Нас держат на плаву читатели.",
        "Оформить поддержку можно за минуту, отменить — в любой момент.",
    ],
    "highlight": "Каждый взнос помогает независимой редакции продолжать работу.",
    "cta": "Поддержать",
    "not_now": "Не сейчас",
    "remind": "Напомнить позже",
    "remind_prompt": "Не готовы поддержать сегодня?",
}
AMOUNTS = {
    "USD": {"one_off": [500, 1000, 2500], "monthly": [200, 500, 1000], "annual": [2500, 5000, 10000]},
    "EUR": {"one_off": [500, 1000, 2500], "monthly": [200, 500, 1000], "annual": [2500, 5000, 10000]},
    "GBP": {"one_off": [500, 1000, 2500], "monthly": [200, 500, 1000], "annual": [2500, 5000, 10000]},
}
MINIMUMS = {
    "USD": {"one_off": 200, "monthly": 200, "annual": 2000},
    "EUR": {"one_off": 200, "monthly": 200, "annual": 2000},
    "GBP": {"one_off": 200, "monthly": 200, "annual": 2000},
}


@transaction.atomic
def demo_seed(*, site_url: str = "http://127.0.0.1:8000") -> Newsroom:
    """Idempotent: running it twice leaves one demo newsroom with one live campaign."""
    newsroom, _ = Newsroom.objects.update_or_create(
        slug="demo",
        defaults={
            "name": "The Exile Gazette",
            "site_url": site_url,
            "allowed_origins": site_url,
            "default_locale": "en",
            "default_currency": "USD",
            "brand_colour": "#1a5fb4",
            "statement_descriptor": "READER SUPPORT",
            "sender_name": "Reader support",
            "safer_options": "You can support us with a bank transfer from outside the country, or in crypto.",
        },
    )
    campaign, _ = Campaign.objects.update_or_create(
        newsroom=newsroom,
        name="Monthly appeal",
        defaults={
            "status": Campaign.Status.LIVE,
            "snooze_days": 7,
            "priority": 10,
            "max_views_per_30_days": 0,
        },
    )
    highlight_b = {**COPY_EN, "highlight": "Readers fund a third of our newsroom. Join them."}
    for key, copy in (("a", {"en": COPY_EN, "ru": COPY_RU}), ("b", {"en": highlight_b, "ru": COPY_RU})):
        Variant.objects.update_or_create(
            campaign=campaign,
            key=key,
            defaults={
                "weight": 1,
                "copy": copy,
                "amounts": AMOUNTS,
                "minimums": MINIMUMS,
                "default_frequency": "monthly",
            },
        )
    appeals_publish(newsroom=newsroom)
    return newsroom

"""`python -m tests.chaos.world OUT.json OBJECTS`: the chaos run's world, made in its own database.

Runs in a child process whose environment points Django at the chaos run's database and Stripe at the
run's own localstripe. It makes real objects at localstripe with the SDK (bench/_webhook_objects.py:
one-off payments, some declined, partial refunds, monthly subscriptions with renewals, some canceled,
some updated), the contributions that own them as the checkout would have left them (each supporter
with an address and a receipt asked for, half of them in Russian, each from the live appeal's variant),
and writes to OUT.json the events Stripe would send for them and what the ledger must hold once every
one is processed: each payment, its amount and refund, each contribution's status, the receipts, the
variant's conversion counters.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def _contributions(newsroom: Any, variant: Any, world: Any) -> None:
    from readerfund.core.privacy import lookup_hash, normalize_email
    from readerfund.payments.models import Contribution, Frequency, Supporter

    owners: list[tuple[str, str, int, str, str]] = []  # kind, provider id, amount, currency, frequency
    for intent in [*world.one_offs, *world.failed]:
        owners.append(("intent", intent["id"], intent["amount"], intent["currency"].upper(), Frequency.ONE_OFF))
    for subscription in world.subscriptions:
        owners.append(("subscription", subscription["id"], 500, subscription["bench_currency"], Frequency.MONTHLY))
    supporters = []
    for index in range(len(owners)):
        address = f"chaos-{index}@example.org"
        supporters.append(
            Supporter.objects.create(
                newsroom=newsroom,
                email=address,
                email_hash=lookup_hash(normalize_email(address), scope=f"supporter:{newsroom.id}"),
                name=f"Reader {index}",
                locale="ru" if index % 2 else "en",
            )
        )
    for supporter, (kind, provider_id, amount, currency, frequency) in zip(supporters, owners, strict=True):
        Contribution.objects.create(
            newsroom=newsroom,
            supporter=supporter,
            frequency=frequency,
            amount=amount,
            currency=currency,
            campaign=variant.campaign,
            variant=variant,
            request_key=secrets.token_urlsafe(24),
            provider_payment_intent_id=provider_id if kind == "intent" else "",
            provider_subscription_id=provider_id if kind == "subscription" else "",
            receipt_requested=True,
            locale=supporter.locale,
            return_url="https://example.org/article",
        )


def _expected(world: Any) -> dict[str, Any]:
    """What the ledger must hold: payments, statuses, receipts and the variant's conversion counters."""
    conversions: Counter[str] = Counter()
    conversion_amounts: Counter[str] = Counter()
    for intent in world.one_offs:
        key = f"{intent['currency'].upper()} one_off"
        conversions[key] += 1
        conversion_amounts[key] += intent["amount"]
    n_cancel = world.expected.statuses["canceled"]
    for subscription in world.subscriptions[n_cancel:]:
        key = f"{subscription['bench_currency']} monthly"
        conversions[key] += 1
        conversion_amounts[key] += 500
    return {
        "payments": {key: list(value) for key, value in world.expected.payments.items()},
        "statuses": {status: n for status, n in world.expected.statuses.items() if n},
        "receipts": len(world.expected.payments),
        "conversions": {key: [conversions[key], conversion_amounts[key]] for key in conversions},
    }


def main(out: Path, objects: int) -> None:
    import django

    django.setup()
    import stripe
    from django.conf import settings
    from django.core.management import call_command

    from bench._webhook_objects import world_make
    from readerfund.demo.seed import demo_seed

    call_command("migrate", verbosity=0)
    newsroom = demo_seed()
    variant = newsroom.campaigns.get().variants.get(key="a")
    client = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})
    world = world_make(client, objects=objects)
    _contributions(newsroom, variant, world)
    out.write_text(
        json.dumps(
            {
                "newsroom": newsroom.slug,
                "events": world.events,
                "expected": _expected(world),
                "api_calls": world.api_calls,
                "seconds": world.seconds,
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerfund.config.settings")
    main(Path(sys.argv[1]), int(sys.argv[2]))

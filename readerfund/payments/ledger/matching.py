"""Which of our contributions a provider object belongs to.

By a provider id we stored ourselves, or, for an object whose id we never stored (a lost answer), by
the checkout's request key in its metadata together with the amount, currency and frequency. Never by
a bare row id: another deployment, or a test database, on the same Stripe account has rows with the
same ids. Always within one newsroom: its objects live in its own account.
"""

from __future__ import annotations

from readerfund.core.amounts import INTERVALS
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Contribution, Frequency
from readerfund.payments.provider import GatewayIntent, GatewaySubscription

# Metadata on every Stripe object made for a contribution: its id (for people reading Stripe's dashboard)
# and its request_key, which is random and unique for ever: the only one we match on.
CONTRIBUTION_KEY = "contribution"
CHECKOUT_KEY = "checkout"
_FREQUENCY_BY_INTERVAL = {interval: frequency for frequency, interval in INTERVALS.items()}


def provider_metadata(contribution: Contribution) -> dict[str, str]:
    return {
        CONTRIBUTION_KEY: str(contribution.id),
        CHECKOUT_KEY: contribution.request_key,
        "newsroom": contribution.newsroom.slug,
    }


def _by_request_key(newsroom: Newsroom, metadata: dict[str, str]) -> Contribution | None:
    request_key = metadata.get(CHECKOUT_KEY)
    if not request_key:
        return None
    return Contribution.objects.filter(newsroom=newsroom, request_key=request_key).first()


def contribution_for_intent(*, newsroom: Newsroom, intent: GatewayIntent) -> Contribution | None:
    found = Contribution.objects.filter(newsroom=newsroom, provider_payment_intent_id=intent.id).first()
    if found is not None:
        return found
    # The create reached the provider but we never stored its id (a crash in between).
    found = _by_request_key(newsroom, intent.metadata)
    if found is None or found.provider_payment_intent_id or found.frequency != Frequency.ONE_OFF:
        return None
    if (found.amount, found.currency) != (intent.amount, intent.currency):
        return None
    return found


def contribution_for_subscription(*, newsroom: Newsroom, subscription: GatewaySubscription) -> Contribution | None:
    found = Contribution.objects.filter(newsroom=newsroom, provider_subscription_id=subscription.id).first()
    if found is not None:
        return found
    found = _by_request_key(newsroom, subscription.metadata)
    if found is None or found.provider_subscription_id:
        return None
    plan = (subscription.amount, subscription.currency, _FREQUENCY_BY_INTERVAL.get(subscription.interval))
    if plan != (found.amount, found.currency, found.frequency):
        return None
    return found


def contribution_for_subscription_id(*, newsroom: Newsroom, subscription_id: str) -> Contribution | None:
    if not subscription_id:
        return None
    return Contribution.objects.filter(newsroom=newsroom, provider_subscription_id=subscription_id).first()

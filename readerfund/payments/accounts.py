"""Which Stripe account a newsroom is paid into.

Each newsroom has its own account: its secret key, publishable key and webhook signing secret are
stored encrypted on the Newsroom (core/privacy.py). A newsroom without keys of its own uses the
deployment's STRIPE_* settings, which is how a deployment serving one newsroom runs.

Every call to the provider runs inside `gateway.account_use(account_for(newsroom))`; there is no
fallback, so a call that forgot to say whose money it is fails instead of landing in the wrong
account. Stripe Connect would be one more field here (`connected_account`, sent as the
Stripe-Account header by the gateway), with the platform's keys in the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from django.conf import settings

from readerfund.newsrooms.models import Newsroom


@dataclass(frozen=True, repr=False)
class ProviderAccount:
    label: str  # for logs and errors: the newsroom's slug, or "default"
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str = ""  # empty: Stripe itself; the demo and the tests point it at localstripe
    connected_account: str = ""  # Stripe Connect, later: the connected account's id
    # The API is the emulator (localstripe), which refuses some of Stripe's parameters and lacks some
    # APIs: the gateway decides those few calls in one place from this flag (STRIPE_EMULATOR).
    emulator: bool = False

    def __repr__(self) -> str:
        # Never print a key, even in a traceback.
        return f"ProviderAccount({self.label!r}, {self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """Tells accounts apart in caches and logs without revealing the key. With Connect, one platform key
        serves many connected accounts: each is its own account, and the gateway caches a client per one."""
        seen = f"{self.secret_key}\x00{self.api_base}\x00{self.connected_account}"
        return hashlib.sha256(seen.encode()).hexdigest()[:12]


def default_account() -> ProviderAccount:
    return ProviderAccount(
        label="default",
        secret_key=settings.STRIPE_SECRET_KEY,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        api_base=settings.STRIPE_API_BASE,
        emulator=settings.STRIPE_EMULATOR,
    )


def account_for(newsroom: Newsroom) -> ProviderAccount:
    if not newsroom.stripe_secret_key:
        return dataclasses.replace(default_account(), label=newsroom.slug)
    return ProviderAccount(
        label=newsroom.slug,
        secret_key=newsroom.stripe_secret_key,
        publishable_key=newsroom.stripe_publishable_key,
        webhook_secret=newsroom.stripe_webhook_secret,
        api_base=newsroom.stripe_api_base or settings.STRIPE_API_BASE,
        # Only the tests and the demo point a newsroom at an API of their own, and it is localstripe.
        emulator=bool(newsroom.stripe_api_base) or settings.STRIPE_EMULATOR,
    )


def stripe_js_url(account: ProviderAccount) -> str:
    """Where the page loads Stripe.js for this account: js.stripe.com for Stripe (STRIPE_JS_URL), or the
    emulator's own stand-in, which confirms cards at that emulator."""
    if account.emulator and account.api_base:
        return f"{account.api_base}/js.stripe.com/v3/"
    return str(settings.STRIPE_JS_URL)

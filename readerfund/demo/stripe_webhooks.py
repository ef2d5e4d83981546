"""The demo's webhook endpoints at its Stripe emulator, so asynchronous outcomes reach the demo's ledger.

In production each newsroom registers https://<host>/webhooks/stripe/<slug> in its own Stripe account.
localstripe has no dashboard: `POST /_config/webhooks/<id>` with the url, the signing secret and the
event types is its equivalent. It then signs and posts each event as Stripe does, about a second after
the change, once, without retry. Without an endpoint, a SEPA debit that fails after the checkout never
reaches the ledger, and the reader never hears of it.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence

from readerfund.newsrooms.models import Newsroom
from readerfund.payments.accounts import account_for
from readerfund.payments.handlers import HANDLERS


def webhook_endpoint_id(slug: str) -> str:
    """The emulator's name for a newsroom's endpoint: registering it again re-points that one endpoint."""
    return f"readerfund-{slug}"


def webhook_endpoint_register(
    *, stripe_base: str, endpoint_id: str, url: str, secret: str, events: Sequence[str]
) -> None:
    """Register (or re-point: localstripe cannot forget one) the endpoint `endpoint_id` at the emulator."""
    if not stripe_base.startswith(("http://", "https://")):
        raise ValueError(f"the Stripe emulator's address must be http(s), not {stripe_base!r}")
    form = [("url", url), ("secret", secret), *((f"events[{i}]", kind) for i, kind in enumerate(events))]
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        f"{stripe_base.rstrip('/')}/_config/webhooks/{urllib.parse.quote(endpoint_id, safe='')}",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http(s) only, checked above
            response.read()
    except OSError as exc:  # URLError and HTTPError (a 400 for a bad url or secret) are OSErrors
        raise RuntimeError(f"the Stripe emulator at {stripe_base} refused endpoint {endpoint_id}: {exc}") from exc


def webhook_endpoints_register(*, stripe_base: str, site_url: str, newsrooms: Iterable[Newsroom]) -> list[str]:
    """One endpoint per newsroom, at its own URL and with its own signing secret, for every event type our
    handlers handle (the emulator sends those it knows). Returns the URLs registered."""
    events = sorted(HANDLERS)
    urls = []
    for newsroom in newsrooms:
        url = f"{site_url.rstrip('/')}/webhooks/stripe/{newsroom.slug}"
        webhook_endpoint_register(
            stripe_base=stripe_base,
            endpoint_id=webhook_endpoint_id(newsroom.slug),
            url=url,
            secret=account_for(newsroom).webhook_secret,
            events=events,
        )
        urls.append(url)
    return urls


def emulated_newsrooms(*, stripe_base: str) -> list[Newsroom]:
    """The newsrooms whose Stripe account is this emulator: those without an API base of their own elsewhere
    (settings.STRIPE_API_BASE must already point at the emulator)."""
    return [newsroom for newsroom in Newsroom.objects.order_by("slug") if account_for(newsroom).api_base == stripe_base]

"""Who hears of a declined payment that Stripe's webhooks report, named by the apps that care.

The payments app imports none of them: each registers its listener once at start-up, in its
AppConfig.ready (checkout/apps.py: the card-testing defence counts the decline against the card, the
newsroom and the checkout). The webhook handlers call every listener with the newsroom and the event's
object, before the ledger syncs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from readerfund.newsrooms.models import Newsroom

DeclineListener = Callable[..., object]

_listeners: list[DeclineListener] = []


def decline_listener_register(listener: DeclineListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def decline_reported(*, newsroom: Newsroom, obj: dict[str, Any]) -> None:
    """Tell every registered listener (called as listener(newsroom=..., obj=...)) of a reported decline."""
    for listener in _listeners:
        listener(newsroom=newsroom, obj=obj)

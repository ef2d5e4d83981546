"""Editor-facing validation of campaigns and variants. Pure: no Django import.

Each function returns messages an editor can act on; an empty list means valid.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from readerfund.core import amounts
from readerfund.core.amounts import FREQUENCIES, minimums_problems, provider_minimum
from readerfund.core.money import Money

if TYPE_CHECKING:
    from readerfund.appeals.models import Variant
    from readerfund.newsrooms.models import Newsroom

COPY_FIELDS = ("heading", "paragraphs", "highlight", "cta", "not_now", "remind")
_LOCALE = re.compile(r"^[a-z]{2,3}$")


def _whole(value: Any) -> bool:
    # JSON true is a Python int; it is not an amount.
    return isinstance(value, int) and not isinstance(value, bool)


def schedule_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[str]:
    if starts_at and ends_at and ends_at <= starts_at:
        return ["The campaign ends before it starts: move the end after the start."]
    return []


def weights_errors(weights: list[int]) -> list[str]:
    if weights and sum(weights) <= 0:
        return ["The variants' weights add up to zero, so no reader would ever see this campaign."]
    return []


def _suggestions_errors(currency: str, frequency: str, values: Any, floor: int) -> list[str]:
    if frequency not in FREQUENCIES:
        return [f"Unknown frequency {frequency!r} for {currency}; use one_off, monthly or annual."]
    if not isinstance(values, list) or not all(_whole(v) and v > 0 for v in values):
        return [f"Suggested {currency} {frequency} amounts must be a list of positive whole minor units."]
    # The checkout hides such a button; the appeal would still show it, and the reader be refused.
    stripe_floor = Money(provider_minimum(currency), currency)
    uncharged = [Money(v, currency).display() for v in values if v < stripe_floor.amount]
    if uncharged:
        return [
            f"The suggested {currency} {frequency} amount(s) {', '.join(uncharged)} are below "
            f"{stripe_floor.display()}, the least Stripe can charge; raise them."
        ]
    below = [v for v in values if v < floor]
    if below:
        return [
            f"The {currency} {frequency} minimum ({floor}) is above the suggested amount(s) {below}; "
            "lower the minimum or raise the suggestions."
        ]
    return []


def amounts_errors(
    amounts: dict[str, Any], minimums: dict[str, Any], currencies: set[str], default_frequency: str
) -> list[str]:
    if not isinstance(amounts, dict) or not isinstance(minimums, dict):
        return ['Amounts and minimums must be objects keyed by currency, e.g. {"USD": {"monthly": [200]}}.']
    # Minimums are checked where the checkout reads them, against Stripe's floor per currency.
    errors = minimums_problems(minimums)
    for currency, by_frequency in amounts.items():
        if currency not in currencies:
            errors.append(f"Unknown currency {currency!r} in suggested amounts.")
        elif not isinstance(by_frequency, dict):
            errors.append(f"Suggested amounts for {currency} must be keyed by frequency.")
        else:
            floors = minimums.get(currency)
            for frequency, values in by_frequency.items():
                floor = floors.get(frequency, 0) if isinstance(floors, dict) else 0
                errors += _suggestions_errors(currency, frequency, values, floor if _whole(floor) else 0)
    if default_frequency not in FREQUENCIES:
        errors.append("The default frequency must be one_off, monthly or annual.")
    return errors


def copy_errors(copy: dict[str, Any]) -> list[str]:
    if not isinstance(copy, dict) or not copy:
        return ['Add the appeal\'s copy for at least one locale, e.g. {"en": {"heading": …}}.']
    errors = []
    for locale, fields in copy.items():
        if not _LOCALE.match(locale):
            errors.append(f"Copy is keyed by lower-case language code such as 'en' or 'ru', not {locale!r}.")
        if not isinstance(fields, dict):
            errors.append(f"Copy for {locale!r} must be an object with heading, paragraphs, …")
            continue
        missing = [name for name in ("heading", "cta") if not fields.get(name)]
        if missing:
            errors.append(f"Copy for {locale!r} is missing {', '.join(missing)}.")
        paragraphs = fields.get("paragraphs", [])
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            errors.append(f"Copy for {locale!r}: paragraphs must be a list of strings.")
    return errors


def rules_for_variant(newsroom: Newsroom, variant: Variant | None) -> amounts.AmountRules:
    if variant is None:
        return amounts.rules_for(default_currency=newsroom.default_currency)
    return amounts.rules_for(
        amounts=variant.amounts, minimums=variant.minimums, default_currency=newsroom.default_currency
    )

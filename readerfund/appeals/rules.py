"""Editor-facing validation of campaigns and variants. Pure: no Django import.

Each function returns messages an editor can act on; an empty list means valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

FREQUENCIES = ("one_off", "monthly", "annual")
COPY_FIELDS = ("heading", "paragraphs", "highlight", "cta", "not_now", "remind")


def schedule_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[str]:
    if starts_at and ends_at and ends_at <= starts_at:
        return ["The campaign ends before it starts: move the end after the start."]
    return []


def weights_errors(weights: list[int]) -> list[str]:
    if weights and sum(weights) <= 0:
        return ["The variants' weights add up to zero, so no reader would ever see this campaign."]
    return []


def amounts_errors(
    amounts: dict[str, Any], minimums: dict[str, Any], currencies: set[str], default_frequency: str
) -> list[str]:
    errors: list[str] = []
    if not isinstance(amounts, dict) or not isinstance(minimums, dict):
        return ['Amounts and minimums must be objects keyed by currency, e.g. {"USD": {"monthly": [200]}}.']
    for currency, by_frequency in amounts.items():
        if currency not in currencies:
            errors.append(f"Unknown currency {currency!r} in suggested amounts.")
            continue
        if not isinstance(by_frequency, dict):
            errors.append(f"Suggested amounts for {currency} must be keyed by frequency.")
            continue
        for frequency, values in by_frequency.items():
            if frequency not in FREQUENCIES:
                errors.append(f"Unknown frequency {frequency!r} for {currency}; use one_off, monthly or annual.")
                continue
            if not isinstance(values, list) or not all(isinstance(v, int) and v > 0 for v in values):
                errors.append(f"Suggested {currency} {frequency} amounts must be positive whole minor units.")
                continue
            floor = (minimums.get(currency) or {}).get(frequency, 0)
            below = [v for v in values if v < floor]
            if below:
                errors.append(
                    f"The {currency} {frequency} minimum ({floor}) is above the suggested amount(s) {below}; "
                    "lower the minimum or raise the suggestions."
                )
    for currency in minimums:
        if currency not in currencies:
            errors.append(f"Unknown currency {currency!r} in minimums.")
    if default_frequency not in FREQUENCIES:
        errors.append("The default frequency must be one_off, monthly or annual.")
    return errors


def copy_errors(copy: dict[str, Any]) -> list[str]:
    if not isinstance(copy, dict) or not copy:
        return ['Add the appeal\'s copy for at least one locale, e.g. {"en": {"heading": …}}.']
    errors = []
    for locale, fields in copy.items():
        if not isinstance(fields, dict):
            errors.append(f"Copy for {locale!r} must be an object with heading, paragraphs, …")
            continue
        missing = [name for name in ("heading", "cta") if not fields.get(name)]
        if missing:
            errors.append(f"Copy for {locale!r} is missing {', '.join(missing)}.")
        if "paragraphs" in fields and not isinstance(fields["paragraphs"], list):
            errors.append(f"Copy for {locale!r}: paragraphs must be a list of strings.")
    return errors

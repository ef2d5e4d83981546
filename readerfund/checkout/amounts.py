"""Amount rules for the checkout: suggested amounts, minimums, currencies. Pure: no Django import.

Fed plain dicts from a campaign variant (Variant.amounts / Variant.minimums, minor units):
    amounts  = {"USD": {"one_off": [500, 1000], "monthly": [200, 500], "annual": [5000]}}
    minimums = {"USD": {"one_off": 200, "monthly": 200, "annual": 2000}}
Without a variant the newsroom's defaults apply, with a minimum of 200 minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from readerfund.core.money import CURRENCY_EXPONENTS, Money

FREQUENCIES = ("one_off", "monthly", "annual")
# What the checkout offers; each must also be a currency Money knows.
SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP")
DEFAULT_MINIMUM = 200
# A ceiling against typos (an extra zero or two) and card testing with huge amounts.
MAXIMUM = 1_000_000
DEFAULT_AMOUNTS: dict[str, list[int]] = {
    "one_off": [500, 1000, 2500],
    "monthly": [200, 500, 1000],
    "annual": [2500, 5000, 10000],
}
# Stripe's interval for each recurring frequency.
INTERVALS = {"monthly": "month", "annual": "year"}


class AmountProblem(ValueError):
    """Why an amount can't be taken. `code` picks the reader's message; `minimum` goes into it."""

    def __init__(self, code: str, *, minimum: Money | None = None, maximum: Money | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.minimum = minimum
        self.maximum = maximum


@dataclass(frozen=True)
class AmountRules:
    currencies: tuple[str, ...]
    amounts: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    minimums: dict[str, dict[str, int]] = field(default_factory=dict)
    default_currency: str = "USD"


def _positive_ints(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def rules_for(*, amounts: Any = None, minimums: Any = None, default_currency: str = "USD") -> AmountRules:
    """Rules from a variant's dicts (either may be missing or malformed: an editor typed them)."""
    amounts = amounts if isinstance(amounts, dict) else {}
    minimums = minimums if isinstance(minimums, dict) else {}
    offered = [c for c in SUPPORTED_CURRENCIES if c in CURRENCY_EXPONENTS]
    # In our order, not the dict's: PostgreSQL's jsonb does not keep keys in the order they were written.
    variant_currencies = [c for c in offered if c in amounts]
    currencies = tuple(variant_currencies) if variant_currencies else tuple(offered)
    default = default_currency if default_currency in currencies else currencies[0]
    clean_amounts = {
        currency: {f: _positive_ints((amounts.get(currency) or {}).get(f)) for f in FREQUENCIES}
        for currency in currencies
        if isinstance(amounts.get(currency), dict)
    }
    clean_minimums: dict[str, dict[str, int]] = {}
    for currency in currencies:
        per_frequency = minimums.get(currency)
        if isinstance(per_frequency, dict):
            clean_minimums[currency] = {
                f: v for f, v in per_frequency.items() if f in FREQUENCIES and isinstance(v, int) and v > 0
            }
    return AmountRules(currencies=currencies, amounts=clean_amounts, minimums=clean_minimums, default_currency=default)


def minimum_for(rules: AmountRules, *, currency: str, frequency: str) -> int:
    return rules.minimums.get(currency, {}).get(frequency, DEFAULT_MINIMUM)


def suggested_amounts(rules: AmountRules, *, currency: str, frequency: str) -> list[int]:
    """The variant's buttons for this currency and frequency, never below the minimum, sorted."""
    listed = rules.amounts.get(currency, {}).get(frequency) or DEFAULT_AMOUNTS[frequency]
    minimum = minimum_for(rules, currency=currency, frequency=frequency)
    return sorted({amount for amount in listed if minimum <= amount <= MAXIMUM})


def amount_check(rules: AmountRules, *, amount: int, currency: str, frequency: str) -> Money:
    """The amount as Money, or AmountProblem(code) with code one of: unsupported_frequency,
    unsupported_currency, invalid_amount, below_minimum, above_maximum."""
    if frequency not in FREQUENCIES:
        raise AmountProblem("unsupported_frequency")
    currency = (currency or "").upper()
    if currency not in rules.currencies:
        raise AmountProblem("unsupported_currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise AmountProblem("invalid_amount")
    minimum = minimum_for(rules, currency=currency, frequency=frequency)
    if amount < minimum:
        raise AmountProblem("below_minimum", minimum=Money(minimum, currency))
    if amount > MAXIMUM:
        raise AmountProblem("above_maximum", maximum=Money(MAXIMUM, currency))
    return Money(amount, currency)


def amount_from_text(text: str, *, currency: str) -> int:
    """Minor units from what a reader typed ("5", "5.50", "5,5"); AmountProblem("invalid_amount")."""
    try:
        return Money.from_major(text, currency).amount
    except ValueError as exc:
        raise AmountProblem("invalid_amount") from exc


def initial_choice(
    rules: AmountRules, *, frequency: str | None, currency: str | None, amount: int | None
) -> tuple[str, str, int | None]:
    """What the page preselects from the appeal's link, falling back to sane defaults."""
    chosen_frequency = frequency if frequency in FREQUENCIES else "monthly"
    chosen_currency = (currency or "").upper()
    if chosen_currency not in rules.currencies:
        chosen_currency = rules.default_currency
    chosen_amount: int | None = None
    if amount is not None:
        try:
            chosen_amount = amount_check(
                rules, amount=amount, currency=chosen_currency, frequency=chosen_frequency
            ).amount
        except AmountProblem:
            chosen_amount = None
    return chosen_frequency, chosen_currency, chosen_amount

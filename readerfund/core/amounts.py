"""Amount rules: suggested amounts, minimums, currencies, frequencies. Pure: no Django import.

Fed plain dicts from a campaign variant (Variant.amounts / Variant.minimums, minor units):
    amounts  = {"USD": {"one_off": [500, 1000], "monthly": [200, 500], "annual": [5000]}}
    minimums = {"USD": {"one_off": 200, "monthly": 200, "annual": 2000}}
Without a variant the newsroom's defaults apply, with a minimum of 200 minor units. Whatever a
variant says, no minimum is below what Stripe can charge in that currency (PROVIDER_MINIMUMS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from readerfund.core.money import CURRENCY_EXPONENTS, Money

FREQUENCIES = ("one_off", "monthly", "annual")
# What the checkout offers; each must also be a currency Money knows.
SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP")
DEFAULT_MINIMUM = 200
# The least Stripe will charge, in minor units of the charge's currency: "Minimum and maximum charge
# amounts" in Stripe's docs, https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
# (USD $0.50, EUR €0.50, GBP £0.30). A create below it fails after our committed attempt marker,
# leaving the checkout stuck, so no minimum may go under it. Every SUPPORTED_CURRENCIES entry needs one.
# Stripe also holds the converted amount to the floor of the account's settlement currency (£0.30 is
# under €0.50 for an account paid out in euros): DEFAULT_MINIMUM keeps the usual case well clear of it.
PROVIDER_MINIMUMS: dict[str, int] = {"USD": 50, "EUR": 50, "GBP": 30}
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


def _whole(value: Any) -> bool:
    # JSON true is a Python int; it is not an amount.
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_ints(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [v for v in values if _whole(v) and v > 0]


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
                f: v for f, v in per_frequency.items() if f in FREQUENCIES and _whole(v) and v > 0
            }
    return AmountRules(currencies=currencies, amounts=clean_amounts, minimums=clean_minimums, default_currency=default)


def provider_minimum(currency: str) -> int:
    """The least Stripe charges in this currency. For one missing from the table (the checkout offers
    none such), our own default: a guess on the high side refuses a contribution, one on the low side
    strands it."""
    return PROVIDER_MINIMUMS.get(currency, DEFAULT_MINIMUM)


def minimum_for(rules: AmountRules, *, currency: str, frequency: str) -> int:
    # Variants saved before editors were held to Stripe's floor may still sit below it in the database.
    chosen = rules.minimums.get(currency, {}).get(frequency, DEFAULT_MINIMUM)
    return max(chosen, provider_minimum(currency))


def minimums_problems(minimums: Any) -> list[str]:
    """What an editor must fix in a variant's minimums, in their words; an empty list means none.

    Expects {"USD": {"one_off": 200, "monthly": 200, "annual": 2000}} in minor units, for the
    currencies the checkout offers, none below what Stripe can charge.
    """
    if not isinstance(minimums, dict):
        return ['Minimums must be an object keyed by currency, e.g. {"USD": {"monthly": 200}}.']
    problems = []
    for currency, by_frequency in minimums.items():
        if currency not in SUPPORTED_CURRENCIES:
            problems.append(
                f"Unknown currency {currency!r} in minimums; the checkout takes {', '.join(SUPPORTED_CURRENCIES)}."
            )
        elif not isinstance(by_frequency, dict):
            problems.append(
                f"Minimums for {currency} must map one_off, monthly or annual to whole minor units, "
                'e.g. {"monthly": 200}.'
            )
        else:
            problems += _currency_minimums_problems(currency, by_frequency)
    return problems


def _currency_minimums_problems(currency: str, by_frequency: dict[str, Any]) -> list[str]:
    problems = []
    floor = Money(provider_minimum(currency), currency)
    for frequency, minimum in by_frequency.items():
        if frequency not in FREQUENCIES:
            problems.append(
                f"Unknown frequency {frequency!r} in the {currency} minimums; use one_off, monthly or annual."
            )
        elif not _whole(minimum):
            problems.append(
                f"Minimums for {currency} must map one_off, monthly or annual to whole minor units, "
                f'e.g. {{"{frequency}": 200}}, not {json.dumps({frequency: minimum}, default=str)}.'
            )
        elif minimum < floor.amount:
            problems.append(
                f"The minimum for {currency} {frequency} is {Money(minimum, currency).display()}; "
                f"Stripe cannot charge less than {floor.display()}."
            )
    return problems


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

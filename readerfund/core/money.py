"""Money: integer minor units plus an ISO 4217 currency. Never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Currencies we accept, with their minor-unit exponent (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "GEL": 2,
    "ILS": 2,
    "JPY": 0,
}
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class CurrencyMismatch(ValueError):
    pass


class UnknownCurrency(ValueError):
    pass


def currency_check(code: str) -> str:
    code = (code or "").upper()
    if code not in CURRENCY_EXPONENTS:
        raise UnknownCurrency(f"Unsupported currency {code!r}; use one of {', '.join(sorted(CURRENCY_EXPONENTS))}.")
    return code


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units: cents for USD, yen for JPY
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", currency_check(self.currency))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(cls, text: str, currency: str) -> Money:
        """Parse a decimal string typed by a person ("2", "2.50", "2,5") without floats."""
        currency = currency_check(currency)
        exponent = CURRENCY_EXPONENTS[currency]
        cleaned = (text or "").strip().replace(",", ".").replace(" ", "")
        if not cleaned or cleaned.count(".") > 1:
            raise ValueError("Enter an amount such as 5 or 5.50.")
        whole, _, fraction = cleaned.partition(".")
        if not (whole or fraction) or not (whole or "0").isdigit() or (fraction and not fraction.isdigit()):
            raise ValueError("Enter an amount such as 5 or 5.50.")
        if len(fraction) > exponent:
            raise ValueError(f"{currency} amounts have at most {exponent} decimal places.")
        fraction = fraction.ljust(exponent, "0")
        return cls(int(whole or "0") * 10**exponent + int(fraction or "0"), currency)

    def major_str(self) -> str:
        """'2.00' for Money(200, 'USD'), '500' for Money(500, 'JPY')."""
        if self.exponent == 0:
            return str(self.amount)
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**self.exponent)
        return f"{sign}{units}.{minor:0{self.exponent}d}"

    def display(self, locale: str = "en") -> str:
        """'$5', '$2.50' in English; as the language writes it elsewhere ('5 $', '2,50 €', '1 000 £' in
        Russian, from CLDR through Babel, as the embed's Intl.NumberFormat does). A whole amount drops its
        minor digits in every language, as the appeal does."""
        if locale and not locale.startswith("en"):
            return _cldr_display(self, locale)
        text = self.major_str()
        if self.exponent and text.endswith("." + "0" * self.exponent):
            text = text[: -(self.exponent + 1)]
        symbol = CURRENCY_SYMBOLS.get(self.currency)
        return f"{symbol}{text}" if symbol else f"{text} {self.currency}"

    def __str__(self) -> str:
        return self.display()


def _cldr_display(money: Money, locale: str) -> str:
    from babel.numbers import format_currency

    major = Decimal(money.amount).scaleb(-money.exponent)
    whole = money.exponent and money.amount % 10**money.exponent == 0
    text = format_currency(major, money.currency, locale=locale, format_type="standard")
    if whole:
        # Drop the minor digits (",00") the way the embed does: whatever separator the language uses.
        text = re.sub(rf"[.,]0{{{money.exponent}}}(?!\d)", "", text)
    return text

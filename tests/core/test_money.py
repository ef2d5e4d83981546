import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.core.money import CurrencyMismatch, Money, UnknownCurrency


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [("2", "USD", 200), ("2.5", "USD", 250), ("2,50", "EUR", 250), ("0.99", "GBP", 99), ("500", "JPY", 500)],
)
def test_from_major_parses_without_floats(text: str, currency: str, amount: int) -> None:
    assert Money.from_major(text, currency) == Money(amount, currency)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "2.555", "-1", "1e3"])
def test_from_major_rejects_what_a_person_should_retype(text: str) -> None:
    with pytest.raises(ValueError):
        Money.from_major(text, "USD")


def test_adding_two_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(100, "USD") + Money(100, "EUR")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        Money(100, "XYZ")


def test_amount_must_be_minor_units() -> None:
    with pytest.raises(TypeError):
        Money(2.5, "USD")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["USD", "EUR", "JPY"]))
def test_major_string_round_trips(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_major(money.major_str(), currency) == money


def test_display() -> None:
    assert Money(200, "USD").display() == "$2"
    assert Money(250, "EUR").display() == "€2.50"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "text"),
    [
        (200, "USD", "en", "$2"),
        (250, "USD", "en", "$2.50"),
        (200, "USD", "ru", "2\u00a0$"),
        (550, "EUR", "ru", "5,50\u00a0€"),
        (100000, "GBP", "ru", "1\u00a0000\u00a0£"),
        (500, "JPY", "ru", "500\u00a0¥"),
    ],
)
def test_money_is_written_as_each_language_writes_it(amount: int, currency: str, locale: str, text: str) -> None:
    """As the embed's Intl.NumberFormat writes it (CLDR), whole amounts without their minor digits."""
    assert Money(amount, currency).display(locale) == text


def test_dates_in_letters_are_written_as_each_language_writes_them() -> None:
    from datetime import date

    from readerfund.core.dates import date_long

    assert date_long(date(2026, 12, 15), "ru") == "15 декабря 2026\u202fг."  # CLDR: a narrow no-break space
    assert date_long(date(2026, 12, 15), "en") == "15 December 2026"

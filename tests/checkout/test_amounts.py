"""The pure amount rules: minimums, suggested amounts, currencies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.checkout import amounts
from readerfund.checkout.amounts import AmountProblem, amount_check, rules_for
from readerfund.demo.seed import AMOUNTS, MINIMUMS

DEMO = rules_for(amounts=AMOUNTS, minimums=MINIMUMS, default_currency="USD")
NO_VARIANT = rules_for(default_currency="EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "frequency", "problem"),
    [
        (200, "USD", "monthly", None),  # $2 a month is the floor
        (199, "USD", "monthly", "below_minimum"),
        (1999, "USD", "annual", "below_minimum"),
        (2000, "USD", "annual", None),
        (200, "GBP", "one_off", None),
        (200, "usd", "monthly", None),
        (500, "JPY", "one_off", "unsupported_currency"),
        (500, "CHF", "one_off", "unsupported_currency"),  # Money knows it, the demo variant doesn't offer it
        (500, "", "one_off", "unsupported_currency"),
        (500, "USD", "weekly", "unsupported_frequency"),
        (0, "USD", "one_off", "invalid_amount"),
        (-500, "USD", "one_off", "invalid_amount"),
        (amounts.MAXIMUM, "EUR", "one_off", None),
        (amounts.MAXIMUM + 1, "EUR", "one_off", "above_maximum"),
    ],
)
def test_amount_check_table(amount: int, currency: str, frequency: str, problem: str | None) -> None:
    if problem is None:
        money = amount_check(DEMO, amount=amount, currency=currency, frequency=frequency)
        assert (money.amount, money.currency) == (amount, currency.upper())
    else:
        with pytest.raises(AmountProblem) as raised:
            amount_check(DEMO, amount=amount, currency=currency, frequency=frequency)
        assert raised.value.code == problem


def test_below_minimum_names_the_minimum() -> None:
    with pytest.raises(AmountProblem) as raised:
        amount_check(DEMO, amount=150, currency="EUR", frequency="monthly")
    assert raised.value.minimum is not None and raised.value.minimum.display() == "€2"


def test_without_a_variant_usd_eur_gbp_and_minimum_200_apply() -> None:
    assert NO_VARIANT.currencies == ("USD", "EUR", "GBP")
    assert NO_VARIANT.default_currency == "EUR"
    assert amounts.minimum_for(NO_VARIANT, currency="GBP", frequency="annual") == 200
    assert amounts.suggested_amounts(NO_VARIANT, currency="USD", frequency="monthly") == [200, 500, 1000]


def test_malformed_variant_data_falls_back_to_defaults() -> None:
    rules = rules_for(amounts={"USD": {"monthly": ["5", True, -1, 300]}}, minimums={"USD": {"monthly": "x"}})
    assert rules.currencies == ("USD",)
    assert amounts.suggested_amounts(rules, currency="USD", frequency="monthly") == [300]
    assert amounts.minimum_for(rules, currency="USD", frequency="monthly") == 200


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("5", "USD", 500), ("5.5", "EUR", 550), ("5,50", "EUR", 550), (" 12 ", "GBP", 1200), ("0.99", "USD", 99)],
)
def test_amount_from_text(text: str, currency: str, minor: int) -> None:
    assert amounts.amount_from_text(text, currency=currency) == minor


@pytest.mark.parametrize("text", ["", "abc", "5.555", "1.2.3", "-5", "5$"])
def test_amount_from_text_rejects(text: str) -> None:
    with pytest.raises(AmountProblem):
        amounts.amount_from_text(text, currency="USD")


@pytest.mark.parametrize(
    ("frequency", "currency", "amount", "expected"),
    [
        ("monthly", "USD", 200, ("monthly", "USD", 200)),
        ("one_off", "eur", 1000, ("one_off", "EUR", 1000)),
        ("monthly", "USD", 100, ("monthly", "USD", None)),  # below the minimum: no preselection
        ("weekly", "XXX", None, ("monthly", "USD", None)),
        (None, None, None, ("monthly", "USD", None)),
    ],
)
def test_initial_choice_from_the_appeal_link(
    frequency: str | None, currency: str | None, amount: int | None, expected: tuple[str, str, int | None]
) -> None:
    assert amounts.initial_choice(DEMO, frequency=frequency, currency=currency, amount=amount) == expected


minimums = st.dictionaries(
    st.sampled_from(amounts.FREQUENCIES), st.integers(min_value=1, max_value=100_000), min_size=0, max_size=3
)


@given(
    minimum_table=minimums,
    amount=st.integers(min_value=-10, max_value=2_000_000),
    frequency=st.sampled_from(amounts.FREQUENCIES),
    currency=st.sampled_from(amounts.SUPPORTED_CURRENCIES),
)
def test_accepted_amounts_are_never_below_the_minimum(
    minimum_table: dict[str, int], amount: int, frequency: str, currency: str
) -> None:
    rules = rules_for(minimums={currency: minimum_table})
    minimum = amounts.minimum_for(rules, currency=currency, frequency=frequency)
    try:
        money = amount_check(rules, amount=amount, currency=currency, frequency=frequency)
    except AmountProblem as problem:
        assert amount < minimum or amount > amounts.MAXIMUM or amount <= 0
        assert problem.code in {"below_minimum", "above_maximum", "invalid_amount"}
    else:
        assert minimum <= money.amount <= amounts.MAXIMUM


@given(
    listed=st.lists(st.integers(min_value=-5, max_value=2_000_000), max_size=8),
    minimum=st.integers(min_value=1, max_value=5000),
)
def test_suggested_amounts_are_sorted_unique_and_acceptable(listed: list[int], minimum: int) -> None:
    rules = rules_for(amounts={"USD": {"monthly": listed}}, minimums={"USD": {"monthly": minimum}})
    suggested = amounts.suggested_amounts(rules, currency="USD", frequency="monthly")
    assert suggested == sorted(set(suggested))
    for amount in suggested:
        amount_check(rules, amount=amount, currency="USD", frequency="monthly")


@given(cents=st.integers(min_value=0, max_value=10**9))
def test_typed_amount_round_trips(cents: int) -> None:
    text = f"{cents // 100}.{cents % 100:02d}"
    assert amounts.amount_from_text(text, currency="EUR") == cents

"""The pure amount rules: minimums, suggested amounts, currencies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.core import amounts
from readerfund.core.amounts import AmountProblem, amount_check, rules_for
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


def test_every_currency_the_checkout_offers_has_stripes_floor() -> None:
    assert set(amounts.SUPPORTED_CURRENCIES) <= set(amounts.PROVIDER_MINIMUMS)
    assert amounts.PROVIDER_MINIMUMS == {"USD": 50, "EUR": 50, "GBP": 30}


@pytest.mark.parametrize(
    ("minimums", "currency", "frequency", "expected"),
    [
        ({"USD": {"monthly": 1}}, "USD", "monthly", 50),  # one cent: Stripe's floor instead
        ({"USD": {"monthly": 49}}, "USD", "monthly", 50),
        ({"USD": {"monthly": 50}}, "USD", "monthly", 50),
        ({"USD": {"monthly": 60}}, "USD", "monthly", 60),  # above the floor: the variant's word stands
        ({"EUR": {"annual": 10}}, "EUR", "annual", 50),
        ({"GBP": {"one_off": 1}}, "GBP", "one_off", 30),
        ({"GBP": {"one_off": 30}}, "GBP", "one_off", 30),
        ({"GBP": {"one_off": 31}}, "GBP", "one_off", 31),
        ({"USD": {"monthly": True}}, "USD", "monthly", 200),  # JSON true is not one cent
        ({"USD": {"monthly": 1}}, "USD", "annual", 200),  # frequency not given: the default
        ({}, "EUR", "monthly", 200),  # $2 a month is the floor
    ],
)
def test_minimum_for_is_never_below_stripes_floor(
    minimums: dict[str, Any], currency: str, frequency: str, expected: int
) -> None:
    rules = rules_for(minimums=minimums)
    assert amounts.minimum_for(rules, currency=currency, frequency=frequency) == expected


def test_a_stored_one_cent_minimum_refuses_one_cent_and_names_stripes_floor() -> None:
    rules = rules_for(minimums={"USD": {"monthly": 1}})
    with pytest.raises(AmountProblem) as raised:
        amount_check(rules, amount=1, currency="USD", frequency="monthly")
    assert raised.value.code == "below_minimum"
    assert raised.value.minimum is not None and raised.value.minimum.display() == "$0.50"
    assert amount_check(rules, amount=50, currency="USD", frequency="monthly").amount == 50
    assert amounts.suggested_amounts(rules, currency="USD", frequency="monthly") == [200, 500, 1000]


def test_suggested_amounts_below_stripes_floor_are_not_offered() -> None:
    rules = rules_for(amounts={"GBP": {"one_off": [10, 30, 500]}}, minimums={"GBP": {"one_off": 1}})
    assert amounts.suggested_amounts(rules, currency="GBP", frequency="one_off") == [30, 500]


@pytest.mark.parametrize(
    ("minimums", "problems"),
    [
        (MINIMUMS, []),
        ({}, []),
        ({"USD": {"monthly": 50}, "EUR": {"one_off": 50}, "GBP": {"annual": 30}}, []),
        (
            {"EUR": {"monthly": 30}},
            ["The minimum for EUR monthly is €0.30; Stripe cannot charge less than €0.50."],
        ),
        (
            {"EUR": {"monthly": 1}},
            ["The minimum for EUR monthly is €0.01; Stripe cannot charge less than €0.50."],
        ),
        (
            {"USD": {"one_off": 49}},
            ["The minimum for USD one_off is $0.49; Stripe cannot charge less than $0.50."],
        ),
        (
            {"GBP": {"annual": 29}},
            ["The minimum for GBP annual is £0.29; Stripe cannot charge less than £0.30."],
        ),
        (
            {"GBP": {"monthly": 0}},
            ["The minimum for GBP monthly is £0; Stripe cannot charge less than £0.30."],
        ),
        (
            {"USD": {"monthly": "200"}},
            [
                "Minimums for USD must map one_off, monthly or annual to whole minor units, "
                'e.g. {"monthly": 200}, not {"monthly": "200"}.'
            ],
        ),
        (
            {"USD": {"annual": 20.5}},
            [
                "Minimums for USD must map one_off, monthly or annual to whole minor units, "
                'e.g. {"annual": 200}, not {"annual": 20.5}.'
            ],
        ),
        (
            {"USD": {"monthly": True}},
            [
                "Minimums for USD must map one_off, monthly or annual to whole minor units, "
                'e.g. {"monthly": 200}, not {"monthly": true}.'
            ],
        ),
        (
            {"USD": {"weekly": 200}},
            ["Unknown frequency 'weekly' in the USD minimums; use one_off, monthly or annual."],
        ),
        ({"CHF": {"monthly": 200}}, ["Unknown currency 'CHF' in minimums; the checkout takes USD, EUR, GBP."]),
        (
            {"USD": 200},
            ['Minimums for USD must map one_off, monthly or annual to whole minor units, e.g. {"monthly": 200}.'],
        ),
        ([200], ['Minimums must be an object keyed by currency, e.g. {"USD": {"monthly": 200}}.']),
        (
            {"USD": {"monthly": 1, "annual": 2000}, "EUR": {"one_off": 10}},
            [
                "The minimum for USD monthly is $0.01; Stripe cannot charge less than $0.50.",
                "The minimum for EUR one_off is €0.10; Stripe cannot charge less than €0.50.",
            ],
        ),
    ],
)
def test_minimums_problems_tell_the_editor_what_to_change(minimums: Any, problems: list[str]) -> None:
    assert amounts.minimums_problems(minimums) == problems


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
currencies = st.one_of(st.sampled_from(amounts.SUPPORTED_CURRENCIES), st.sampled_from(["CHF", "JPY", "usd", ""]))
frequencies = st.one_of(st.sampled_from(amounts.FREQUENCIES), st.text(max_size=8))
any_minimums = st.dictionaries(
    currencies, st.one_of(json_values, st.dictionaries(frequencies, json_values, max_size=4)), max_size=4
)


@given(
    minimum_table=any_minimums,
    currency=st.sampled_from(amounts.SUPPORTED_CURRENCIES),
    frequency=st.sampled_from(amounts.FREQUENCIES),
)
def test_minimum_for_is_never_below_the_provider_floor(
    minimum_table: dict[str, Any], currency: str, frequency: str
) -> None:
    rules = rules_for(minimums=minimum_table)
    assert amounts.minimum_for(rules, currency=currency, frequency=frequency) >= amounts.PROVIDER_MINIMUMS[currency]


at_or_above_the_floor = st.dictionaries(
    st.sampled_from(amounts.SUPPORTED_CURRENCIES),
    st.dictionaries(st.sampled_from(amounts.FREQUENCIES), st.integers(min_value=0, max_value=100_000)),
).map(
    lambda table: {
        currency: {frequency: amounts.PROVIDER_MINIMUMS[currency] + extra for frequency, extra in by_frequency.items()}
        for currency, by_frequency in table.items()
    }
)


@given(minimum_table=at_or_above_the_floor)
def test_minimums_at_or_above_the_floor_are_accepted_and_taken_as_written(
    minimum_table: dict[str, dict[str, int]],
) -> None:
    assert amounts.minimums_problems(minimum_table) == []
    rules = rules_for(minimums=minimum_table)
    for currency, by_frequency in minimum_table.items():
        for frequency, minimum in by_frequency.items():
            assert amounts.minimum_for(rules, currency=currency, frequency=frequency) == minimum


@given(minimum_table=any_minimums)
def test_minimums_problems_never_raise(minimum_table: dict[str, Any]) -> None:
    assert isinstance(amounts.minimums_problems(minimum_table), list)

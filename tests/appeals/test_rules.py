"""Campaign validation: each mistake gets a message that tells the editor what to change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from readerfund.appeals import rules

CURRENCIES = {"USD", "EUR"}
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        (START, START + timedelta(days=1), None),
        (START, None, None),
        (None, START, None),
        (START, START, "ends before it starts"),
        (START, START - timedelta(days=1), "ends before it starts"),
    ],
)
def test_schedule(starts: datetime | None, ends: datetime | None, message: str | None) -> None:
    errors = rules.schedule_errors(starts, ends)
    assert (message in errors[0]) if message else errors == []


@pytest.mark.parametrize(
    ("weights", "valid"),
    [([1], True), ([0, 2], True), ([], True), ([0], False), ([0, 0, 0], False)],
)
def test_weights_must_not_add_up_to_zero(weights: list[int], valid: bool) -> None:
    errors = rules.weights_errors(weights)
    assert (errors == []) is valid
    if not valid:
        assert "add up to zero" in errors[0]


GOOD_AMOUNTS = {"USD": {"monthly": [200, 500], "one_off": [1000]}}
GOOD_MINIMUMS = {"USD": {"monthly": 200, "one_off": 500}}


@pytest.mark.parametrize(
    ("amounts", "minimums", "frequency", "expected"),
    [
        (GOOD_AMOUNTS, GOOD_MINIMUMS, "monthly", []),
        (
            {"USD": {"monthly": [100, 500]}},
            GOOD_MINIMUMS,
            "monthly",
            ["minimum (200) is above the suggested amount(s) [100]"],
        ),
        ({"XYZ": {"monthly": [100]}}, {}, "monthly", ["Unknown currency 'XYZ' in suggested amounts"]),
        (GOOD_AMOUNTS, {"XYZ": {"monthly": 1}}, "monthly", ["Unknown currency 'XYZ' in minimums"]),
        ({"USD": {"weekly": [100]}}, {}, "monthly", ["Unknown frequency 'weekly'"]),
        ({"USD": {"monthly": [2.5]}}, {}, "monthly", ["positive whole minor units"]),
        ({"USD": {"monthly": [0]}}, {}, "monthly", ["positive whole minor units"]),
        ({"USD": {"monthly": [True]}}, {}, "monthly", ["positive whole minor units"]),
        ({"USD": {"monthly": 200}}, {}, "monthly", ["positive whole minor units"]),
        ({"USD": [200]}, {}, "monthly", ["must be keyed by frequency"]),
        # A minimum written as a bare number: say how to write it instead of failing.
        (GOOD_AMOUNTS, {"USD": 200}, "monthly", ["Minimums for USD must map one_off, monthly or annual"]),
        (GOOD_AMOUNTS, {"USD": {"monthly": "200"}}, "monthly", ["Minimums for USD must map"]),
        ([200], {}, "monthly", ["must be objects keyed by currency"]),
        # Stripe's floor, for minimums and suggested amounts alike.
        (GOOD_AMOUNTS, {"EUR": {"monthly": 30}}, "monthly", ["The minimum for EUR monthly is €0.30; Stripe cannot"]),
        ({"EUR": {"monthly": [20, 40, 500]}}, {}, "monthly", ["amount(s) €0.20, €0.40 are below €0.50"]),
        ({"EUR": {"monthly": [50, 500]}}, {}, "monthly", []),
        (GOOD_AMOUNTS, GOOD_MINIMUMS, "weekly", ["default frequency must be one_off, monthly or annual"]),
    ],
)
def test_amounts(amounts: Any, minimums: Any, frequency: str, expected: list[str]) -> None:
    errors = rules.amounts_errors(amounts, minimums, CURRENCIES, frequency)
    assert len(errors) == len(expected), errors
    for error, fragment in zip(errors, expected, strict=True):
        assert fragment in error


@pytest.mark.parametrize(
    ("copy", "fragment"),
    [
        ({"en": {"heading": "Support us", "cta": "Support", "paragraphs": ["One.", "Two."]}}, None),
        ({}, "at least one locale"),
        ([], "at least one locale"),
        ({"en": "Support us"}, "must be an object"),
        ({"en": {"heading": "Support us"}}, "missing cta"),
        ({"en": {"cta": "Go"}}, "missing heading"),
        ({"en": {"heading": "H", "cta": "C", "paragraphs": "One."}}, "paragraphs must be a list of strings"),
        ({"en": {"heading": "H", "cta": "C", "paragraphs": [1]}}, "paragraphs must be a list of strings"),
        ({"EN": {"heading": "H", "cta": "C"}}, "lower-case language code"),
        ({"en-US": {"heading": "H", "cta": "C"}}, "lower-case language code"),
    ],
)
def test_copy(copy: Any, fragment: str | None) -> None:
    errors = rules.copy_errors(copy)
    if fragment is None:
        assert errors == []
    else:
        assert any(fragment in error for error in errors), errors

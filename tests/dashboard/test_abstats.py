"""The A/B statistics against SciPy (tests only: production has no SciPy) and published worked values."""

from __future__ import annotations

import math

import pytest
from scipy import integrate, special, stats

from readerfund.dashboard.abstats import (
    MIN_CONVERSIONS,
    MIN_VIEWS,
    VariantCounts,
    analyse,
    beta_cdf,
    beta_ppf,
    chi2_sf,
    credible_interval,
    sample_ratio_check,
)

# (views, conversions) per variant, control first: small, typical, large and lopsided tests.
CASES = [
    [(100, 3), (100, 7)],
    [(1200, 48), (1180, 61)],
    [(25_000, 410), (25_100, 455), (24_900, 400)],
    [(400, 0), (380, 2)],
    [(90_000, 2_700), (10_000, 330)],
]


def _posterior(views: int, conversions: int) -> tuple[float, float]:
    return 1 + conversions, 1 + views - conversions


def _scipy_beats(control: tuple[float, float], variant: tuple[float, float]) -> float:
    """P(variant > control) by adaptive quadrature of f_variant(x) * F_control(x)."""
    low, high = stats.beta.ppf([1e-12, 1 - 1e-12], *variant)
    value, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, *variant) * stats.beta.cdf(x, *control), low, high, limit=400, epsabs=1e-12
    )
    return float(value)


def _closed_form_beats(control: tuple[float, float], variant: tuple[float, float]) -> float:
    """Evan Miller's closed form of P(p_B > p_A) for an integer alpha_B ("Formulas for Bayesian A/B testing")."""
    alpha_a, beta_a = control
    alpha_b, beta_b = variant
    return float(
        sum(
            math.exp(
                special.betaln(alpha_a + i, beta_a + beta_b)
                - math.log(beta_b + i)
                - special.betaln(1 + i, beta_b)
                - special.betaln(alpha_a, beta_a)
            )
            for i in range(int(alpha_b))
        )
    )


def _scipy_expected_max(posteriors: list[tuple[float, float]]) -> float:
    """E[max_j p_j] = the integral over [0, 1] of 1 - prod_j F_j(x)."""
    low = min(stats.beta.ppf(1e-13, *p) for p in posteriors)
    high = max(stats.beta.ppf(1 - 1e-13, *p) for p in posteriors)
    points = sorted({float(stats.beta.mean(*p)) for p in posteriors})
    value, _ = integrate.quad(
        lambda x: 1 - math.prod(stats.beta.cdf(x, *p) for p in posteriors),
        low,
        high,
        points=points,
        limit=400,
        epsabs=1e-13,
    )
    return float(low + value)


@pytest.mark.parametrize("case", CASES)
def test_rates_intervals_chances_and_losses_match_scipy(case: list[tuple[int, int]]) -> None:
    counts = [VariantCounts(key=f"v{i}", views=n, conversions=c) for i, (n, c) in enumerate(case)]
    result = analyse(counts)
    posteriors = [_posterior(n, c) for n, c in case]
    expected_max = _scipy_expected_max(posteriors)
    for variant, posterior in zip(result.variants, posteriors, strict=True):
        assert variant.rate == pytest.approx(stats.beta.mean(*posterior), rel=1e-12)
        low, high = stats.beta.ppf([0.025, 0.975], *posterior)
        assert variant.interval == pytest.approx((low, high), rel=1e-7, abs=1e-12)
        assert variant.expected_loss == pytest.approx(expected_max - stats.beta.mean(*posterior), abs=2e-6)
    for variant, posterior in zip(result.variants[1:], posteriors[1:], strict=True):
        assert variant.chance_to_beat_control == pytest.approx(_scipy_beats(posteriors[0], posterior), abs=1e-5)
    assert result.variants[0].chance_to_beat_control is None
    assert sum(v.chance_to_be_best for v in result.variants) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if len(c) == 2])
def test_the_chance_to_beat_the_control_matches_the_published_closed_form(case: list[tuple[int, int]]) -> None:
    (control, variant) = [_posterior(n, c) for n, c in case]
    counts = [VariantCounts(key=str(i), views=n, conversions=c) for i, (n, c) in enumerate(case)]
    beats = analyse(counts).variants[1].chance_to_beat_control
    assert beats == pytest.approx(_closed_form_beats(control, variant), abs=1e-5)
    # With two variants the chance to be best is the chance to beat the other one.
    assert analyse(counts).variants[1].chance_to_be_best == pytest.approx(beats, abs=1e-5)


def test_a_worked_example_reads_as_expected() -> None:
    """1,000 views each, 100 against 130 conversions: B is very likely better (about 98%), and choosing A
    gives up about three points of conversion rate on average, B almost nothing."""
    result = analyse([VariantCounts("a", 1000, 100), VariantCounts("b", 1000, 130)])
    a, b = result.variants
    assert 0.97 < b.chance_to_beat_control < 0.99
    assert a.expected_loss == pytest.approx(0.03, abs=0.002)
    assert b.expected_loss < 0.001
    assert result.warnings == ()


@pytest.mark.parametrize(("x", "a", "b"), [(0.3, 2, 5), (0.01, 1, 400), (0.97, 50, 3), (0.5, 3000, 3100)])
def test_the_special_functions_match_scipy(x: float, a: float, b: float) -> None:
    assert beta_cdf(x, a, b) == pytest.approx(stats.beta.cdf(x, a, b), rel=1e-10, abs=1e-14)
    for q in (1e-6, 0.025, 0.5, 0.975):
        assert beta_ppf(q, a, b) == pytest.approx(stats.beta.ppf(q, a, b), rel=1e-9)


@pytest.mark.parametrize(("statistic", "degrees"), [(0.5, 1), (3.84, 1), (10.83, 1), (20.0, 2), (3.0, 5), (50.0, 3)])
def test_the_chi_square_tail_matches_scipy(statistic: float, degrees: int) -> None:
    assert chi2_sf(statistic, degrees) == pytest.approx(stats.chi2.sf(statistic, degrees), rel=1e-9)


def test_the_interval_of_a_flat_prior_with_no_data_is_the_middle_95_percent() -> None:
    assert credible_interval(1, 1) == pytest.approx((0.025, 0.975), abs=1e-12)


# --- the warnings ----------------------------------------------------------------------------------


def test_a_small_sample_says_it_is_too_small_to_say_anything() -> None:
    enough = [VariantCounts("a", MIN_VIEWS, MIN_CONVERSIONS), VariantCounts("b", MIN_VIEWS, MIN_CONVERSIONS + 5)]
    assert "too_small" not in analyse(enough).warnings
    few_views = [VariantCounts("a", MIN_VIEWS, MIN_CONVERSIONS), VariantCounts("b", MIN_VIEWS - 1, MIN_CONVERSIONS)]
    few_conversions = [VariantCounts("a", 5000, MIN_CONVERSIONS - 1), VariantCounts("b", 5000, 40)]
    for counts in (few_views, few_conversions):
        result = analyse(counts)
        assert result.too_small and "too_small" in result.warnings


def test_traffic_that_does_not_match_the_weights_is_flagged() -> None:
    # Weights 50/50, views 5,300 against 4,700: chi-square 36, p about 2e-9.
    skewed = [VariantCounts("a", 5300, 150, weight=1), VariantCounts("b", 4700, 140, weight=1)]
    result = analyse(skewed)
    assert result.sample_ratio is not None
    assert result.sample_ratio.statistic == pytest.approx(36.0)
    assert result.sample_ratio.p_value == pytest.approx(stats.chi2.sf(36.0, 1), rel=1e-9)
    assert "sample_ratio_mismatch" in result.warnings
    # The same views under 53/47 weights are what was asked for.
    fair = [VariantCounts("a", 5300, 150, weight=53), VariantCounts("b", 4700, 140, weight=47)]
    assert "sample_ratio_mismatch" not in analyse(fair).warnings
    # Ordinary noise is not a mismatch: 5,040 against 4,960 is p about 0.42.
    noisy = [VariantCounts("a", 5040, 150), VariantCounts("b", 4960, 140)]
    assert "sample_ratio_mismatch" not in analyse(noisy).warnings


def test_the_ratio_check_waits_for_enough_views() -> None:
    assert sample_ratio_check([VariantCounts("a", 4, 0), VariantCounts("b", 1, 0)]) is None
    assert sample_ratio_check([VariantCounts("a", 10, 0)]) is None


@pytest.mark.parametrize(
    "bad",
    [
        [VariantCounts("a", 10, 1), VariantCounts("a", 10, 2)],
        [],
    ],
)
def test_bad_input_is_refused_in_words(bad: list[VariantCounts]) -> None:
    with pytest.raises(ValueError):
        analyse(bad)


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="conversions in"):
        VariantCounts("a", views=3, conversions=4)
    with pytest.raises(ValueError, match="not among"):
        analyse([VariantCounts("a", 10, 1)], control="z")

"""Honest A/B results from aggregate counts: Beta-Binomial posteriors, the chance to beat the control and
the expected loss of choosing each variant, and the warnings that say when not to trust any of it.

Pure arithmetic on counts (views and conversions per variant, and the configured weights); no reader's
data ever reaches this module. Standard library only: the tests check every number against SciPy.

The model: each variant's conversion rate p has a Beta(1, 1) prior (uniform), so after `c` conversions
in `n` views its posterior is Beta(1 + c, 1 + n - c).
- The rate shown is the posterior mean, with the central 95% credible interval.
- "Chance to beat the control" is P(p_variant > p_control).
- "Chance to be best" is P(p_variant > every other p).
- "Expected loss" of choosing a variant is E[max_j p_j - p_variant]: how much conversion rate one gives
  up, on average over what the data leave possible, by picking it. A variant is a safe choice when its
  loss is below what the newsroom would notice.

The integrals are taken numerically over a grid that follows each posterior's own mass (the posteriors
of a large test are narrow and may not overlap), normalised so that each density integrates to one.

The warnings, and the rules behind them:
- Too small to say anything: any variant with fewer than MIN_VIEWS views or fewer than MIN_CONVERSIONS
  conversions. Below that the interval is wide enough to hold any conclusion, and the chances swing with
  a single conversion.
- Sample-ratio mismatch: the views per variant do not match the configured weights (a chi-square
  goodness-of-fit test, p below SRM_P_VALUE). Then something other than chance decides who sees which
  variant (a broken cache, a targeting rule, bots), and the comparison is not fair whatever it says.
  Checked only where every variant expects at least SRM_MIN_EXPECTED views (the test's own condition).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0
CREDIBLE = 0.95
MIN_VIEWS = 200
MIN_CONVERSIONS = 10
SRM_P_VALUE = 0.001
SRM_MIN_EXPECTED = 5.0
# Points per posterior on the integration grid, and how far into each tail it reaches.
_GRID_POINTS = 1201
_TAIL = 1e-10


@dataclass(frozen=True)
class VariantCounts:
    """What the aggregate counters hold for one variant. `weight` is the configured share of traffic."""

    key: str
    views: int
    conversions: int
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.views < 0 or self.conversions < 0:
            raise ValueError(f"variant {self.key!r}: counts cannot be negative")
        if self.conversions > self.views:
            raise ValueError(f"variant {self.key!r}: {self.conversions} conversions in {self.views} views")
        if self.weight < 0:
            raise ValueError(f"variant {self.key!r}: a weight cannot be negative")

    @property
    def alpha(self) -> float:
        return PRIOR_ALPHA + self.conversions

    @property
    def beta(self) -> float:
        return PRIOR_BETA + self.views - self.conversions


@dataclass(frozen=True)
class VariantResult:
    key: str
    views: int
    conversions: int
    rate: float  # posterior mean
    interval: tuple[float, float]  # central 95% credible interval
    observed_rate: float | None  # conversions / views, None without views
    chance_to_beat_control: float | None  # None for the control itself
    chance_to_be_best: float
    expected_loss: float


@dataclass(frozen=True)
class SampleRatio:
    statistic: float
    p_value: float
    expected_shares: tuple[float, ...]
    observed_shares: tuple[float, ...]


@dataclass(frozen=True)
class Analysis:
    control: str
    variants: tuple[VariantResult, ...]
    too_small: bool  # any variant below MIN_VIEWS views or MIN_CONVERSIONS conversions
    sample_ratio: SampleRatio | None  # None where the check does not apply
    warnings: tuple[str, ...] = field(default=())  # "too_small", "sample_ratio_mismatch"

    @property
    def sample_ratio_mismatch(self) -> bool:
        return self.sample_ratio is not None and self.sample_ratio.p_value < SRM_P_VALUE


def analyse(counts: Sequence[VariantCounts], *, control: str | None = None) -> Analysis:
    """The whole comparison. `control` defaults to the first variant."""
    if not counts:
        raise ValueError("a comparison needs at least one variant")
    keys = [variant.key for variant in counts]
    if len(set(keys)) != len(keys):
        raise ValueError("variant keys must be distinct")
    control_key = control if control is not None else keys[0]
    if control_key not in keys:
        raise ValueError(f"the control {control_key!r} is not among the variants")
    grid = _grid(counts)
    densities = [_density(grid, variant.alpha, variant.beta) for variant in counts]
    cdfs = [_cumulative(grid, density) for density in densities]
    expected_max = _expected_max(grid, cdfs)
    results = []
    for index, variant in enumerate(counts):
        others = [cdf for other, cdf in enumerate(cdfs) if other != index]
        best = _integrate(grid, [f * math.prod(c[i] for c in others) for i, f in enumerate(densities[index])])
        beats = None
        if variant.key != control_key:
            control_cdf = cdfs[keys.index(control_key)]
            beats = _integrate(grid, [f * control_cdf[i] for i, f in enumerate(densities[index])])
        mean = variant.alpha / (variant.alpha + variant.beta)
        results.append(
            VariantResult(
                key=variant.key,
                views=variant.views,
                conversions=variant.conversions,
                rate=mean,
                interval=credible_interval(variant.alpha, variant.beta),
                observed_rate=variant.conversions / variant.views if variant.views else None,
                chance_to_beat_control=_clamp(beats) if beats is not None else None,
                chance_to_be_best=_clamp(best),
                expected_loss=max(0.0, expected_max - mean),
            )
        )
    too_small = any(v.views < MIN_VIEWS or v.conversions < MIN_CONVERSIONS for v in counts)
    ratio = sample_ratio_check(counts)
    mismatch = ratio is not None and ratio.p_value < SRM_P_VALUE
    warnings = (["too_small"] if too_small else []) + (["sample_ratio_mismatch"] if mismatch else [])
    return Analysis(
        control=control_key, variants=tuple(results), too_small=too_small, sample_ratio=ratio, warnings=tuple(warnings)
    )


def credible_interval(alpha: float, beta: float, *, mass: float = CREDIBLE) -> tuple[float, float]:
    tail = (1 - mass) / 2
    return beta_ppf(tail, alpha, beta), beta_ppf(1 - tail, alpha, beta)


def sample_ratio_check(counts: Sequence[VariantCounts]) -> SampleRatio | None:
    """Chi-square goodness of fit of the views to the weights; None where it does not apply."""
    total_views = sum(v.views for v in counts)
    total_weight = sum(v.weight for v in counts)
    if len(counts) < 2 or total_views == 0 or total_weight <= 0:
        return None
    expected = [total_views * v.weight / total_weight for v in counts]
    if any(e < SRM_MIN_EXPECTED for e in expected):
        return None
    statistic = sum((v.views - e) ** 2 / e for v, e in zip(counts, expected, strict=True))
    return SampleRatio(
        statistic=statistic,
        p_value=chi2_sf(statistic, len(counts) - 1),
        expected_shares=tuple(v.weight / total_weight for v in counts),
        observed_shares=tuple(v.views / total_views for v in counts),
    )


# --- special functions -----------------------------------------------------------------------------


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1 - front * _continued_fraction(b, a, 1 - x) / b


def beta_ppf(q: float, a: float, b: float) -> float:
    """The inverse of beta_cdf, by bisection (monotone, and exact to the last bits)."""
    if not 0 <= q <= 1:
        raise ValueError("a quantile is between 0 and 1")
    low, high = 0.0, 1.0
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if beta_cdf(middle, a, b) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x)."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # the series for P, then Q = 1 - P
        term = total = 1 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1 - total * math.exp(log_front))
    tiny = 1e-300  # the continued fraction for Q (modified Lentz)
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_front) * h


def chi2_sf(statistic: float, degrees: int) -> float:
    """P(X >= statistic) for X chi-square distributed with `degrees` degrees of freedom."""
    if degrees < 1:
        raise ValueError("a chi-square test needs at least one degree of freedom")
    return _gamma_q(degrees / 2, statistic / 2)


# --- integration over the posteriors --------------------------------------------------------------


def _grid(counts: Sequence[VariantCounts]) -> list[float]:
    points: set[float] = set()
    for variant in counts:
        low = beta_ppf(_TAIL, variant.alpha, variant.beta)
        high = beta_ppf(1 - _TAIL, variant.alpha, variant.beta)
        step = (high - low) / (_GRID_POINTS - 1)
        points.update(low + i * step for i in range(_GRID_POINTS))
    return sorted(x for x in points if 0 < x < 1)


def _density(grid: list[float], a: float, b: float) -> list[float]:
    log_norm = _log_beta(a, b)
    raw = [math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_norm) for x in grid]
    total = _integrate(grid, raw)
    return [value / total for value in raw] if total > 0 else raw


def _cumulative(grid: list[float], density: list[float]) -> list[float]:
    cdf = [0.0]
    for i in range(1, len(grid)):
        cdf.append(cdf[-1] + (density[i] + density[i - 1]) * (grid[i] - grid[i - 1]) / 2)
    return [min(1.0, value) for value in cdf]


def _integrate(grid: list[float], values: list[float]) -> float:
    return sum((values[i] + values[i - 1]) * (grid[i] - grid[i - 1]) / 2 for i in range(1, len(grid)))


def _expected_max(grid: list[float], cdfs: list[list[float]]) -> float:
    """E[max_j p_j] = high - the integral of the product of the CDFs over [low, high]."""
    product = [math.prod(cdf[i] for cdf in cdfs) for i in range(len(grid))]
    return grid[-1] - _integrate(grid, product)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))

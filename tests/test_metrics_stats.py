"""Intervals: bootstrap over items, bootstrap of set statistics, t-interval across seeds."""

import math

import numpy as np
import pytest

from inkgen.metrics.stats import (Estimate, across_seeds, bootstrap_ci, bootstrap_ci_indices, count_prefix, exact,
                                  format_count)


def test_estimate_format():
    assert Estimate(0.5123, 0.4812, 0.5498, 64).format() == "0.512 [0.48, 0.55] (N=64)"
    assert str(Estimate(1.0, math.nan, math.nan, 1)) == "1.000 [no CI] (N=1)"
    assert exact(89_000_000).format(0) == "89000000 (exact, N=1)"


def test_counts_are_shown_in_the_papers_units():
    assert count_prefix([1_456_564, 2e8]) == "M" and count_prefix([7.03e10, 1e6]) == "G"
    assert format_count(exact(1_456_564), "M") == "1.46 M"
    assert format_count(exact(70_300_000_000), "G") == "70.3 G"
    assert format_count(Estimate(2e6, 1.5e6, 2.5e6, 10, "t"), "M") == "2.00 [1.5, 2.5] (N=10) M"
    with pytest.raises(ValueError, match="unknown prefix 'T'"):
        format_count(exact(1), "T")


def test_bootstrap_ci_width_matches_normal_theory():
    rng = np.random.default_rng(1)
    x = rng.normal(10.0, 2.0, 400)
    est = bootstrap_ci(x, np.mean, confidence=0.95, n_resamples=2000, seed=0)
    assert est.mean == pytest.approx(x.mean())
    assert est.low < 10.0 < est.high
    expected_half = 1.96 * x.std(ddof=1) / math.sqrt(len(x))  # the textbook interval for a mean
    assert (est.high - est.low) / 2 == pytest.approx(expected_half, rel=0.15)
    assert est.n == 400 and est.method == "BCa"


def test_bootstrap_ci_is_reproducible_and_seeded():
    x = np.random.default_rng(2).exponential(1.0, 50)
    a = bootstrap_ci(x, n_resamples=500, seed=3)
    assert a == bootstrap_ci(x, n_resamples=500, seed=3)
    assert (a.low, a.high) != (bootstrap_ci(x, n_resamples=500, seed=4).low,
                               bootstrap_ci(x, n_resamples=500, seed=4).high)


def test_bootstrap_ci_coverage_is_near_nominal():
    """Over 200 fresh samples of a known mean, about 95% of the intervals contain it."""
    rng = np.random.default_rng(5)
    hits = 0
    for k in range(200):
        x = rng.normal(1.0, 1.0, 40)
        est = bootstrap_ci(x, np.mean, n_resamples=400, seed=k, method="percentile")
        hits += est.low <= 1.0 <= est.high
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_ci_small_and_degenerate_samples():
    one = bootstrap_ci([3.0], n_resamples=100)
    assert one.mean == 3.0 and math.isnan(one.low) and one.method == "none"
    flat = bootstrap_ci([2.0] * 10, n_resamples=100)
    assert (flat.low, flat.mean, flat.high) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="non-finite"):
        bootstrap_ci([1.0, float("inf")])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], confidence=95)


def test_normal_interval_is_centred_on_the_value():
    x = np.random.default_rng(6).normal(0, 1, 100)
    est = bootstrap_ci(x, np.mean, n_resamples=1000, seed=0, method="normal")
    assert est.mean == pytest.approx((est.low + est.high) / 2)
    assert (est.high - est.low) / 2 == pytest.approx(1.96 / 10, rel=0.2)


def test_set_statistic_interval_contains_the_value_despite_bootstrap_bias():
    """A statistic that duplicated items inflate (number of distinct items): percentile would miss."""
    rng = np.random.default_rng(7)
    data = rng.normal(0, 1, 60)

    def distinct(idx):
        return float(len(np.unique(data[idx])))

    est = bootstrap_ci_indices(distinct, (60,), n_resamples=300, seed=0)
    assert est.mean == 60.0 and est.low < 60.0 < est.high
    pct = bootstrap_ci_indices(distinct, (60,), n_resamples=300, seed=0, method="percentile")
    assert pct.high < 60.0  # the bias the normal interval avoids


def test_across_seeds_t_interval_by_hand():
    est = across_seeds([1.0, 2.0, 3.0])
    # mean 2, s = 1, sem = 1/sqrt(3), t(0.975, df=2) = 4.302653 (tables)
    half = 4.302653 / math.sqrt(3)
    assert est.mean == 2.0 and est.low == pytest.approx(2 - half, abs=1e-5)
    assert est.high == pytest.approx(2 + half, abs=1e-5) and est.method == "t" and est.n == 3
    single = across_seeds([5.0])
    assert single.mean == 5.0 and not single.has_interval
    same = across_seeds([4.0, 4.0])
    assert (same.low, same.high) == (4.0, 4.0)

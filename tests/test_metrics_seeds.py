"""Seed-aware intervals (inkgen.metrics.seeds) on synthetic seeds x items tables whose truth is known."""

import math

import numpy as np
import pytest
from scipy import stats

from inkgen.metrics.seeds import holm, seed_item_stat, set_stat


def table(rng, *, true=0.3, sd_seed=1.0, sd_item=0.2, sd_res=0.2, seeds=3, items=2000):
    """d[s, i] = true + seed effect + item effect (shared by all seeds) + residual."""
    return (true + rng.normal(0, sd_seed, (seeds, 1)) + rng.normal(0, sd_item, (1, items))
            + rng.normal(0, sd_res, (seeds, items)))


def test_large_between_seed_variance_keeps_the_interval_wide_with_many_images():
    rng = np.random.default_rng(0)
    d = table(rng, true=0.3, sd_seed=1.0, items=5000)
    est = seed_item_stat(d).estimate(0.95)
    assert est.low < 0 < est.high  # 15,000 values, but three training runs: undecided
    assert est.n_seeds == 3 and est.n == 5000 and "3 seeds x 5000 images" in est.format()
    # the naive interval over the pooled images would have claimed a clear difference
    pooled = d.ravel()
    half = 1.96 * pooled.std(ddof=1) / math.sqrt(len(pooled))
    assert pooled.mean() - half > 0
    # with seeds that agree, the same images settle it
    agree = seed_item_stat(table(np.random.default_rng(0), true=0.3, sd_seed=0.01, items=5000)).estimate(0.95)
    assert agree.low > 0


@pytest.mark.parametrize("sd_seed,sd_item", [(1.0, 0.1), (0.1, 1.0), (0.3, 0.3)])
def test_coverage_is_at_least_nominal_where_the_truth_is_known(sd_seed, sd_item):
    rng = np.random.default_rng(1)
    hits = 0
    runs = 400
    for _ in range(runs):
        est = seed_item_stat(table(rng, true=0.5, sd_seed=sd_seed, sd_item=sd_item, seeds=3, items=50)).estimate(0.95)
        hits += est.low <= 0.5 <= est.high
    assert hits / runs >= 0.93  # conservative by construction; binomial noise of 400 runs is ~1.1%


def test_one_value_per_seed_is_the_plain_t_interval_and_one_seed_has_none():
    x = np.array([40.0, 44.0, 47.0])
    s = seed_item_stat(x)
    lo, hi = stats.t.interval(0.95, 2, loc=x.mean(), scale=stats.sem(x))
    est = s.estimate(0.95)
    assert (est.low, est.high) == pytest.approx((lo, hi))
    one = seed_item_stat(np.ones((1, 100))).estimate(0.95)
    assert not one.has_interval and one.method == "one seed" and math.isnan(seed_item_stat(np.ones((1, 9))).p_value)
    with pytest.raises(ValueError, match="non-finite"):
        seed_item_stat(np.array([[1.0, np.nan], [1.0, 2.0]]))


def test_set_level_difference_uses_the_same_indices_for_both_sides():
    """A and B differ by a constant on every item: the paired difference of their set means has no item
    variance at all, while each side alone varies a lot -- only shared indices see that."""
    rng = np.random.default_rng(2)
    base = rng.normal(0, 5, 80)
    seeds_shift = np.array([1.0, 1.02, 0.98])
    stat = set_stat(lambda s, idx: float(np.mean(base[idx] + seeds_shift[s]) - np.mean(base[idx])), 3, 80,
                    n_resamples=50, seed=0)
    est = stat.estimate(0.95)
    assert est.low > 0.85 and est.high < 1.15
    assert stat.per_seed == pytest.approx(tuple(seeds_shift))


def test_holm_levels_step_down_and_stop():
    levels = holm([0.001, 0.04, 0.02, math.nan], 0.05)
    assert levels[0] == pytest.approx(1 - 0.05 / 3)   # smallest p against alpha/3
    assert levels[2] == pytest.approx(1 - 0.05 / 2)   # then alpha/2
    assert levels[1] == pytest.approx(1 - 0.05 / 1)   # then alpha
    assert math.isnan(levels[3])
    stopped = holm([0.3, 0.001, 0.5], 0.05)
    assert stopped[1] == pytest.approx(1 - 0.05 / 3) and stopped[0] == pytest.approx(1 - 0.05 / 2)
    assert math.isnan(stopped[2])  # 0.3 > 0.025 was not rejected: 0.5 is never reached

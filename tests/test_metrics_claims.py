"""Verdicts on directional claims: bootstrap of the difference, interval overlap, exact values."""

import math

import numpy as np
import pytest

from inkgen.metrics.claims import (DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, combine, compare_estimates,
                                   compare_samples, judge, verdict_from_difference)
from inkgen.metrics.stats import Estimate, exact

KW = dict(confidence=0.95, n_resamples=1000, seed=0)


def test_verdict_from_difference_rule():
    assert verdict_from_difference(Estimate(0.3, 0.1, 0.5, 30), "greater") == HOLDS
    assert verdict_from_difference(Estimate(0.3, 0.1, 0.5, 30), "less") == DOES_NOT_HOLD
    assert verdict_from_difference(Estimate(0.1, -0.1, 0.3, 30), "greater") == INCONCLUSIVE
    assert verdict_from_difference(Estimate(-0.3, -0.5, -0.1, 30), "less") == HOLDS
    assert verdict_from_difference(Estimate(0.3, math.nan, math.nan, 1), "greater") == INCONCLUSIVE
    with pytest.raises(ValueError, match="direction"):
        verdict_from_difference(Estimate(0.3, 0.1, 0.5, 30), "bigger")


def test_clear_differences_hold_or_fail_and_noise_is_inconclusive():
    rng = np.random.default_rng(0)
    b = rng.normal(0.5, 0.1, 64)
    better = b + 0.2 + rng.normal(0, 0.02, 64)
    same = b + rng.normal(0, 0.02, 64)
    assert compare_samples(better, b, "greater", paired=True, **KW).verdict == HOLDS
    assert compare_samples(better, b, "less", paired=True, **KW).verdict == DOES_NOT_HOLD
    res = compare_samples(same, b, "greater", paired=True, **KW)
    assert res.verdict == INCONCLUSIVE and res.rule == "paired bootstrap"
    assert res.difference.low < 0 < res.difference.high


def test_pairing_is_what_resolves_a_small_consistent_difference():
    """Items differ a lot among themselves, A beats B on every item by a little: only the paired
    bootstrap sees it (the unpaired one drowns it in the between-item spread)."""
    rng = np.random.default_rng(1)
    b = rng.normal(25.0, 4.0, 40)  # e.g. per-image PSNR, very image-dependent
    a = b + 0.5 + rng.normal(0, 0.1, 40)
    assert compare_samples(a, b, "greater", paired=True, **KW).verdict == HOLDS
    unpaired = compare_samples(a, b, "greater", paired=False, **KW)
    assert unpaired.verdict == INCONCLUSIVE and unpaired.rule == "unpaired bootstrap"
    with pytest.raises(ValueError, match="equally many"):
        compare_samples(a, b[:-1], "greater", paired=True, **KW)


def test_compare_estimates_by_interval_overlap_and_exact_values():
    hi, lo = Estimate(0.8, 0.75, 0.85, 64), Estimate(0.6, 0.55, 0.65, 64)
    overlap = Estimate(0.78, 0.70, 0.86, 64)
    assert compare_estimates(hi, lo, "greater").verdict == HOLDS
    assert compare_estimates(hi, lo, "less").verdict == DOES_NOT_HOLD
    assert compare_estimates(lo, hi, "less").verdict == HOLDS
    assert compare_estimates(hi, overlap, "greater").verdict == INCONCLUSIVE
    assert compare_estimates(hi, Estimate(0.1, math.nan, math.nan, 1), "greater").verdict == INCONCLUSIVE
    # parameter counts: exact numbers; a strict claim with equal values does not hold
    assert compare_estimates(exact(89), exact(72), "greater").verdict == HOLDS
    assert compare_estimates(exact(72), exact(72), "greater").verdict == DOES_NOT_HOLD
    assert compare_estimates(exact(72), exact(89), "greater").rule == "exact values"


def test_combine_and_multi_variant_claim():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, INCONCLUSIVE, DOES_NOT_HOLD]) == DOES_NOT_HOLD
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, 50)
    noise = rng.normal(0, 0.05, 50)
    measured = {"full": base - 1.0, "vqgan": base, "no_clip": base - 1.0 + noise - noise.mean(),
                "seeds_only": Estimate(5.0, 4.0, 6.0, 3)}
    v = judge("fastest", "x", "less", "full", ["vqgan", "no_clip"], measured, paired=True, **KW)
    assert [c.verdict for c in v.comparisons] == [HOLDS, INCONCLUSIVE] and v.verdict == INCONCLUSIVE
    mixed = judge("m", "x", "less", "full", ["seeds_only"], measured, paired=True, **KW)
    assert mixed.comparisons[0].rule == "interval overlap" and mixed.verdict == HOLDS
    assert "fastest [x]: inconclusive" in v.summary()
    with pytest.raises(KeyError, match="no_transformer"):
        judge("c", "x", "less", "full", ["no_transformer"], measured, paired=True, **KW)


def test_median_statistic_for_timings():
    rng = np.random.default_rng(3)
    slow = rng.normal(23.0, 0.5, 30)
    fast = rng.normal(19.0, 0.5, 30)
    slow[0] = 1.0  # one odd run must not matter to a median
    res = compare_samples(slow, fast, "greater", paired=False, statistic=np.median, **KW)
    assert res.verdict == HOLDS and res.difference.mean == pytest.approx(np.median(slow) - np.median(fast))


def test_interleaved_timing_rotates_the_order_and_times_every_callable():
    from inkgen.metrics import time_interleaved

    order = []
    fns = {name: (lambda n=name: order.append(n)) for name in ("a", "b", "c")}
    timings = time_interleaved(fns, warmup=1, runs=3, device="cpu")
    assert order[:3] == ["a", "b", "c"]                                  # warm-up
    assert order[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]    # each round starts one later
    assert {k: len(t.ms) for k, t in timings.items()} == {"a": 3, "b": 3, "c": 3}
    with pytest.raises(ValueError, match="at least one callable"):
        time_interleaved({}, warmup=0, runs=1, device="cpu")

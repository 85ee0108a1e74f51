"""Verdicts on directional claims: seed-level intervals of the difference, Holm, exact values."""

import math

import numpy as np
import pytest

from inkgen.metrics.claims import (DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, Seeded, combine, compare_exact,
                                   compare_samples, compare_seeded, holm_verdicts, judge, verdict_from_difference)
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


def test_exact_values_compare_as_numbers():
    assert compare_exact(exact(89), exact(72), "greater").verdict == HOLDS
    assert compare_exact(exact(72), exact(72), "greater").verdict == DOES_NOT_HOLD
    assert compare_exact(exact(72), exact(89), "greater").rule == "exact values"
    with pytest.raises(ValueError, match="not both exact"):
        compare_exact(Estimate(0.8, 0.7, 0.9, 64), exact(1), "greater")


def test_combine():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, INCONCLUSIVE, DOES_NOT_HOLD]) == DOES_NOT_HOLD


def seeded(table, seeds=(1, 2, 3)):
    return Seeded(seeds=tuple(seeds[:len(table)]), table=np.asarray(table))


def test_seed_level_claims_hold_fail_or_stay_inconclusive_and_say_their_n():
    rng = np.random.default_rng(2)
    base = rng.normal(0, 1, (1, 50))
    b = base + rng.normal(0, 0.01, (3, 1))
    measured = {"full": seeded(b - 1.0 + rng.normal(0, 0.01, (3, 50))), "vqgan": seeded(b),
                "no_clip": seeded(b - 1.0 + rng.normal(0, 2.0, (3, 1))),  # seeds disagree wildly
                "exact_a": exact(3), "overlap": Estimate(5.0, 4.0, 6.0, 3)}
    v = judge("fastest", "x", "less", "full", ["vqgan", "no_clip"], measured, **KW)
    assert [c.verdict for c in v.comparisons] == [HOLDS, INCONCLUSIVE] and v.verdict == INCONCLUSIVE
    assert v.comparisons[0].rule == "paired seed x item t" and v.n_seeds == 3 and v.n_items == 50
    assert "3 training seeds x 50 items" in v.text and "more training seeds" in v.text
    # an interval that is not seed-level (or overlap of two intervals) never decides a claim
    mixed = judge("m", "x", "less", "exact_a", ["overlap"], measured, **KW)
    assert mixed.comparisons[0].rule == "no seed-level data" and mixed.verdict == INCONCLUSIVE
    with pytest.raises(KeyError, match="no_transformer"):
        judge("c", "x", "less", "full", ["no_transformer"], measured, **KW)
    with pytest.raises(ValueError, match="different seeds"):
        judge("c", "x", "less", "full", ["s"], {**measured, "s": Seeded(seeds=(1, 2, 4), table=b)}, **KW)


def test_one_seed_is_inconclusive_whatever_the_images():
    rng = np.random.default_rng(4)
    b = rng.normal(0, 1, (1, 500))
    measured = {"full": Seeded(seeds=(7,), table=b + 5.0), "vqgan": Seeded(seeds=(7,), table=b)}
    [v] = holm_verdicts([judge("c", "psnr", "greater", "full", ["vqgan"], measured, **KW)], confidence=0.95)
    assert v.verdict == INCONCLUSIVE and "1 training seed" in v.text


def test_set_level_claims_bootstrap_the_paired_difference():
    """Each set's value varies a lot with the resampled images, but B is A plus a constant on every image:
    only a difference on the same indices resolves it."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, 60)
    shift = {1: 0.50, 2: 0.52, 3: 0.49}
    a = Seeded(seeds=(1, 2, 3), set_value=lambda s, idx: float(np.mean(x[idx])), n_items=60)
    b = Seeded(seeds=(1, 2, 3), set_value=lambda s, idx: float(np.mean(x[idx] + shift[s + 1])), n_items=60)
    c = compare_seeded(a, b, "less", confidence=0.95, n_resamples=100, seed=0, names=("full", "vqgan"))
    assert c.verdict == HOLDS and c.rule.startswith("seed t + paired bootstrap")
    assert c.difference.high < -0.4


def test_holm_makes_a_borderline_claim_inconclusive_among_many():
    """A comparison significant alone at 95% does not survive among ten null ones tested together."""
    rng = np.random.default_rng(6)
    base = rng.normal(0, 1, (1, 40))
    seeds = (1, 2, 3, 4, 5)
    per_seed = np.array([0.30, 0.10, 0.22, 0.05, 0.18])[:, None]
    lone = {"a": Seeded(seeds=seeds, table=base + per_seed), "b": Seeded(seeds=seeds, table=base + 0 * per_seed)}
    alone = judge("lone", "x", "greater", "a", ["b"], lone, **KW)
    assert alone.verdict == HOLDS and alone.comparisons[0].stat.p_value > 0.05 / 10
    many = [alone] + [judge(f"n{k}", "x", "greater", "a", ["b"],
                            {"a": Seeded(seeds=seeds, table=base + rng.normal(0, 0.2, (5, 1))),
                             "b": Seeded(seeds=seeds, table=base + 0 * per_seed)}, **KW) for k in range(9)]
    corrected = holm_verdicts(many, confidence=0.95)
    assert corrected[0].verdict == INCONCLUSIVE


def test_median_statistic_for_timings():
    rng = np.random.default_rng(3)
    slow = rng.normal(23.0, 0.5, 30)
    fast = rng.normal(19.0, 0.5, 30)
    slow[0] = 1.0  # one odd run must not matter to a median
    res = compare_samples(slow, fast, "greater", paired=False, statistic=np.median, **KW)
    assert res.verdict == HOLDS and res.difference.mean == pytest.approx(np.median(slow) - np.median(fast))


def test_interleaved_timing_rotates_the_order_and_times_every_callable():
    from inkgen.metrics.cost import time_interleaved

    order = []
    fns = {name: (lambda n=name: order.append(n)) for name in ("a", "b", "c")}
    timings = time_interleaved(fns, warmup=1, runs=3, device="cpu")
    assert order[:3] == ["a", "b", "c"]                                  # warm-up
    assert order[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]    # each round starts one later
    assert {k: len(t.ms) for k, t in timings.items()} == {"a": 3, "b": 3, "c": 3}
    with pytest.raises(ValueError, match="at least one callable"):
        time_interleaved({}, warmup=0, runs=1, device="cpu")

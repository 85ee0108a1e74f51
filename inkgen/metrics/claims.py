"""Verdicts on the paper's directional claims ("removing CLIP lowers the cosine similarity", Table 1 and
its discussion in section 3.1): does the claim hold at the N this study measured?

The rule (the same for every claim):

1. The claim says variant A's metric is *greater* (or *less*) than variant B's.
2. With per-item values for both (per image, per prompt, per timing run), the difference
   ``statistic(A) - statistic(B)`` is bootstrapped (``scipy.stats.bootstrap``): *paired* when both were
   measured on the same items in the same order (same test images, same prompts), *unpaired* otherwise.
   With only estimates (a set-level metric with its own interval, a t-interval over seeds), the two 95%
   intervals are compared instead; requiring them not to overlap is stricter than requiring the
   interval of the difference to exclude 0, so a "holds" or "does not hold" from this branch is never
   weaker than the bootstrap's.
3. **holds** if the 95% interval of A - B lies entirely on the claimed side of 0 (intervals: A's
   entirely above B's for "greater"); **does not hold** if it lies entirely on the opposite side;
   otherwise **inconclusive at this N** -- the data neither confirm nor refute it. Two exact
   quantities (parameter counts, MACs) are compared as numbers: a strict claim with equal values does
   not hold.
4. A claim against several variants ("full converges fastest") holds if it holds against each of them,
   does not hold if it fails against any, and is inconclusive otherwise.

No correction for multiple comparisons is applied; pass a higher ``confidence`` (e.g. Bonferroni,
``1 - 0.05 / n_claims``) to have one.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from inkgen.metrics.stats import Estimate, bootstrap_ci

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive at this N"
DIRECTIONS = ("greater", "less")

Measured = Estimate | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Comparison:
    """One pairwise comparison: ``a`` vs ``b`` on ``metric``; ``difference`` is the estimate of A - B
    (None when decided from two intervals or exact values), ``rule`` says which branch decided."""

    a: str
    b: str
    metric: str
    direction: str
    verdict: str
    rule: str
    difference: Estimate | None
    a_value: Estimate
    b_value: Estimate


@dataclass(frozen=True)
class ClaimVerdict:
    """The verdict on one claim, with the metric actually used and every pairwise comparison."""

    claim_id: str
    metric: str
    verdict: str
    comparisons: tuple[Comparison, ...]

    def summary(self) -> str:
        parts = [f"{c.a} vs {c.b}: {c.verdict} ({c.rule}"
                 + (f", A-B = {c.difference.format()}" if c.difference is not None else "") + ")"
                 for c in self.comparisons]
        return f"{self.claim_id} [{self.metric}]: {self.verdict} -- " + "; ".join(parts)


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def verdict_from_difference(diff: Estimate, direction: str) -> str:
    """Rule 3 on the interval of A - B."""
    _check_direction(direction)
    if not diff.has_interval:
        return INCONCLUSIVE
    sign = 1.0 if direction == "greater" else -1.0
    lo, hi = sorted((sign * diff.low, sign * diff.high))
    if lo > 0:
        return HOLDS
    if hi < 0:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def _difference_statistic(statistic: Callable[..., float]) -> Callable[..., float]:
    try:
        takes_axis = "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):  # some numpy callables have no introspectable signature
        takes_axis = False
    if takes_axis:
        def diff(x, y, axis=-1):
            return statistic(x, axis=axis) - statistic(y, axis=axis)
    else:
        def diff(x, y):
            return statistic(x) - statistic(y)
    return diff


def compare_samples(a: Sequence[float], b: Sequence[float], direction: str, *, paired: bool,
                    confidence: float, n_resamples: int, seed: int, statistic: Callable[..., float] = np.mean,
                    names: tuple[str, str] = ("A", "B"), metric: str = "") -> Comparison:
    """Rule 2-3 with per-item values: bootstrap the difference of ``statistic`` (paired or not)."""
    _check_direction(direction)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired and len(a) != len(b):
        raise ValueError(f"a paired comparison needs equally many items, got {len(a)} ({names[0]}) and "
                         f"{len(b)} ({names[1]})")
    diff = bootstrap_ci((a, b), _difference_statistic(statistic), confidence=confidence,
                        n_resamples=n_resamples, seed=seed, paired=paired)
    a_est = bootstrap_ci(a, statistic, confidence=confidence, n_resamples=n_resamples, seed=seed)
    b_est = bootstrap_ci(b, statistic, confidence=confidence, n_resamples=n_resamples, seed=seed)
    rule = "paired bootstrap" if paired else "unpaired bootstrap"
    return Comparison(names[0], names[1], metric, direction, verdict_from_difference(diff, direction), rule,
                      diff, a_est, b_est)


def compare_estimates(a: Estimate, b: Estimate, direction: str, *, names: tuple[str, str] = ("A", "B"),
                      metric: str = "") -> Comparison:
    """Rule 2-3 with two estimates: exact values compared as numbers, otherwise interval overlap."""
    _check_direction(direction)
    sign = 1.0 if direction == "greater" else -1.0
    if a.method == "exact" and b.method == "exact":
        d = sign * (a.mean - b.mean)
        verdict, rule = (HOLDS if d > 0 else DOES_NOT_HOLD), "exact values"
    elif not (a.has_interval and b.has_interval):
        verdict, rule = INCONCLUSIVE, "no interval"
    else:
        # claimed-greater side's lower bound above the other's upper bound (mirrored for "less")
        hi_a, lo_a = (a.high, a.low) if sign > 0 else (-a.low, -a.high)
        hi_b, lo_b = (b.high, b.low) if sign > 0 else (-b.low, -b.high)
        verdict = HOLDS if lo_a > hi_b else DOES_NOT_HOLD if hi_a < lo_b else INCONCLUSIVE
        rule = "interval overlap"
    return Comparison(names[0], names[1], metric, direction, verdict, rule, None, a, b)


def combine(verdicts: Sequence[str]) -> str:
    """Rule 4: all hold -> holds; any does not hold -> does not hold; else inconclusive."""
    if not verdicts:
        raise ValueError("no comparisons to combine")
    if any(v == DOES_NOT_HOLD for v in verdicts):
        return DOES_NOT_HOLD
    return HOLDS if all(v == HOLDS for v in verdicts) else INCONCLUSIVE


def judge(claim_id: str, metric: str, direction: str, variant: str, versus: Sequence[str],
          measured: Mapping[str, Measured], *, paired: bool, confidence: float, n_resamples: int, seed: int,
          statistic: Callable[..., float] = np.mean) -> ClaimVerdict:
    """The verdict on "``variant``'s ``metric`` is ``direction`` than each of ``versus``".

    ``measured`` maps each variant to its per-item values (array) or an :class:`Estimate`. Two arrays are
    compared by bootstrap (``paired`` when they have equal length and ``paired`` is set), anything else
    by :func:`compare_estimates` (arrays are first summarised with :func:`bootstrap_ci`).
    """
    missing = [v for v in (variant, *versus) if v not in measured]
    if missing:
        raise KeyError(f"claim {claim_id}: no measured {metric!r} for variant(s) {missing}")
    comparisons = []
    for k, other in enumerate(versus):
        a, b = measured[variant], measured[other]
        pair_seed = seed + k  # distinct resamples per comparison, reproducible
        if not isinstance(a, Estimate) and not isinstance(b, Estimate):
            same_items = paired and len(a) == len(b)
            comparisons.append(compare_samples(a, b, direction, paired=same_items, confidence=confidence,
                                               n_resamples=n_resamples, seed=pair_seed, statistic=statistic,
                                               names=(variant, other), metric=metric))
        else:
            est = [x if isinstance(x, Estimate) else
                   bootstrap_ci(np.asarray(x, float), statistic, confidence=confidence,
                                n_resamples=n_resamples, seed=pair_seed) for x in (a, b)]
            comparisons.append(compare_estimates(est[0], est[1], direction, names=(variant, other),
                                                 metric=metric))
    return ClaimVerdict(claim_id, metric, combine([c.verdict for c in comparisons]), tuple(comparisons))

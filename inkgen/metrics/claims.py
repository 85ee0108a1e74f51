"""Verdicts on the paper's directional claims ("removing CLIP lowers the cosine similarity", Table 1 and
its discussion in section 3.1): does the claim hold across the training seeds and test items this study
measured?

The rule (the same for every claim):

1. The claim says variant A's metric is *greater* (or *less*) than variant B's.
2. Both were measured for every training seed on the same test items (:class:`Seeded`). The estimate of
   A - B is the seed-aware interval of :mod:`inkgen.metrics.seeds`: per-item metrics as the paired
   difference table ``A[s, i] - B[s, i]``; set-level metrics (Fréchet distance, IS formula) as the
   difference of the two set values on the *same* resampled item indices (a paired bootstrap of the
   difference, never two intervals compared); per-run quantities (convergence epochs) as the per-seed
   difference. Exact quantities (parameter counts, MACs) are compared as numbers: a strict claim with
   equal values does not hold.
3. Multiplicity: every seed-level comparison of every claim is one hypothesis; Holm's step-down
   procedure (:func:`inkgen.metrics.seeds.holm`) gives each the confidence level its interval is read
   at (family-wise 95%). **holds** if that interval of A - B lies entirely on the claimed side of 0;
   **does not hold** if entirely on the other; otherwise **inconclusive at this N**. The N is
   training seeds first: with one seed there is no interval and every such claim is inconclusive.
4. A claim against several variants ("full converges fastest") holds if it holds against each of them,
   does not hold if it fails against any, and is inconclusive otherwise.

The verdict text carries its caveat: how many seeds and items it rests on.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from inkgen.metrics.seeds import SeedStat, _satterthwaite, holm, seed_item_stat, set_stat
from inkgen.metrics.stats import Estimate, bootstrap_ci

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive at this N"
NOT_APPLICABLE = "not applicable in this implementation"
DIRECTIONS = ("greater", "less")


@dataclass(frozen=True)
class Seeded:
    """One metric of one variant (or one group of items) across training seeds.

    Exactly one of: ``table`` (S, N) per-item values (seed s, item i; N = 1 for one value per run, e.g.
    a convergence epoch), or ``set_value(s, idx)`` -- the set-level value of seed ``s`` on item rows
    ``idx`` -- with ``n_items``. ``seeds`` names the training seeds, in row order. ``paired``: items are
    the same across variants (test images, prompts); False for groups of different items (seen vs
    withheld categories)."""

    seeds: tuple[int, ...]
    table: np.ndarray | None = None
    set_value: Callable[[int, np.ndarray], float] | None = None
    n_items: int = 0
    paired: bool = True

    def __post_init__(self) -> None:
        if (self.table is None) == (self.set_value is None):
            raise ValueError("Seeded needs exactly one of table or set_value")
        if self.table is not None:
            t = np.asarray(self.table, dtype=float)
            t = t[:, None] if t.ndim == 1 else t
            object.__setattr__(self, "table", t)
            object.__setattr__(self, "n_items", t.shape[1])
            if t.shape[0] != len(self.seeds):
                raise ValueError(f"table has {t.shape[0]} seed rows for {len(self.seeds)} seeds")

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def stat(self, *, n_resamples: int, seed: int) -> SeedStat:
        """The mean over seeds (and items) with its seed-aware standard error."""
        if self.table is not None:
            return seed_item_stat(self.table)
        return set_stat(self.set_value, self.n_seeds, self.n_items, n_resamples=n_resamples, seed=seed)

    def estimate(self, confidence: float, *, n_resamples: int, seed: int) -> Estimate:
        return self.stat(n_resamples=n_resamples, seed=seed).estimate(confidence)


def difference(a: Seeded, b: Seeded, *, n_resamples: int, seed: int, names: tuple[str, str] = ("A", "B")
               ) -> SeedStat:
    """:class:`SeedStat` of A - B. Same seeds required (row s of A and of B come from the same seed)."""
    if a.seeds != b.seeds:
        raise ValueError(f"{names[0]} and {names[1]} were measured for different seeds: {list(a.seeds)} vs "
                         f"{list(b.seeds)}; a seed-level comparison needs the same seeds for every variant")
    if a.table is not None and b.table is not None:
        if a.paired and b.paired:
            if a.table.shape != b.table.shape:
                raise ValueError(f"a paired comparison needs the same items: {names[0]} has "
                                 f"{a.table.shape[1]}, {names[1]} {b.table.shape[1]}")
            return seed_item_stat(a.table - b.table)
        return group_difference(a.table, b.table)
    if a.set_value is not None and b.set_value is not None:
        if a.n_items != b.n_items:
            raise ValueError(f"set-level values of {names[0]} and {names[1]} rest on different item counts")
        fa, fb = a.set_value, b.set_value
        return set_stat(lambda s, idx: fa(s, idx) - fb(s, idx), a.n_seeds, a.n_items, n_resamples=n_resamples,
                        seed=seed)
    raise ValueError(f"{names[0]} and {names[1]} mix a per-item table with a set-level value")


def group_difference(a: np.ndarray, b: np.ndarray) -> SeedStat:
    """Difference of the means of two groups of *different* items (S, Na) and (S, Nb): per-seed difference
    of group means; seed term their variance over S, item term the two groups' item variances (of the
    seed-averaged items) over their sizes; Welch-Satterthwaite df."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    per_seed = a.mean(axis=1) - b.mean(axis=1)
    s = len(per_seed)
    mean = float(per_seed.mean())
    if s < 2:
        return SeedStat(mean, math.nan, math.nan, s, a.shape[1] + b.shape[1], tuple(map(float, per_seed)))
    ta = float(per_seed.var(ddof=1)) / s
    va = float(a.mean(axis=0).var(ddof=1)) / a.shape[1] if a.shape[1] > 1 else 0.0
    vb = float(b.mean(axis=0).var(ddof=1)) / b.shape[1] if b.shape[1] > 1 else 0.0
    df_items = max(min(a.shape[1], b.shape[1]) - 1, 1)
    return SeedStat(mean, math.sqrt(ta + va + vb), _satterthwaite(ta, s - 1, va + vb, df_items), s,
                    a.shape[1] + b.shape[1], tuple(map(float, per_seed)))


Measured = Seeded | Estimate | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Comparison:
    """One pairwise comparison: ``a`` vs ``b`` on ``metric``. ``difference``: the interval of A - B read at
    ``level`` (Holm's level for this hypothesis; NaN level = not reached), ``difference_95`` the plain 95%
    one; ``stat`` the seed-level estimate behind both (None for exact values and legacy paths)."""

    a: str
    b: str
    metric: str
    direction: str
    verdict: str
    rule: str
    difference: Estimate | None
    a_value: Estimate
    b_value: Estimate
    stat: SeedStat | None = None
    level: float = math.nan

    @property
    def n_seeds(self) -> int:
        return self.stat.n_seeds if self.stat is not None else 0

    @property
    def n_items(self) -> int:
        return self.stat.n_items if self.stat is not None else self.a_value.n


@dataclass(frozen=True)
class ClaimVerdict:
    """The verdict on one claim, with the metric actually used and every pairwise comparison.
    ``verdict`` is one of HOLDS / DOES_NOT_HOLD / INCONCLUSIVE / NOT_APPLICABLE; :attr:`text` adds the
    caveat (what N the verdict rests on)."""

    claim_id: str
    metric: str
    verdict: str
    comparisons: tuple[Comparison, ...]
    reason: str = ""

    @property
    def n_seeds(self) -> int:
        return min((c.n_seeds for c in self.comparisons), default=0)

    @property
    def n_items(self) -> int:
        return min((c.n_items for c in self.comparisons), default=0)

    @property
    def caveat(self) -> str:
        if self.verdict == NOT_APPLICABLE:
            return self.reason
        if all(c.rule == "exact values" for c in self.comparisons):
            return "exact quantities, independent of seeds and images"
        if self.n_seeds < 2:
            return (f"{self.n_seeds} training seed x {self.n_items} items: one trained model per variant, so "
                    "between-run variation is unknown and no verdict is possible")
        tail = (" -- only more training seeds, not more images, can narrow it"
                if self.verdict == INCONCLUSIVE else "")
        items = f" x {self.n_items} items" if self.n_items > 1 else " (one value per training run)"
        return f"N = {self.n_seeds} training seeds{items}, Holm-corrected across claims" + tail

    @property
    def text(self) -> str:
        return f"{self.verdict} ({self.caveat})"

    def summary(self) -> str:
        parts = [f"{c.a} vs {c.b}: {c.verdict} ({c.rule}"
                 + (f", A-B = {c.difference.format()} at {c.level:.2%}" if c.difference is not None
                    and math.isfinite(c.level) else "") + ")"
                 for c in self.comparisons]
        return f"{self.claim_id} [{self.metric}]: {self.text} -- " + "; ".join(parts)


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
    """One trained model per side (no seeds): bootstrap the difference of ``statistic`` over items (paired or
    not). Describes that pair of trained models only; :func:`judge` never bases a claim verdict on it."""
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


def compare_exact(a: Estimate, b: Estimate, direction: str, *, names: tuple[str, str] = ("A", "B"),
                  metric: str = "") -> Comparison:
    """Two exact quantities (parameter counts, MACs) compared as numbers."""
    _check_direction(direction)
    if not (a.method == "exact" and b.method == "exact"):
        raise ValueError(f"{metric}: {names[0]} vs {names[1]} are not both exact")
    d = (1.0 if direction == "greater" else -1.0) * (a.mean - b.mean)
    return Comparison(names[0], names[1], metric, direction, HOLDS if d > 0 else DOES_NOT_HOLD, "exact values",
                      None, a, b)


def compare_seeded(a: Seeded, b: Seeded, direction: str, *, confidence: float, n_resamples: int, seed: int,
                   names: tuple[str, str] = ("A", "B"), metric: str = "") -> Comparison:
    """Rule 2 at one ``confidence`` (before Holm): the seed-aware interval of A - B."""
    _check_direction(direction)
    stat = difference(a, b, n_resamples=n_resamples, seed=seed, names=names)
    diff = stat.estimate(confidence)
    rule = ("paired seed x item t" if a.table is not None and a.paired else
            "seed t + paired bootstrap of the set-level difference" if a.set_value is not None else
            "seed t over group means")
    return Comparison(names[0], names[1], metric, direction, verdict_from_difference(diff, direction), rule, diff,
                      a.estimate(confidence, n_resamples=n_resamples, seed=seed),
                      b.estimate(confidence, n_resamples=n_resamples, seed=seed), stat, confidence)


def combine(verdicts: Sequence[str]) -> str:
    """Rule 4: all hold -> holds; any does not hold -> does not hold; else inconclusive."""
    if not verdicts:
        raise ValueError("no comparisons to combine")
    if any(v == DOES_NOT_HOLD for v in verdicts):
        return DOES_NOT_HOLD
    return HOLDS if all(v == HOLDS for v in verdicts) else INCONCLUSIVE


def judge(claim_id: str, metric: str, direction: str, variant: str, versus: Sequence[str],
          measured: Mapping[str, Measured], *, confidence: float, n_resamples: int, seed: int) -> ClaimVerdict:
    """The verdict on "``variant``'s ``metric`` is ``direction`` than each of ``versus``" at ``confidence``
    (no multiplicity correction: :func:`holm_verdicts` applies it across claims).

    ``measured`` maps each variant to a :class:`Seeded` or an exact :class:`Estimate`. Anything else (one
    model's per-item values, an estimate with an interval) gives no verdict: "inconclusive", rule
    "no seed-level data" -- two intervals are never compared by overlap."""
    missing = [v for v in (variant, *versus) if v not in measured]
    if missing:
        raise KeyError(f"claim {claim_id}: no measured {metric!r} for variant(s) {missing}")
    comparisons = []
    for k, other in enumerate(versus):
        a, b = measured[variant], measured[other]
        names = (variant, other)
        if isinstance(a, Seeded) and isinstance(b, Seeded):
            comparisons.append(compare_seeded(a, b, direction, confidence=confidence, n_resamples=n_resamples,
                                              seed=seed + k, names=names, metric=metric))
        elif isinstance(a, Estimate) and isinstance(b, Estimate) and a.method == b.method == "exact":
            comparisons.append(compare_exact(a, b, direction, names=names, metric=metric))
        else:
            est = [x if isinstance(x, Estimate) else x.estimate(confidence, n_resamples=n_resamples, seed=seed)
                   if isinstance(x, Seeded) else bootstrap_ci(np.asarray(x, float), confidence=confidence,
                                                              n_resamples=n_resamples, seed=seed) for x in (a, b)]
            comparisons.append(Comparison(variant, other, metric, direction, INCONCLUSIVE, "no seed-level data",
                                          None, est[0], est[1]))
    return ClaimVerdict(claim_id, metric, combine([c.verdict for c in comparisons]), tuple(comparisons))


def holm_verdicts(verdicts: Sequence[ClaimVerdict], *, confidence: float) -> list[ClaimVerdict]:
    """Rule 3 across claims: every seed-level comparison is a hypothesis; each is re-read at its Holm level
    (family-wise ``confidence``), and the claims re-combined. Exact and not-applicable verdicts pass."""
    slots = [(i, j) for i, v in enumerate(verdicts) for j, c in enumerate(v.comparisons) if c.stat is not None]
    levels = holm([verdicts[i].comparisons[j].stat.p_value for i, j in slots], 1.0 - confidence)
    new = [list(v.comparisons) for v in verdicts]
    for (i, j), level in zip(slots, levels):
        c = new[i][j]
        if math.isnan(level):  # one seed, or not reached: a hypothesis with a smaller p was not rejected
            verdict, diff = INCONCLUSIVE, c.stat.estimate(confidence)
        else:
            diff = c.stat.estimate(level)
            verdict = verdict_from_difference(diff, c.direction)
        new[i][j] = replace(c, verdict=verdict, difference=diff, level=level)
    out = []
    for v, comps in zip(verdicts, new):
        if v.verdict == NOT_APPLICABLE:
            out.append(v)
        else:
            out.append(replace(v, verdict=combine([c.verdict for c in comps]), comparisons=tuple(comps)))
    return out

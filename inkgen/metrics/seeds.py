"""Intervals that account for training seeds: every claim verdict rests on these.

The design: each variant is trained once per seed in ``seeds`` (the same seeds for every variant), and
every trained model is measured on the *same* test items (images, prompts). A per-item value is therefore a
cell of a crossed seeds x items table ``x[s, i]``; a comparison of two variants takes the paired difference
``d[s, i] = A[s, i] - B[s, i]`` (same seed index, same item).

**The method: a t-interval over seeds with the shared item term (crossed random effects).** The grand
mean ``d..`` of an S x N table with random seed effects (variance σ²_s), random item effects (σ²_i) and
residual (σ²_e) has ``Var(d..) = σ²_s/S + σ²_i/N + σ²_e/(SN)``. With the two-way ANOVA mean squares
``MS_seed = N·var_s(d_s.)`` and ``MS_item = S·var_i(d_.i)`` (``E MS_seed = Nσ²_s + σ²_e``,
``E MS_item = Sσ²_i + σ²_e``), the estimate

    se² = (MS_seed + MS_item) / (SN) = var_s(per-seed means)/S + var_i(per-item means over seeds)/N

has expectation ``Var(d..) + σ²_e/(SN)``: never too small, too large only by the residual's share (which
shrinks as 1/(SN)). Its degrees of freedom come from Welch-Satterthwaite:
``df = se⁴ / (a²/(S-1) + b²/(N-1))`` with ``a, b`` the two terms; the interval is ``d.. ± t_df · se``.
When seeds disagree (σ²_s large) ``a`` dominates and ``df -> S-1``: with 3 seeds ``t_{0.975, 2} = 4.30``,
so no number of test images can make the interval narrow -- which is the point: more images cannot
settle what only more training runs can.

Why not the two-level bootstrap (resample seeds, then items within seed)? With S = 3 seeds there are only
10 distinct seed resamples, and the bootstrap variance of a mean of S values is ``(S-1)/S`` of the usual
unbiased one (2/3 at S = 3), so its intervals under-cover exactly where seeds matter; the t quantile with
S-1 degrees of freedom is what corrects for so few runs. Items are *shared* across seeds (the same test
images), so the seed-level spread alone misses the item sampling variance the seeds have in common; the
second term adds it. ``tests/test_metrics_seeds.py`` checks coverage on synthetic tables where the true
difference is known, and that a large between-seed variance keeps the interval wide with many images.

Set-level metrics (a Fréchet distance, the IS formula) have no per-item values. Their difference is
computed per seed on the full sets, and the item term is the variance of the seed-averaged difference
over bootstrap resamples of item indices -- the *same* resampled indices for A, B, the real set and every
seed (:func:`set_difference`). The difference is bootstrapped, never two intervals compared.

With one seed no seed-level interval exists: the estimate has NaN bounds (method "one seed") and a claim
on it is inconclusive, whatever the number of images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from inkgen.metrics.stats import Estimate

METHOD = "seed x item t"


@dataclass(frozen=True)
class SeedStat:
    """The mean of a seeds x items quantity with its standard error and degrees of freedom.

    ``per_seed``: the per-seed values (mean over items, or a set-level value per seed), which the
    reader sees beside the verdict. :meth:`estimate` gives the interval at any level (Holm uses several),
    :attr:`p_value` the two-sided test of mean = 0."""

    mean: float
    se: float
    df: float
    n_seeds: int
    n_items: int
    per_seed: tuple[float, ...]

    @property
    def has_interval(self) -> bool:
        return self.n_seeds >= 2 and math.isfinite(self.se) and not math.isnan(self.df)  # df may be inf

    def estimate(self, confidence: float) -> Estimate:
        if not self.has_interval:
            return Estimate(self.mean, math.nan, math.nan, self.n_items, "one seed", confidence, self.n_seeds)
        if self.se == 0.0:
            return Estimate(self.mean, self.mean, self.mean, self.n_items, METHOD, confidence, self.n_seeds)
        half = float(stats.t.ppf(0.5 + confidence / 2, self.df)) * self.se
        return Estimate(self.mean, self.mean - half, self.mean + half, self.n_items, METHOD, confidence,
                        self.n_seeds)

    @property
    def p_value(self) -> float:
        """Two-sided p of "mean = 0" (t with ``df``); NaN without an interval."""
        if not self.has_interval:
            return math.nan
        if self.se == 0.0:
            return 0.0 if self.mean != 0.0 else 1.0
        return float(2 * stats.t.sf(abs(self.mean) / self.se, self.df))


def _satterthwaite(a: float, df_a: float, b: float, df_b: float) -> float:
    """Welch-Satterthwaite degrees of freedom of ``a + b`` (variances with ``df_a``, ``df_b``)."""
    den = (a * a / df_a if df_a > 0 else 0.0) + (b * b / df_b if math.isfinite(df_b) and df_b > 0 else 0.0)
    return (a + b) ** 2 / den if den > 0 else math.inf


def seed_item_stat(values: np.ndarray) -> SeedStat:
    """:class:`SeedStat` of an (S, N) table (seed s, item i); a paired difference is passed as A - B.

    N = 1 (one value per seed: a convergence epoch) is the plain t over seeds."""
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"need an (n_seeds, n_items) table, got shape {np.shape(values)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"the seeds x items table holds {int((~np.isfinite(x)).sum())} non-finite value(s)")
    s, n = x.shape
    per_seed = x.mean(axis=1)
    mean = float(x.mean())
    if s < 2:
        return SeedStat(mean, math.nan, math.nan, s, n, tuple(map(float, per_seed)))
    a = float(per_seed.var(ddof=1)) / s
    b = float(x.mean(axis=0).var(ddof=1)) / n if n >= 2 else 0.0
    return SeedStat(mean, math.sqrt(a + b), _satterthwaite(a, s - 1, b, n - 1), s, n, tuple(map(float, per_seed)))


def set_stat(statistic: Callable[[int, np.ndarray], float], n_seeds: int, n_items: int, *, n_resamples: int,
             seed: int) -> SeedStat:
    """:class:`SeedStat` of a set-level quantity: ``statistic(s, idx)`` is its value for seed ``s`` on the
    item rows ``idx`` (for a comparison, A's value minus B's on the same rows).

    Seed term: the variance of the per-seed full-set values over S. Item term: the bootstrap variance of
    the seed-averaged value when the same resampled ``idx`` is used for every seed (items are shared
    across seeds). Resampling duplicates items and biases a distance upwards; only the *spread* of the
    resamples is used, the centre is the full-set value (as in :func:`inkgen.metrics.stats.bootstrap_ci_indices`)."""
    if n_seeds < 1 or n_items < 2:
        raise ValueError(f"need >= 1 seed and >= 2 items, got {n_seeds} and {n_items}")
    full = np.arange(n_items)
    per_seed = np.array([statistic(s, full) for s in range(n_seeds)], dtype=float)
    mean = float(per_seed.mean())
    if n_seeds < 2:
        return SeedStat(mean, math.nan, math.nan, n_seeds, n_items, tuple(map(float, per_seed)))
    rng = np.random.default_rng(seed)
    boot = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = rng.integers(0, n_items, n_items)
        boot[r] = np.mean([statistic(s, idx) for s in range(n_seeds)])
    a = float(per_seed.var(ddof=1)) / n_seeds
    b = float(boot.var(ddof=1)) if n_resamples > 1 else 0.0
    return SeedStat(mean, math.sqrt(a + b), _satterthwaite(a, n_seeds - 1, b, math.inf), n_seeds, n_items,
                    tuple(map(float, per_seed)))


def holm(p_values: list[float], alpha: float) -> list[float]:
    """Holm's step-down levels (Holm 1979): for m tests sorted by p, the k-th smallest (k = 0..m-1) is
    tested at ``alpha / (m - k)`` and only while every smaller one was rejected. Returns, per test in the
    given order, the confidence level ``1 - alpha/(m - k)`` its interval must exclude 0 at, or NaN for a
    test that is not reached (a smaller p was not rejected) or has no p. Equivalent to the adjusted
    p-values of ``statsmodels.stats.multitest.multipletests(method="holm")``; expressed as interval levels
    so that each verdict still comes from an interval."""
    order = sorted((p, i) for i, p in enumerate(p_values) if math.isfinite(p))
    m = len(order)
    levels = [math.nan] * len(p_values)
    for k, (p, i) in enumerate(order):
        level = alpha / (m - k)
        levels[i] = 1.0 - level
        if p > level:  # not rejected: every larger p is not reached
            break
    return levels

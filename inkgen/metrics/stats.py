"""Uncertainty of every reported number: bootstrap intervals over items, t-intervals over seeds.

The paper (section 3, Tables 1-3) reports point values without N, seeds or intervals. The study reports
each figure as an :class:`Estimate` -- the value, a 95% confidence interval and the N it rests on -- so
that a difference between two variants can be told apart from sampling noise.

- :func:`bootstrap_ci`: the nonparametric bootstrap (Efron & Tibshirani 1993) through
  ``scipy.stats.bootstrap``; BCa by default. ``values`` is one sample of per-item values (a per-image
  PSNR, a per-prompt cosine) or a tuple of samples for a statistic of several samples (e.g. a Fréchet
  distance between a real and a generated set, bootstrapped over the row indices of both sets).
- :func:`bootstrap_ci_indices`: the same for statistics of whole sets, resampling row indices.
- :func:`across_seeds`: a Student-t interval of the mean of per-seed values (``scipy.stats.t``), the
  usual interval for "n training runs with different seeds".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A value with its confidence interval: ``mean`` is the statistic on the whole sample (for
    :func:`bootstrap_ci` with another ``statistic`` than the mean it is that statistic's value),
    ``[low, high]`` the interval (NaN where N is too small for one), ``n`` the number of items or seeds,
    ``method`` how the interval was made ("BCa", "percentile", "t", "exact", "none")."""

    mean: float
    low: float
    high: float
    n: int
    method: str = ""
    confidence: float = 0.95
    n_seeds: int = 0  # training seeds the interval accounts for (0: not a seed-level estimate)

    @property
    def n_label(self) -> str:
        """What N is: ``"N=64"``, or ``"N=3 seeds x 64 images"`` for a seed-level estimate."""
        if self.n_seeds:
            return f"N={self.n_seeds} seeds" + (f" x {self.n} images" if self.n > 1 else "")
        return f"N={self.n}"

    def format(self, digits: int = 3) -> str:
        """``"0.512 [0.48, 0.55] (N=64)"``: the value with ``digits`` decimals, the bounds with one fewer
        (the interval is coarser than the value it surrounds)."""
        d, b = max(int(digits), 0), max(int(digits) - 1, 0)
        if self.method == "exact":
            return f"{self.mean:.{d}f} (exact, N={self.n})"
        if math.isnan(self.low) or math.isnan(self.high):
            return f"{self.mean:.{d}f} [no CI] ({self.n_label})"
        return f"{self.mean:.{d}f} [{self.low:.{b}f}, {self.high:.{b}f}] ({self.n_label})"

    def __str__(self) -> str:
        return self.format()

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    def to_dict(self) -> dict[str, float | int | str]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "method": self.method,
                "confidence": self.confidence, "n_seeds": self.n_seeds}


def exact(value: float, n: int = 1) -> Estimate:
    """A quantity without sampling error (a parameter count, MACs of a fixed graph): its interval is the
    value itself."""
    v = float(value)
    return Estimate(v, v, v, int(n), "exact", 1.0)


#: SI prefixes a count is shown in: the paper prints parameters in M and MACs in G (Table 1, Figure 8(b)).
PREFIXES = {"M": 1e6, "G": 1e9}


def count_prefix(values: Iterable[float]) -> str:
    """The prefix for a column of counts: ``"G"`` when its largest value is at least 10^9, else ``"M"``."""
    return "G" if max((abs(v) for v in values), default=0.0) >= PREFIXES["G"] else "M"


def format_count(est: Estimate, prefix: str, significant: int = 3) -> str:
    """A count in units of ``prefix`` (:data:`PREFIXES`) to ``significant`` digits: ``"1.46 M"`` for an
    exact 1,456,564 — an exact count has no sampling error, so no interval and no N; a count with an
    interval keeps both, scaled, with two decimals."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix {prefix!r} (known: {', '.join(PREFIXES)})")
    scale = PREFIXES[prefix]
    if est.method == "exact":
        return f"{est.mean / scale:.{significant}g} {prefix}"
    return f"{replace(est, mean=est.mean / scale, low=est.low / scale, high=est.high / scale).format(2)} {prefix}"


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def bootstrap_ci(values: Sequence[float] | np.ndarray | tuple[np.ndarray, ...],
                 statistic: Callable[..., float] = np.mean, confidence: float = 0.95, n_resamples: int = 9999,
                 seed: int = 0, method: str = "BCa", paired: bool = False) -> Estimate:
    """Bootstrap confidence interval of ``statistic`` over the items of ``values`` (``scipy.stats.bootstrap``).

    ``values``: a 1-D sample, or a tuple of 1-D samples passed to ``statistic`` as separate arguments
    (``paired=True`` resamples them together, as pairs; otherwise each independently). ``method``: one of
    scipy's ("BCa", "percentile", "basic") or "normal", the standard bootstrap interval
    ``value ± z_{(1+c)/2} · se_boot`` (Efron & Tibshirani 1993, ch. 13) from scipy's bootstrap standard
    error. A statistic that
    accepts ``axis`` (``np.mean``, ``np.median``) is evaluated vectorised; any other callable once per
    resample. The interval is reproducible given ``seed``. With fewer than 2 items per sample no
    interval exists and ``low``/``high`` are NaN; a sample whose resamples all give the same value (all
    items equal) gets the degenerate interval [value, value] rather than scipy's NaN.
    """
    _check_confidence(confidence)
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    samples = tuple(np.asarray(v, dtype=float) for v in values) if isinstance(values, tuple) \
        else (np.asarray(values, dtype=float),)
    for i, s in enumerate(samples):
        if s.ndim != 1:
            raise ValueError(f"sample {i} must be 1-D, got shape {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"sample {i} holds {int((~np.isfinite(s)).sum())} non-finite value(s)")
    n = min(len(s) for s in samples)
    point = float(statistic(*samples))
    if n < 2:
        return Estimate(point, math.nan, math.nan, n, "none", confidence)
    with warnings.catch_warnings():
        # all-equal resamples make BCa's acceleration 0/0; handled below instead of warning
        warnings.simplefilter("ignore", category=stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = stats.bootstrap(samples, statistic, n_resamples=int(n_resamples), confidence_level=confidence,
                              method="percentile" if method == "normal" else method, paired=paired,
                              rng=np.random.default_rng(seed))
    if method == "normal":
        half = float(stats.norm.ppf(0.5 + confidence / 2)) * float(res.standard_error)
        return Estimate(point, point - half, point + half, n, method, confidence)
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):
        spread = np.ptp(res.bootstrap_distribution)
        if spread == 0:  # every resample gave the same value: no sampling variability is visible
            low = high = float(res.bootstrap_distribution.flat[0])
    return Estimate(point, low, high, n, method, confidence)


def bootstrap_ci_indices(statistic: Callable[..., float], sizes: Sequence[int], confidence: float = 0.95,
                         n_resamples: int = 9999, seed: int = 0, method: str = "normal") -> Estimate:
    """Bootstrap a statistic of whole *sets* (a Fréchet distance, an Inception-type score) over items.

    ``statistic(idx_1, ..., idx_k)`` receives one integer index array per set (resampled with
    replacement, independently per set) and computes the set-level value on those rows. ``sizes`` gives
    each set's size.

    Why the "normal" interval (value ± z · bootstrap standard error) by default: resampling with
    replacement duplicates items (a resample holds about 63% distinct ones), which biases a distance
    between distributions upwards -- for a Fréchet distance of 64 images in 128 dimensions the whole
    bootstrap distribution lies above the full-sample value, so percentile intervals exclude the value
    they belong to and BCa is undefined (its bias correction needs resamples on both sides). The
    bootstrap's *spread* is still a fair measure of the estimator's sampling variability at this N; the
    interval is centred on the full-sample value. Such values are themselves biased by N (a Fréchet
    distance shrinks as N grows), so compare them only at equal N.
    """
    def on_rows(*idx: np.ndarray) -> float:
        return float(statistic(*(np.asarray(i).astype(np.int64) for i in idx)))

    index_sets = tuple(np.arange(int(s), dtype=float) for s in sizes)
    return bootstrap_ci(index_sets, on_rows, confidence=confidence, n_resamples=n_resamples, seed=seed,
                        method=method, paired=False)


def across_seeds(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """Mean of per-seed values with a Student-t interval: mean ± t_{(1+c)/2, n-1} · s/√n (``scipy.stats.t``).

    One seed gives no interval (NaN bounds, method "none"); identical values give a zero-width interval.
    """
    _check_confidence(confidence)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"across_seeds needs a non-empty 1-D sequence, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("across_seeds: values must be finite")
    mean = float(x.mean())
    if len(x) < 2:
        return Estimate(mean, math.nan, math.nan, 1, "none", confidence)
    sem = float(stats.sem(x))
    if sem == 0.0:
        return Estimate(mean, mean, mean, len(x), "t", confidence)
    low, high = stats.t.interval(confidence, df=len(x) - 1, loc=mean, scale=sem)
    return Estimate(mean, float(low), float(high), len(x), "t", confidence)

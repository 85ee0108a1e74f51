"""Analysis of the expert ratings (paper section 3.2, Table 2): per-dimension means, the weighted total,
inter-rater agreement, and generated vs authentic works once the key is applied.

- Weighted total of a work: ``sum_d w_d * mean over raters of its score on d`` (Table 2's weights).
- Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"), ordinal level,
  by the ``krippendorff`` package: ``alpha = 1 - D_o / D_e`` over a raters x units matrix. "Across all
  dimensions" (as the paper reports alpha = 0.79) pools every (work, dimension) pair as one unit; per
  dimension, the units are the works. Its interval is a percentile bootstrap over *works*: a resampled
  work brings all its dimensions along, because a work's four scores are not independent units (one
  rater's view of one painting), and resampling pairs would understate the interval.
- Kendall's W (Kendall & Babington Smith 1939, "The problem of m rankings") per dimension, from
  ``scipy.stats.friedmanchisquare``: with m raters (blocks) ranking n works (treatments),
  ``W = chi2_F / (m (n - 1))``. Scores on a 1-5 scale tie a lot; scipy ranks ties by their average rank
  and divides chi2 by the tie correction ``1 - sum(t^3 - t) / (m (n^3 - n))``, so this W is the
  tie-corrected W (it equals the textbook W when there are no ties). Undefined (NaN) when every rater
  gives every work the same score.
- :func:`summarize` reports Table 2 for generated and authentic works *separately* (the paper's Table 2
  scores generated works; pooling them with the authentic ones would describe neither).
- Generated vs authentic: per dimension and for the weighted total, the mean over works of each origin
  with a bootstrap interval over works, and a two-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``)
  on the works' scores (averaged over raters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import krippendorff
import numpy as np
import pandas as pd
from scipy import stats

from inkgen.expert_kit.config import ExpertKitError, KitConfig
from inkgen.expert_kit.package import ORIGINS
from inkgen.metrics.stats import Estimate, bootstrap_ci, bootstrap_ci_indices

TOTAL = "weighted_total"


def reliability_matrix(ratings: pd.DataFrame, dimension: str | None = None) -> np.ndarray:
    """Raters x units scores (NaN where a rater did not rate a unit). Units: the works of ``dimension``,
    or every (work, dimension) pair when ``dimension`` is None."""
    return _wide(ratings, dimension).to_numpy(dtype=float)  # (raters, units)


def _wide(ratings: pd.DataFrame, dimension: str | None) -> pd.DataFrame:
    df = ratings if dimension is None else ratings[ratings["dimension"] == dimension]
    if df.empty:
        raise ExpertKitError(f"no ratings for dimension {dimension!r}")
    return df.pivot_table(index="rater", columns=["item_id", "dimension"], values="score", aggfunc="first")


def _alpha(matrix: np.ndarray, config: KitConfig) -> float:
    domain = list(range(config.scale_min, config.scale_max + 1))
    if len(np.unique(matrix[~np.isnan(matrix)])) < 2:
        return math.nan  # one value used throughout: no expected disagreement, alpha undefined
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal",
                                    value_domain=domain))


def krippendorff_alpha(ratings: pd.DataFrame, config: KitConfig, dimension: str | None = None,
                       seed: int | None = None) -> Estimate:
    """Ordinal Krippendorff's alpha with a percentile bootstrap interval over works (``seed`` defaults to
    ``config.seed``): each resampled work contributes all of its (work, dimension) units. ``n`` is the
    number of works."""
    wide = _wide(ratings, dimension)
    matrix = wide.to_numpy(dtype=float)
    works, unit_work = np.unique(wide.columns.get_level_values("item_id"), return_inverse=True)
    columns = [np.flatnonzero(unit_work == w) for w in range(len(works))]
    point = _alpha(matrix, config)
    if math.isnan(point):
        return Estimate(point, math.nan, math.nan, len(works), "none", config.confidence)

    def resampled(idx: np.ndarray) -> float:
        return _alpha(matrix[:, np.concatenate([columns[w] for w in idx])], config)

    est = bootstrap_ci_indices(resampled, (len(works),), confidence=config.confidence,
                               n_resamples=config.n_resamples, seed=config.seed if seed is None else seed,
                               method="percentile")
    return Estimate(point, est.low, est.high, len(works), est.method, est.confidence)


def kendalls_w(ratings: pd.DataFrame, dimension: str) -> float:
    """Tie-corrected Kendall's W of one dimension (see module doc); needs >= 3 works and >= 2 raters."""
    matrix = reliability_matrix(ratings, dimension)  # (m raters, n works)
    if np.isnan(matrix).any():
        raise ExpertKitError(f"Kendall's W needs every rater to score every work ({dimension!r})")
    m, n = matrix.shape
    if n < 3 or m < 2:
        raise ExpertKitError(f"Kendall's W needs >= 3 works and >= 2 raters, got {n} and {m}")
    if all(len(np.unique(row)) == 1 for row in matrix):
        return math.nan
    chi2, _ = stats.friedmanchisquare(*matrix.T)  # one sample per work, one observation per rater
    return float(chi2) / (m * (n - 1))


def item_scores(ratings: pd.DataFrame, config: KitConfig) -> pd.DataFrame:
    """Per work: the mean over raters of each dimension and the weighted total (index: item_id)."""
    wide = ratings.pivot_table(index="item_id", columns="dimension", values="score", aggfunc="mean")
    missing = [d for d in config.names if d not in wide.columns]
    if missing:
        raise ExpertKitError(f"no ratings for dimension(s) {missing}")
    wide = wide[config.names]
    wide[TOTAL] = sum(wide[d] * w for d, w in config.dimensions.items())
    return wide


@dataclass(frozen=True)
class ExpertSummary:
    """Table 2 as measured, for generated and authentic works separately: ``means[origin][column]``
    (per-dimension means and the weighted total, intervals over that origin's works), ``n_items[origin]``;
    inter-rater agreement over all rated works (alpha overall and per dimension, Kendall's W per
    dimension) and the number of raters."""

    means: Mapping[str, Mapping[str, Estimate]]
    alpha: Estimate
    alpha_by_dimension: Mapping[str, Estimate]
    kendalls_w: Mapping[str, float]
    n_raters: int
    n_items: Mapping[str, int]

    def table(self, config: KitConfig) -> pd.DataFrame:
        """One row per dimension (and the weighted total): generated and authentic scores side by side."""
        rows = []
        for d in [*config.names, TOTAL]:
            row = {"dimension": d, "weight": config.dimensions.get(d, float("nan"))}
            for origin, means in self.means.items():
                row[f"{origin} (N={self.n_items[origin]} works)"] = means[d].format(2)
            row["krippendorff_alpha"] = self.alpha_by_dimension[d].format(2) if d in self.alpha_by_dimension else ""
            row["kendalls_w"] = round(self.kendalls_w[d], 3) if d in self.kendalls_w else ""
            rows.append(row)
        return pd.DataFrame(rows)


def summarize(ratings: pd.DataFrame, key: pd.DataFrame, config: KitConfig) -> ExpertSummary:
    """Everything of Table 2 from the long ratings frame :func:`inkgen.expert_kit.sheets.read_sheets` gives
    and the package's key (``item_id -> origin``): scores per origin, agreement over all works."""
    scores = item_scores(ratings, config)
    origin = _origins(scores, key)
    kw = dict(confidence=config.confidence, n_resamples=config.n_resamples, seed=config.seed)
    means = {o: {c: bootstrap_ci(scores.loc[origin == o, c].to_numpy(), np.mean, **kw)
                 for c in [*config.names, TOTAL]} for o in ORIGINS if (origin == o).any()}
    return ExpertSummary(
        means=means,
        alpha=krippendorff_alpha(ratings, config),
        alpha_by_dimension={d: krippendorff_alpha(ratings, config, d) for d in config.names},
        kendalls_w={d: kendalls_w(ratings, d) for d in config.names},
        n_raters=ratings["rater"].nunique(), n_items={o: int((origin == o).sum()) for o in means})


def _origins(scores: pd.DataFrame, key: pd.DataFrame) -> pd.Series:
    origin = key.set_index("item_id")["origin"].reindex(scores.index)
    if origin.isna().any():
        raise ExpertKitError(f"the key lacks rated id(s) {origin.index[origin.isna()][:5].tolist()}")
    return origin


@dataclass(frozen=True)
class OriginComparison:
    """One column (a dimension or the weighted total): generated vs authentic works."""

    column: str
    generated: Estimate
    authentic: Estimate
    u_statistic: float
    p_value: float


def compare_origins(ratings: pd.DataFrame, key: pd.DataFrame, config: KitConfig) -> list[OriginComparison]:
    """Apply the key (``item_id -> origin``) and compare generated with authentic works, per dimension
    and for the weighted total: means with bootstrap intervals over works, two-sided Mann-Whitney U."""
    scores = item_scores(ratings, config)
    origin = _origins(scores, key)
    kw = dict(confidence=config.confidence, n_resamples=config.n_resamples, seed=config.seed)
    out = []
    for column in [*config.names, TOTAL]:
        gen = scores.loc[origin == "generated", column].to_numpy()
        auth = scores.loc[origin == "authentic", column].to_numpy()
        if len(gen) == 0 or len(auth) == 0:
            raise ExpertKitError(f"need rated works of both origins, got {len(gen)} generated, {len(auth)} authentic")
        u = stats.mannwhitneyu(gen, auth, alternative="two-sided")
        out.append(OriginComparison(column, bootstrap_ci(gen, np.mean, **kw), bootstrap_ci(auth, np.mean, **kw),
                                    float(u.statistic), float(u.pvalue)))
    return out

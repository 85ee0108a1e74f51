"""Stage two's decision: the evidence of :mod:`governance.copy_evidence` fused into one copy probability.

Paper section 6.2, *ownership attribution*. No single measure separates copies from look-alikes on the
procedural corpus: a watermark lowers the aligned correlation of a copy, a reused motif gives a look-alike
many RANSAC inliers. A logistic regression over all of them (Cox 1958; fitted with scikit-learn's
``LogisticRegression``, L2-regularised, on standardised features, the standardisation folded back into the
weights) weighs each against the others. It is fitted on a *calibration split* of works — copies of the
registered works under every attack as positives, (unrelated work, candidate) pairs as negatives — and its
decision threshold is chosen there too (:mod:`governance.copy_calibration`), so the recall and FPR measured
on the *test split* are those of thresholds never fitted on it.

The weights, the bias and the threshold are policy values (``copyright.fusion`` in
``governance/data/policy.yaml``), written by ``benchmarks/bench_copy_match.py --write-policy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from governance.copy_evidence import Evidence

#: The model's inputs, each a function of one :class:`Evidence` (names are the policy's weight keys).
FEATURES: dict[str, Any] = {
    "log_inliers": lambda e: math.log1p(e.inliers),
    "inlier_ratio": lambda e: e.inlier_ratio,
    "coverage": lambda e: e.coverage,
    "correlation": lambda e: e.correlation,
    "block_agreement": lambda e: e.block_agreement,
    "colour_agreement": lambda e: e.colour_agreement,
    "low_frequency": lambda e: e.low_frequency,
    "abs_log_scale": lambda e: abs(math.log(max(e.scale, 1e-3))),
    "abs_angle": lambda e: abs(e.angle),
    "shift": lambda e: e.shift,
    "overlap": lambda e: e.overlap,
    "chroma_correlation": lambda e: e.chroma_correlation,
    "chroma_x_energy": lambda e: e.chroma_correlation * min(e.chroma_energy / 20.0, 1.0),
    "ink_recall": lambda e: e.ink_recall,
    "ink_precision": lambda e: e.ink_precision,
    "block_median": lambda e: e.block_median,
    "block_conflict": lambda e: e.block_conflict,
    "colour_unexplained": lambda e: e.colour_unexplained,
}


def vector(e: Evidence) -> np.ndarray:
    return np.array([f(e) for f in FEATURES.values()], dtype=np.float64)


def matrix(evidence: Sequence[Evidence]) -> np.ndarray:
    return np.array([vector(e) for e in evidence], dtype=np.float64).reshape(-1, len(FEATURES))


@dataclass(frozen=True)
class Fusion:
    """``P(copy) = sigmoid(bias + sum(weights[f] * f(evidence)))``; a copy when at least ``threshold``."""
    weights: Mapping[str, float]
    bias: float
    threshold: float

    def __post_init__(self) -> None:
        unknown, missing = set(self.weights) - set(FEATURES), set(FEATURES) - set(self.weights)
        if unknown or missing:
            raise ValueError(f"copyright.fusion.weights: unknown {sorted(unknown)}, missing {sorted(missing)}; "
                             f"expected {list(FEATURES)}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"copyright.fusion.threshold {self.threshold!r}: must be a probability in (0, 1)")

    @property
    def coefficients(self) -> np.ndarray:
        return np.array([self.weights[f] for f in FEATURES], dtype=np.float64)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(copy) for each row of a :func:`matrix`."""
        z = np.clip(x @ self.coefficients + self.bias, -500, 500)
        return 1.0 / (1.0 + np.exp(-z))

    def probability(self, e: Evidence) -> float:
        return float(self.probabilities(vector(e)[None, :])[0])

    def is_copy(self, e: Evidence) -> bool:
        return self.probability(e) >= self.threshold

    def with_threshold(self, threshold: float) -> "Fusion":
        return Fusion(dict(self.weights), self.bias, threshold)

    def to_dict(self) -> dict[str, Any]:
        return {"weights": {k: round(float(v), 6) for k, v in self.weights.items()}, "bias": round(self.bias, 6),
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "copyright.fusion") -> "Fusion":
        for key in ("weights", "bias", "threshold"):
            if key not in d:
                raise ValueError(f"{where}: missing {key!r}")
        if not isinstance(d["weights"], Mapping):
            raise ValueError(f"{where}.weights: must be a mapping of feature -> weight, got {d['weights']!r}")
        return cls({str(k): float(v) for k, v in d["weights"].items()}, float(d["bias"]), float(d["threshold"]))


def fit(positives: np.ndarray, negatives: np.ndarray, *, c: float = 1.0, threshold: float = 0.5) -> Fusion:
    """Logistic regression of copy (1) against look-alike (0) on two :func:`matrix` arrays, classes
    weighted to balance; the standardisation is folded into the returned weights."""
    from sklearn.linear_model import LogisticRegression

    if not len(positives) or not len(negatives):
        raise ValueError(f"fusion fit needs both classes: {len(positives)} copies, {len(negatives)} other pairs")
    x = np.vstack([positives, negatives])
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit((x - mu) / sd, y)
    w = model.coef_[0] / sd
    bias = float(model.intercept_[0] - (w * mu).sum())
    return Fusion(dict(zip(FEATURES, (float(v) for v in w))), bias, threshold)

"""One row of the paper's Table 1 (ablation, section 3.1) for one variant, with N, seed and 95% intervals.

:func:`evaluate_variant` measures what images can tell: PSNR of reconstructions of the real test images,
CLIP cosine and CLIPScore of generated images against their prompts, and the distribution metrics of the
generated set against the real one (:mod:`inkgen.metrics.distribution`: ``frechet_clip`` and
``classifier_score``; ``fid`` and ``is`` only with local Inception weights). The cost columns
(:mod:`inkgen.metrics.cost`) and convergence are added with :meth:`VariantMetrics.with_estimate`, because
they need the model and the training curves, not images.

Values the study tunes come from ``params.yaml`` (``evaluate:``) through :class:`EvalConfig`, which has no
defaults of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from inkgen.metrics.alignment import clip_cosine, clip_score
from inkgen.metrics.distribution import distribution_metrics
from inkgen.metrics.reconstruction import psnr_per_image
from inkgen.metrics.stats import Estimate, bootstrap_ci

CI_METHODS = ("BCa", "percentile", "basic")
HEADS = ("primary", "painting_type")


@dataclass(frozen=True)
class EvalConfig:
    """The ``evaluate:`` section of params.yaml, with ``inference.batch_size``.

    - ``confidence``: level of every interval (0.95).
    - ``n_resamples``: bootstrap resamples per interval.
    - ``seed``: seed of the bootstrap resampling.
    - ``ci_method``: scipy's bootstrap method for per-image metrics ("BCa", "percentile", "basic");
      set-level metrics always use percentile.
    - ``clip_score_w``: CLIPScore's ``w`` (Hessel et al. 2021: 2.5).
    - ``classifier_head``: the curation classifier head of the classifier score ("primary" or
      "painting_type").
    - ``is_splits``: groups the IS formula averages over (Salimans et al.: 10; 1 suits small N).
    - ``inception_weights``: local Inception-v3 weights file for FID/IS; "" = none (then only
      ``frechet_clip`` / ``classifier_score``).
    - ``batch_size``: images per forward pass.
    - ``timing_warmup`` / ``timing_runs``: untimed and timed calls of the inference benchmark.
    - ``set_resamples``: bootstrap resamples of the shared item indices for set-level metrics across
      seeds (each resample recomputes a Fréchet distance per seed and variant).
    """

    confidence: float
    n_resamples: int
    seed: int
    ci_method: str
    clip_score_w: float
    classifier_head: str
    is_splits: int
    inception_weights: str
    batch_size: int
    timing_warmup: int
    timing_runs: int
    set_resamples: int = 200

    def __post_init__(self) -> None:
        checks = {
            "confidence": 0 < self.confidence < 1, "n_resamples": self.n_resamples >= 1,
            "ci_method": self.ci_method in CI_METHODS, "clip_score_w": self.clip_score_w > 0,
            "classifier_head": self.classifier_head in HEADS, "is_splits": self.is_splits >= 1,
            "batch_size": self.batch_size >= 1, "timing_warmup": self.timing_warmup >= 0,
            "timing_runs": self.timing_runs >= 1, "set_resamples": self.set_resamples >= 2,
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"EvalConfig.{key}={getattr(self, key)!r} is out of range")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EvalConfig":
        names = [f.name for f in dataclasses.fields(cls)]
        unknown, missing = sorted(set(d) - set(names)), [n for n in names if n not in d]
        if unknown or missing:
            raise ValueError(f"evaluate params: unknown keys {unknown}, missing keys {missing}")
        return cls(**{n: d[n] for n in names})


@dataclass(frozen=True)
class VariantMetrics:
    """What was measured for one variant: ``estimates`` (metric -> :class:`Estimate`), ``per_item``
    (metric -> per-image values, kept for paired comparisons between variants), ``n`` per metric and the
    bootstrap seed. :meth:`measured` is what :func:`inkgen.metrics.paper.judge_claims` reads."""

    variant: str
    estimates: Mapping[str, Estimate]
    per_item: Mapping[str, np.ndarray] = field(default_factory=dict)
    seed: int = 0

    def with_estimate(self, name: str, estimate: Estimate, per_item: np.ndarray | None = None
                      ) -> "VariantMetrics":
        est = {**self.estimates, name: estimate}
        items = {**self.per_item, **({name: np.asarray(per_item)} if per_item is not None else {})}
        return dataclasses.replace(self, estimates=est, per_item=items)

    def measured(self) -> dict[str, Estimate | np.ndarray]:
        """Per-item values where there are any (for paired bootstraps), the estimate otherwise."""
        return {name: self.per_item.get(name, est) for name, est in self.estimates.items()}

    def row(self, digits: int = 3) -> dict[str, str]:
        """Formatted Table 1 row: metric -> "value [low, high] (N=n)"."""
        return {"variant": self.variant, **{k: v.format(digits) for k, v in sorted(self.estimates.items())}}


def evaluate_variant(variant: str, config: EvalConfig, *, real: torch.Tensor, clip=None, classifier=None,
                     reconstructions: torch.Tensor | None = None, generated: torch.Tensor | None = None,
                     prompts: Sequence[str] | None = None) -> VariantMetrics:
    """Table 1's image metrics of ``variant``.

    ``real``: the test split's images (N, 3, H, W) in [-1, 1] (``Split.as_float_tensor()``);
    ``reconstructions``: the variant's VQGAN reconstructions of ``real``, same order (-> ``psnr``);
    ``generated`` with ``prompts`` (one per image): images generated from the prompts (-> ``clip_cosine``,
    ``clip_score`` with ``clip``; ``frechet_clip`` with ``clip``, ``classifier_score`` with ``classifier``,
    ``fid``/``is`` with ``config.inception_weights``). Anything not given is not measured.
    """
    kw = dict(confidence=config.confidence, n_resamples=config.n_resamples, seed=config.seed)
    estimates: dict[str, Estimate] = {}
    per_item: dict[str, np.ndarray] = {}

    def per_image(name: str, values: np.ndarray) -> None:
        per_item[name] = values
        estimates[name] = bootstrap_ci(values, np.mean, method=config.ci_method, **kw)

    if reconstructions is not None:
        per_image("psnr", psnr_per_image(real, reconstructions))
    if generated is not None:
        if clip is not None:
            if prompts is None:
                raise ValueError(f"{variant}: generated images need their prompts for the CLIP cosine")
            cos = clip_cosine(clip, generated, prompts, config.batch_size)
            per_image("clip_cosine", cos)
            per_image("clip_score", clip_score(cos, config.clip_score_w))
        estimates.update(distribution_metrics(
            real, generated, clip=clip, classifier=classifier, classifier_head=config.classifier_head,
            inception_weights=config.inception_weights, is_splits=config.is_splits,
            batch_size=config.batch_size, **kw))
    return VariantMetrics(variant, estimates, per_item, config.seed)

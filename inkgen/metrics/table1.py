"""One row of the paper's Table 1 (ablation, section 3.1) for one variant, with N, seed and 95% intervals.

:func:`evaluate_variant` measures what images can tell: PSNR of reconstructions of the real test images,
CLIP cosine and CLIPScore of generated images against their prompts, and the distribution metrics of the
generated set against the real one (:mod:`inkgen.metrics.distribution`: ``frechet_clip`` and
``classifier_score``; ``fid`` and ``is`` only with local Inception weights). The cost columns
(:mod:`inkgen.metrics.cost`) and convergence are added with :meth:`VariantMetrics.with_estimate`, because
they need the model and the training curves, not images.

Values the study tunes come from ``params.yaml`` (``evaluate:``) through
:class:`inkgen.metrics.eval_config.EvalConfig`, which has no defaults of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from inkgen.metrics.alignment import clip_cosine, clip_score
from inkgen.metrics.distribution import distribution_metrics
from inkgen.metrics.eval_config import EvalConfig
from inkgen.metrics.reconstruction import psnr_per_image
from inkgen.metrics.stats import Estimate, bootstrap_ci

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

"""Table 1's metrics across training seeds: what one trained model (one variant, one seed) gives on the
test items (:func:`measure_seed`), and the per-variant :class:`~inkgen.metrics.claims.Seeded` tables the
verdicts and the seed-level intervals are computed from (:func:`assemble`).

Every seed's model paints the same prompts (the held-out test captions) and reconstructs the same test
images, so each metric is a seeds x items table (per-item metrics) or a set-level value per seed on
shared item indices (Fréchet distance, IS formula): see :mod:`inkgen.metrics.seeds` for the interval.

CLIP metrics are measured twice: with the **judge** (a CLIP that never guided training, the one every
verdict uses) and with the **guide** (the CLIP of eq. 13), so that a reader sees which verdicts depend
on measuring in the space the model was optimised against (``which="guide"`` in :func:`assemble`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from inkgen.curves import is_formula  # the IS formula in numpy, fast enough to bootstrap
from inkgen.metrics.alignment import clip_cosine, clip_score
from inkgen.metrics.claims import Seeded
from inkgen.metrics.distribution import classifier_log_probs, clip_image_features, frechet_distance_lowrank
from inkgen.metrics.reconstruction import psnr_per_image

CLIPS = ("judge", "guide")


@dataclass
class SeedMeasure:
    """What one trained model (one variant, one seed) gave on the evaluation items, per item in the
    items' order: ``psnr``; ``cosine[clip]`` and generated-image ``features[clip]`` for clip in
    :data:`CLIPS`; the classifier's ``log_probs`` (the classifier-score head) and ``recognised`` (1 where
    the classifier's primary category is the one the prompt asked for); ``convergence`` epochs of the
    prior and of the VQGAN (None: not converged)."""

    psnr: np.ndarray | None
    cosine: dict[str, np.ndarray]
    features: dict[str, np.ndarray]
    log_probs: np.ndarray | None
    recognised: np.ndarray | None
    convergence: dict[str, int | None] = field(default_factory=dict)


@torch.no_grad()
def recognised(classifier, images: torch.Tensor, requested: Sequence[str], batch_size: int) -> np.ndarray:
    """1.0 where the curation classifier's primary category of an image is the ``requested`` one."""
    logp = classifier_log_probs(classifier, images, "primary", batch_size)
    classes = list(classifier.classes["primary"])
    unknown = sorted(set(requested) - set(classes))
    if unknown:
        raise ValueError(f"requested primary categories {unknown} are not classifier classes {classes}")
    want = np.array([classes.index(r) for r in requested])
    return (logp.argmax(axis=1) == want).astype(float)


def measure_seed(*, generated: torch.Tensor, prompts: Sequence[str], requested_primary: Sequence[str],
                 clips: Mapping[str, object], classifier, classifier_head: str, batch_size: int,
                 real: torch.Tensor | None = None, reconstructions: torch.Tensor | None = None,
                 convergence: Mapping[str, int | None] | None = None) -> SeedMeasure:
    """One trained model's measurements (see :class:`SeedMeasure`); ``clips`` maps "judge"/"guide" to CLIPs."""
    cos, feats = {}, {}
    for name, clip in clips.items():
        cos[name] = clip_cosine(clip, generated, list(prompts), batch_size)
        feats[name] = clip_image_features(clip, generated, batch_size)
    logp = classifier_log_probs(classifier, generated, classifier_head, batch_size) if classifier else None
    rec = recognised(classifier, generated, requested_primary, batch_size) if classifier else None
    psnr = psnr_per_image(real, reconstructions) if reconstructions is not None else None
    return SeedMeasure(psnr, cos, feats, logp, rec, dict(convergence or {}))


def assemble(measures: Sequence[SeedMeasure], seeds: Sequence[int], *, real_features: Mapping[str, np.ndarray],
             clip_score_w: float, which: str = "judge") -> dict[str, Seeded]:
    """The variant's :class:`Seeded` metrics from its per-seed measures (in ``seeds`` order): ``psnr``,
    ``clip_cosine``, ``clip_score``, ``frechet_clip`` (with the ``which`` CLIP: "judge" or "guide"),
    ``classifier_score``, ``recognition_primary``, and ``convergence_rounds`` /
    ``vqgan_convergence_rounds`` where every seed converged."""
    if which not in CLIPS:
        raise ValueError(f"which must be one of {CLIPS}, got {which!r}")
    seeds = tuple(int(s) for s in seeds)
    if len(measures) != len(seeds):
        raise ValueError(f"{len(measures)} measures for {len(seeds)} seeds")
    out: dict[str, Seeded] = {}
    if all(m.psnr is not None for m in measures):
        out["psnr"] = Seeded(seeds, np.stack([m.psnr for m in measures]))
    if all(which in m.cosine for m in measures):
        cos = np.stack([m.cosine[which] for m in measures])
        out["clip_cosine"] = Seeded(seeds, cos)
        out["clip_score"] = Seeded(seeds, clip_score(cos, clip_score_w))
        real_f = np.asarray(real_features[which], np.float64)
        gen_f = [np.asarray(m.features[which], np.float64) for m in measures]
        out["frechet_clip"] = Seeded(seeds, set_value=lambda s, idx: frechet_distance_lowrank(real_f[idx],
                                                                                              gen_f[s][idx]),
                                     n_items=len(real_f))
    if all(m.log_probs is not None for m in measures):
        logp = [m.log_probs for m in measures]
        out["classifier_score"] = Seeded(seeds, set_value=lambda s, idx: is_formula(logp[s][idx]),
                                         n_items=len(logp[0]))
        out["recognition_primary"] = Seeded(seeds, np.stack([m.recognised for m in measures]))
    for name, key in (("convergence_rounds", "prior"), ("vqgan_convergence_rounds", "vqgan")):
        epochs = [m.convergence.get(key) for m in measures]
        if epochs and all(e is not None for e in epochs):
            out[name] = Seeded(seeds, np.asarray(epochs, float)[:, None])
    return out


def groups(measures: Sequence[SeedMeasure], seeds: Sequence[int], withheld: np.ndarray) -> dict[str, dict[str, Seeded]]:
    """The generalisation claim's data: the items split by ``withheld`` (bool per item) into groups "seen" and
    "withheld", with the judge's ``clip_cosine`` and ``recognition_primary`` as unpaired Seeded tables."""
    withheld = np.asarray(withheld, bool)
    if not withheld.any() or withheld.all():
        raise ValueError(f"need both seen and withheld items, got {int(withheld.sum())} withheld of {len(withheld)}")
    seeds = tuple(int(s) for s in seeds)
    out: dict[str, dict[str, Seeded]] = {}
    for name, mask in (("seen", ~withheld), ("withheld", withheld)):
        out[name] = {"clip_cosine": Seeded(seeds, np.stack([m.cosine["judge"][mask] for m in measures]),
                                           paired=False),
                     "recognition_primary": Seeded(seeds, np.stack([m.recognised[mask] for m in measures]),
                                                   paired=False)}
    return out

"""The study's trained models, loaded for the stages that use them (evaluate, instructions, governance),
always through the guarded loaders: a checkpoint trained under other params than the current ones is
refused (:func:`inkgen.training.runs.params_hash`), and the CLIP that judges the evaluation must not be the
one that guided training (:func:`check_judge_is_not_guide`, paper eq. 13 and the judge's rationale in
:mod:`inkgen.stages.clip`). Files: :class:`inkgen.layout.Layout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inkgen.config import Params
from inkgen.judge import check_judge_is_not_guide
from inkgen.layout import Layout
from inkgen.training.checkpoint import load_checkpoint
from inkgen.training.runs import params_hash, text_encoder, vqgan_owner


def load_clips(params: Params, root: Path) -> dict[str, Any]:
    """The judge (``models/clip_judge.pt``) and the guide (``models/clip.pt``), frozen; refuses a judge
    whose bytes are the guide's before any work."""
    from inkgen.models.clip import freeze, load_clip  # open_clip (seconds): only the stages that score with CLIP

    layout = Layout(params, root)
    check_judge_is_not_guide(params, root, layout.clip("judge"))
    return {"judge": freeze(load_clip(layout.clip("judge"))), "guide": freeze(load_clip(layout.clip("guide")))}


def generation_kwargs(params: Params, clip) -> dict[str, Any]:
    """The ``generate:`` settings every painting of the evaluation is made with."""
    g = params.generate
    return dict(seed=g.seed, temperature=g.temperature, top_k=g.top_k or None, guidance_scale=g.guidance_scale,
                clip_refine_steps=g.clip_refine_steps, clip=clip if g.clip_refine_steps else None,
                clip_lr=g.clip_refine_lr, batch=params.inference.batch_size)


def load_generator(params: Params, root: Path, variant: str, seed: int, device: str | torch.device = "cpu"):
    """The variant's generator trained with ``seed`` (its own fresh text encoder, fine-tuned weights restored
    if any), refused unless trained under the current phase-2 params."""
    from inkgen.generate import Generator  # torch and the models: only where a model paints

    return Generator.from_checkpoint(Layout(params, root).prior_checkpoint(variant, seed),
                                     params_hash=params_hash(params, "prior"),
                                     text_encoder=text_encoder(params, root, lite=True), device=device)


@dataclass(frozen=True)
class RunHistory:
    """One (variant, seed)'s training record as its checkpoints hold it: the per-epoch histories of its
    prior and of its (possibly shared) VQGAN, and the convergence epoch each training run found under its
    phase's rule (:func:`inkgen.training.convergence.convergence_epoch`; None: not converged)."""

    prior: list[dict]
    vqgan: list[dict]
    prior_converged: int | None
    vqgan_converged: int | None


def histories(params: Params, root: Path, variant: str, seed: int) -> RunHistory:
    """The training record of the variant's prior and of its (possibly shared) VQGAN, one seed."""
    layout = Layout(params, root)
    ck = load_checkpoint(layout.prior_checkpoint(variant, seed), params_hash=params_hash(params, "prior"))
    vq_ck = load_checkpoint(layout.vqgan_checkpoint(vqgan_owner(params, variant), seed),
                            params_hash=params_hash(params, "vqgan"))
    return RunHistory(ck["loop"]["history"], vq_ck["loop"]["history"], ck["converged_epoch"], vq_ck["converged_epoch"])

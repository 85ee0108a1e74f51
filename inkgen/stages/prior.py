"""Stage prior@<variant>-<seed> (notebook 05b_prior): phase 2 of MTDIG-TIGIVM-CLIP (paper section 2.3), the
Transformer stacked decoder (eq. 11) that predicts the VQGAN's codes from BERT features, for every variant
and seed on the VQGAN of the same seed that :func:`inkgen.training.runs.vqgan_owner` names; then held-out
test captions painted and judged by the curation classifier (eq. 1). Checkpoint
``models/prior/<variant>/seed-<S>/prior-last.pt``, metrics ``<paths.metrics>/prior/<variant>/seed-<S>.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from inkgen.config import Params, project_root
from inkgen.data.dataset import load_split
from inkgen.generate import Generator
from inkgen.heldout import held_out_prompts, judge
from inkgen.layout import Layout, write_metrics
from inkgen.models.classifier import load_classifier
from inkgen.training.config import TrainError
from inkgen.training.features import encode_captions
from inkgen.training.runs import fit_prior, load_data, load_vqgan, parameter_table, params_hash, vqgan_owner
from inkgen.training.vqgan_phase import TrainResult


@dataclass
class TrainStage:
    variant: str
    vqgan_from: str
    result: TrainResult
    history: pd.DataFrame
    parameters: pd.Series
    prompts: pd.DataFrame           # per generated image: prompt, requested and judged category / type
    images: torch.Tensor            # generated, (N, 3, R, R) in [-1, 1], prompt-major
    accuracy: pd.DataFrame          # share judged as requested, per head
    originals: torch.Tensor         # the prompts' own test paintings, and their reconstructions
    reconstructions: torch.Tensor
    metrics: dict[str, Any]


def run(params: Params, root: str | Path | None, variant: str, seed: int, *, progress: bool = True) -> TrainStage:
    """Phase 2 for ``variant`` with training seed ``seed`` on its (shared) VQGAN of the same seed; checkpoint
    ``models/prior/<variant>/seed-<seed>/prior-last.pt``; then held-out prompts generated and judged."""
    root = Path(root) if root is not None else project_root()
    g = params.generate
    if g.guidance_scale != 1 and params.prior_train.uncond_prob == 0:  # refused before training, not after it
        raise TrainError(f"generate.guidance_scale: {g.guidance_scale} needs a prior trained with condition "
                         "dropout, but prior_train.uncond_prob is 0; set one of them (guidance_scale 1: none)")
    layout = Layout(params, root)
    owner = vqgan_owner(params, variant)
    vqgan = load_vqgan(params, root, owner, seed)
    data = load_data(params, root)
    start = time.perf_counter()
    if params.train.nproc > 1:  # torchrun: every process runs fit_prior; the checkpoint is read back here
        from inkgen.launch import load_result, run_phase  # the torchrun launcher, only for nproc > 1

        record = run_phase("prior", params, variant, seed, root, progress=progress)
        result = load_result(layout.prior_checkpoint(variant, seed), params_hash(params, "prior"), record)
    else:
        result = fit_prior(params, variant, seed, root, data, vqgan, progress=progress)
    wall = time.perf_counter() - start
    # text -> image on held-out test captions, judged by the curation classifier
    test = load_split(layout.manifest, "test", root)
    prompts = held_out_prompts(test, g.n_prompts, g.seed)
    data.encoder.eval()
    generator = Generator(vqgan, result.model, data.encoder, source=f"prior@{variant}-{seed}",
                          guidable=params.prior_train.uncond_prob > 0)
    gen_start = time.perf_counter()
    images = generator.generate_tensors(list(prompts["caption"]), seed=g.seed, count=g.samples_per_prompt,
                                        temperature=g.temperature, top_k=g.top_k or None,
                                        guidance_scale=g.guidance_scale)
    gen_seconds = time.perf_counter() - gen_start
    requested = prompts.loc[prompts.index.repeat(g.samples_per_prompt)]
    judged = judge(load_classifier(layout.classifier), images, requested)
    accuracy = pd.DataFrame({"judged as requested": [judged["primary_ok"].mean(), judged["type_ok"].mean()],
                             "chance (uniform)": [1 / test.rows["primary"].nunique(),
                                                  1 / test.rows["painting_type"].nunique()]},
                            index=["primary category", "painting type"])
    idx = torch.as_tensor(prompts["index"].to_numpy(copy=True))  # pandas gives a read-only view: torch would warn
    originals = test.as_float_tensor()[idx]
    text_vec = None
    if vqgan.config.text_style_norm:
        text_vec = encode_captions(data.encoder, list(prompts["caption"])).pooled
    with torch.no_grad():
        reconstructions = vqgan(originals, text_vec).recon.clamp(-1, 1)
    parameters = parameter_table(vqgan, prior=result.model)
    metrics = {"variant": variant, "seed": int(seed), "vqgan_from": owner, "prior_epochs": len(result.history), "steps": result.steps,
               "converged_epoch": result.converged_epoch, "wall_seconds": wall,
               "train_sequences_per_second": result.images_per_second,
               "val_loss": result.history[-1]["val_loss"], "parameters": int(parameters["generator total"]),
               "n_generated": len(judged), "generation_seconds_per_image": gen_seconds / len(judged),
               "primary_accuracy": float(judged["primary_ok"].mean()),
               "type_accuracy": float(judged["type_ok"].mean())}
    write_metrics(layout.run_metrics("prior", variant, seed), metrics)
    return TrainStage(variant, owner, result, pd.DataFrame(result.history), parameters, judged, images, accuracy,
                      originals, reconstructions, metrics)

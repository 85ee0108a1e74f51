"""A training run of the study from params: the run config of (variant, seed), the params hash its
checkpoint carries, the screened data with its text features, and the run of each phase itself (also what
every process runs under torchrun, :mod:`inkgen.launch`).

Variants whose phase 1 would be the same run share one VQGAN: ``no_transformer`` differs from ``full``
only in its prior, so it uses ``full``'s VQGAN (:func:`vqgan_owner`); ``full``'s run continues ``no_clip``'s
at ``clip_start``, where they part (:func:`branch_source`). Everything is read from params:
sizes from ``model``, run values from ``train`` (shared) and ``vqgan_train`` / ``prior_train``, the resolution from ``curate.target_size`` and the text
width from the text encoder. Each run logs its epochs with dvclive (``Live(dvcyaml=None)``, so that
dvclive never rewrites dvc.yaml). Files: :class:`inkgen.layout.Layout`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch

from inkgen.config import Params
from inkgen.data.dataset import Split, load_split
from inkgen.data.exclusions import read_exclusions
from inkgen.layout import Layout
from inkgen import variants
from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.training.checkpoint import branch_path
from inkgen.settings import RunSettings
from inkgen.training.config import PriorRun, TrainError, VQGANRun, effective_lambda
from inkgen.training.distributed import is_main
from inkgen.training.features import (FineTunedTextFeatures, PhaseData, TextFeatures, empty_caption_features,
                                      load_text_features)
from inkgen.training.prior_phase import load_trained, prior_config, train_prior
from inkgen.training.vqgan_phase import TrainResult, train_vqgan

VARIANTS = variants.NAMES  # full, no_clip, no_transformer, vqgan_clip, vqgan
# The params each phase's run depends on, whole sections (and a few single values of upstream sections),
# declared here once: dvc.yaml's training stages track exactly these (tests/test_dvc_stages.py), and a
# checkpoint is stamped with their hash (:func:`params_hash`) and refused under other values. Phase-2-only
# sections (``prior_train``, the prior's sizes in ``model``) are not phase 1's, so changing them never
# re-trains a VQGAN. ``seeds`` is in neither: each run's seed is in its checkpoint's train_config, so adding a
# seed re-trains nothing else. Upstream stages' values reach training through their outputs (the dataset,
# clip.pt, training_screen.json), which DVC tracks as data dependencies; the governance keys stay in the hash
# because they choose which training items the screen keeps out (the policy file's rules reach training only
# through the screen's list, so editing them re-trains nothing unless the list changes).
UPSTREAM_PARAMS = ("curate.target_size", "text_encoder", "governance.registry", "governance.policy_file",
                   "governance.policy")
PHASE_PARAMS = {
    "vqgan": (*UPSTREAM_PARAMS, "model.vqgan", "train", "vqgan_train"),
    # the prior is trained on its VQGAN (loaded through the phase-1 hash), so phase 1's values are its too
    "prior": (*UPSTREAM_PARAMS, "model", "train", "vqgan_train", "prior_train"),
}


# ------------------------------------------------------------------------------------------ configs
def _run_values(params: Params, section: Any, variant: str, seed: int | None) -> dict[str, Any]:
    seed = params.seeds[0] if seed is None else seed
    if seed not in params.seeds:
        raise TrainError(f"seeds: seed {seed!r} is not one of the study's seeds {list(params.seeds)}")
    shared = {f.name: getattr(params.train, f.name) for f in dataclasses.fields(RunSettings)}  # not nproc
    return {"variant": variant, "seed": int(seed), **shared, **dataclasses.asdict(section)}


def vqgan_run(params: Params, variant: str, seed: int | None = None) -> VQGANRun:
    """Phase 1's run config of (``variant``, ``seed``): sections ``train`` and ``vqgan_train``; ``seed``
    must be one of ``seeds`` (default: the first)."""
    return VQGANRun(**_run_values(params, params.vqgan_train, variant, seed))


def prior_run(params: Params, variant: str, seed: int | None = None) -> PriorRun:
    """Phase 2's run config of (``variant``, ``seed``): sections ``train`` and ``prior_train``."""
    return PriorRun(**_run_values(params, params.prior_train, variant, seed))


def vqgan_owner(params: Params, variant: str) -> str:
    """The variant whose phase-1 run ``variant`` uses (:func:`inkgen.variants.vqgan_owner`)."""
    try:
        return variants.vqgan_owner(variant)
    except ValueError as exc:
        raise TrainError(str(exc)) from None


def branch_source(params: Params, variant: str) -> str | None:
    """The CLIP-free variant whose phase-1 run ``variant``'s continues from step ``vqgan_train.clip_start``, or
    None (:func:`inkgen.variants.branch_source`): the study computes that shared stretch once
    (:func:`inkgen.training.vqgan_phase.train_vqgan`, ``branch_from``)."""
    vqgan_owner(params, variant)
    return variants.branch_source(variant)


def branches_at(params: Params, variant: str) -> int | None:
    """The step at which ``variant``'s run keeps its state for a guided twin (``vqgan_train.clip_start``), or
    None when no variant continues it."""
    if any(branch_source(params, v) == variant for v in VARIANTS):
        return params.vqgan_train.clip_start
    return None


def vqgan_config(params: Params, variant: str, text_dim: int) -> VQGANConfig:
    return VQGANConfig.with_flags(variants.variant(variant).vqgan, resolution=params.curate.target_size,
                                  text_dim=int(text_dim), **dataclasses.asdict(params.model.vqgan))


def params_hash(params: Params, phase: str = "prior") -> str:
    """SHA-256 over the params a phase (``"vqgan"`` or ``"prior"``) depends on. The seeds list is not
    hashed (adding a seed invalidates no other run); a run's own seed is in its checkpoint's
    ``train_config``, which resuming compares too, so a checkpoint of another seed is never resumed."""
    keys = PHASE_PARAMS[phase]
    values: dict[str, Any] = {}
    for dotted in keys:
        node: Any = params
        for part in dotted.split("."):
            node = getattr(node, part)
        values[dotted] = dataclasses.asdict(node) if dataclasses.is_dataclass(node) else node
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()

# ------------------------------------------------------------------------------------------- inputs
def load_vqgan(params: Params, root: Path, variant: str, seed: int) -> VQGAN:
    """The phase-1 model of (``variant``'s owner, ``seed``), through the guarded loader: refused unless its
    checkpoint was trained under the current phase-1 params (:func:`params_hash`)."""
    vqgan, _, _ = load_trained(Layout(params, root).vqgan_checkpoint(vqgan_owner(params, variant), seed),
                               params_hash=params_hash(params, "vqgan"))
    return vqgan


def text_encoder(params: Params, root: Path, *, lite: bool = False):
    """The study's BERT (``text_encoder:``); ``lite``: a frozen one runs without importing transformers
    (:mod:`inkgen.models.bert_lite`, bit-identical features), for the stages that only paint."""
    from inkgen.models.text_encoder import TextEncoder  # imports transformers (seconds): only runs that encode text

    te = params.text_encoder
    path = te.path if not te.path or Path(te.path).is_absolute() else str(root / te.path)
    return TextEncoder(path, freeze=not te.finetune, max_tokens=te.max_tokens, lite=lite)


def text_encoder_record(params: Params, encoder) -> dict[str, Any]:
    """What a checkpoint records of the BERT it was trained with: ``param_path`` as params give it ("" for
    the embedded MiniLM) and ``source`` (:func:`inkgen.models.text_encoder.bert_source`), the package and
    version that shipped it or the params path. No absolute path of this machine: the record, hence the
    file's bytes, must not depend on where the checkout or its virtual environment lies."""
    return {"param_path": params.text_encoder.path, "source": encoder.source, "dim": int(encoder.dim),
            "max_tokens": int(encoder.max_tokens), "frozen": bool(encoder.frozen)}


@dataclass
class StageData:
    train: Split
    val: Split
    encoder: Any
    train_text: TextFeatures
    val_text: TextFeatures
    excluded: pd.DataFrame  # training items kept out because they match a protected registered work


def load_data(params: Params, root: Path) -> StageData:
    """The training split less the items stage training_screen keeps out (:func:`inkgen.data.exclusions.read_exclusions`) and
    the validation split, with their BERT features read from the text_features stage's file (refused if it
    was computed from other captions)."""
    layout = Layout(params, root)
    full_train = load_split(layout.manifest, "train", root)
    excluded = read_exclusions(params, root)
    keep = ~full_train.rows["item_id"].isin(list(excluded["item_id"])).to_numpy(copy=True)
    train = Split(full_train.name, full_train.images[keep], [c for c, k in zip(full_train.captions, keep) if k],
                  full_train.rows[keep].reset_index(drop=True))
    val = load_split(layout.manifest, "val", root)
    encoder = text_encoder(params, root)
    record, path = text_encoder_record(params, encoder), layout.text_features
    train_text = load_text_features(path, "train", full_train.captions, record)
    if not keep.all():
        kept = torch.as_tensor(keep)  # from a writable copy: torch warns on a read-only pandas array
        train_text = TextFeatures(train_text.tokens[kept], train_text.mask[kept], train_text.pooled[kept])
    return StageData(train, val, encoder, train_text, load_text_features(path, "val", val.captions, record),
                     excluded)


def parameter_table(model: VQGAN, discriminator: torch.nn.Module | None = None,
                    prior: torch.nn.Module | None = None) -> pd.Series:
    counts = dict(model.param_counts())
    if discriminator is not None:
        counts["discriminator (training only)"] = sum(p.numel() for p in discriminator.parameters())
    if prior is not None:
        counts["Transformer stacked decoder"] = sum(p.numel() for p in prior.parameters())
    counts["generator total"] = sum(v for k, v in counts.items() if "training only" not in k)
    return pd.Series(counts, name="parameters")



def live_logger(live_dir: Path | None) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    """An ``on_epoch`` callback logging every number of the epoch to dvclive, and a closer."""
    if live_dir is None:
        return (lambda entry: None), (lambda: None)
    from dvclive import Live  # dvclive pulls in git and DVC modules: only a logging run pays for them

    live = Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)

    def on_epoch(entry: dict[str, Any]) -> None:
        for k, v in entry.items():
            if k not in ("epoch", "step") and isinstance(v, (int, float)):
                live.log_metric(k, float(v))
        live.next_step()

    return on_epoch, live.end


def fit_vqgan(params: Params, variant: str, seed: int, root: Path, data: StageData | None = None, *,
              progress: bool = True) -> TrainResult:
    """Phase 1's training run itself (in each process under torchrun; rank 0 logs to dvclive)."""
    layout = Layout(params, root)
    config = vqgan_run(params, variant, seed)
    data = data or load_data(params, root)
    clip = None
    if effective_lambda(config) > 0:
        from inkgen.models.clip import load_clip  # open_clip (seconds): only variants guided by CLIP

        clip = load_clip(layout.clip("guide"))
    twin = branch_source(params, variant)
    on_epoch, close = live_logger(layout.live_dir("vqgan", variant, seed) if is_main() else None)
    try:
        phase_data = PhaseData(data.train.as_float_tensor(), data.train_text, data.train.captions,
                               val_images=data.val.as_float_tensor(), val_text=data.val_text)
        return train_vqgan(config, vqgan_config(params, variant, data.encoder.dim), phase_data,
                           params_hash=params_hash(params, "vqgan"), clip=clip,
                           checkpoint_dir=layout.vqgan_checkpoint(variant, seed).parent, resume=True,
                           branch_at=branches_at(params, variant),
                           branch_from=branch_path(layout.vqgan_checkpoint(twin, seed).parent) if twin else None,
                           on_epoch=on_epoch, progress=progress)
    finally:
        close()


def fit_prior(params: Params, variant: str, seed: int, root: Path, data: StageData | None = None,
              vqgan: VQGAN | None = None, *, progress: bool = True) -> TrainResult:
    """Phase 2's training run itself (in each process under torchrun; rank 0 logs to dvclive)."""
    layout = Layout(params, root)
    owner = vqgan_owner(params, variant)
    if vqgan is None:
        vqgan = load_vqgan(params, root, owner, seed)
    data = data or load_data(params, root)
    train_text, val_text = data.train_text, data.val_text
    if params.text_encoder.finetune:  # the BERT learns with the prior: features computed batch by batch
        train_text = FineTunedTextFeatures(data.encoder, data.train.captions)
        val_text = FineTunedTextFeatures(data.encoder, data.val.captions)
    on_epoch, close = live_logger(layout.live_dir("prior", variant, seed) if is_main() else None)
    try:
        empty = empty_caption_features(data.encoder) if params.prior_train.uncond_prob > 0 else None
        phase_data = PhaseData(data.train.as_float_tensor(), train_text, val_images=data.val.as_float_tensor(),
                               val_text=val_text, empty_text=empty)
        return train_prior(prior_run(params, variant, seed), vqgan,
                           prior_config(vqgan, data.encoder.dim, variant, **dataclasses.asdict(params.model.prior)),
                           phase_data, params_hash=params_hash(params, "prior"),
                           finetune_lr=params.text_encoder.finetune_lr,
                           checkpoint_dir=layout.prior_checkpoint(variant, seed).parent, resume=True,
                           on_epoch=on_epoch, progress=progress,
                           meta={"text_encoder": text_encoder_record(params, data.encoder), "vqgan_from": owner,
                                 "seed": int(seed)})
    finally:
        close()

"""The training stages: ``vqgan@<variant>`` (phase 1, notebook 05_vqgan) and ``train@<variant>`` (phase 2,
notebook 05_train) of MTDIG-TIGIVM-CLIP and its ablation variants (paper sections 2.2-2.3, 3.2).

Phase 1 trains the improved VQGAN with eq. 14; phase 2 trains the Transformer stacked decoder (eq. 11)
that predicts the VQGAN's codes from BERT features, then turns held-out test captions into paintings and
lets the curation classifier (eq. 1) say whether each shows the requested category and painting type.

Variants whose phase 1 would be the same run share one VQGAN: ``no_transformer`` differs from ``full``
only in its prior, so it uses ``full``'s VQGAN (:func:`vqgan_owner`). Everything is read from params:
sizes from ``model``, run values from ``train``, the resolution from ``curate.target_size`` and the text
width from the text encoder. Each run logs its epochs with dvclive (``Live(dvcyaml=None)``, so that
dvclive never rewrites dvc.yaml) and writes ``<paths.metrics>/<phase>/<variant>/seed-<S>.json``. Every variant is
trained once per seed of ``train.seeds`` (the same seeds for all), into ``models/<phase>/<variant>/seed-<S>/``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch

from inkgen.config import Params, TrainParams, project_root
from inkgen.data.dataset import Split, load_split
from inkgen.models.vqgan import VARIANT_FLAGS, VQGAN, VQGANConfig
from inkgen.training import (FineTunedTextFeatures, TextFeatures, TrainConfig, TrainError, TrainResult,
                             effective_lambda, encode_captions, load_trained, prior_config, train_prior, train_vqgan)
from inkgen.training.features import load_text_features, save_text_features

VARIANTS = tuple(VARIANT_FLAGS)  # full, no_clip, no_transformer, vqgan_clip, vqgan
# The params each phase's run depends on (dvc.yaml lists the same keys; tests/test_dvc_stages.py checks it).
# A checkpoint written under other values is refused; phase-2-only values (the prior's sizes and schedule,
# generation) do not touch phase 1, so changing them never re-trains a VQGAN. Upstream stages' values reach
# training through their outputs (the dataset, clip.pt), which DVC tracks as data dependencies.
PHASE1_PARAMS = ("curate.target_size", "text_encoder", "governance.registry", "governance.policy_file",
                 "governance.policy", "model.vqgan", "train.device",
                 "train.threads", "train.nproc", "train.epochs", "train.batch_size", "train.lr", "train.beta", "train.eta",
                 "train.lambda_clip", "train.disc_start", "train.clip_start", "train.lr_schedule",
                 "train.checkpoint_every", "train.convergence_window", "train.convergence_min_rel_improvement")
# train.seeds is in neither: each run's seed is in its checkpoint's train_config, so adding a seed re-trains
# nothing else.
PHASE2_PARAMS = ("curate.target_size", "text_encoder", "governance.registry", "governance.policy_file",
                 "governance.policy", "model", *(f"train.{k}" for k in TrainParams.__dataclass_fields__
                                                  if k != "seeds"))


# ------------------------------------------------------------------------------------------ configs
def train_config(params: Params, variant: str, seed: int | None = None) -> TrainConfig:
    """The run config of (``variant``, ``seed``); ``seed`` must be one of ``train.seeds`` (default: the first)."""
    return TrainConfig(**params.train.run_config(variant, params.train.seeds[0] if seed is None else seed))


def vqgan_owner(params: Params, variant: str) -> str:
    """The variant whose phase-1 run ``variant`` uses: the first in ``VARIANTS`` order with the same VQGAN
    flags and the same effective CLIP weight (hence the very same run)."""
    if variant not in VARIANTS:
        raise TrainError(f"unknown variant {variant!r}; allowed: {list(VARIANTS)}")

    def key(v: str) -> tuple:
        return tuple(sorted(VARIANT_FLAGS[v].items())), effective_lambda(train_config(params, v))

    return next(v for v in VARIANTS if key(v) == key(variant))


def vqgan_config(params: Params, variant: str, text_dim: int) -> VQGANConfig:
    return VQGANConfig.for_variant(variant, resolution=params.curate.target_size, text_dim=int(text_dim),
                                   **dataclasses.asdict(params.model.vqgan))


def params_hash(params: Params, phase: str = "prior") -> str:
    """SHA-256 over the params a phase (``"vqgan"`` or ``"prior"``) depends on. The seeds list is not
    hashed (adding a seed invalidates no other run); a run's own seed is in its checkpoint's
    ``train_config``, which resuming compares too, so a checkpoint of another seed is never resumed."""
    keys = {"vqgan": PHASE1_PARAMS, "prior": PHASE2_PARAMS}[phase]
    values: dict[str, Any] = {}
    for dotted in keys:
        node: Any = params
        for part in dotted.split("."):
            node = getattr(node, part)
        values[dotted] = dataclasses.asdict(node) if dataclasses.is_dataclass(node) else node
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _seed_dir(params: Params, seed: int) -> str:
    if seed not in params.train.seeds:
        raise TrainError(f"seed {seed!r} is not one of train.seeds {list(params.train.seeds)}")
    return f"seed-{int(seed)}"


def vqgan_checkpoint(params: Params, root: Path, variant: str, seed: int) -> Path:
    """``models/vqgan/<variant>/seed-<S>/vqgan-last.pt``: the phase-1 run of (variant, seed)."""
    return Path(root) / params.paths.models / "vqgan" / variant / _seed_dir(params, seed) / "vqgan-last.pt"


def prior_checkpoint(params: Params, root: Path, variant: str, seed: int) -> Path:
    """``models/train/<variant>/seed-<S>/prior-last.pt`` (its per-epoch snapshots beside it)."""
    return Path(root) / params.paths.models / "train" / variant / _seed_dir(params, seed) / "prior-last.pt"


def stage_metrics_path(params: Params, root: Path, phase: str, variant: str, seed: int) -> Path:
    """``reports/metrics/<phase>/<variant>/seed-<S>.json`` (phase ``"vqgan"`` or ``"train"``)."""
    if phase not in ("vqgan", "train"):
        raise TrainError(f"phase {phase!r} is not 'vqgan' or 'train'")
    return Path(root) / params.paths.metrics / phase / variant / f"{_seed_dir(params, seed)}.json"


def live_dir(params: Params, root: Path, phase: str, variant: str, seed: int) -> Path:
    """dvclive's folder of one run: ``reports/metrics/live/<phase>-<variant>-seed-<S>``."""
    return Path(root) / params.paths.metrics / "live" / f"{phase}-{variant}-{_seed_dir(params, seed)}"


# ------------------------------------------------------------------------------------------- inputs
def text_encoder(params: Params, root: Path):
    from inkgen.models.text_encoder import TextEncoder

    te = params.text_encoder
    path = te.path if not te.path or Path(te.path).is_absolute() else str(root / te.path)
    return TextEncoder(path, freeze=not te.finetune, max_tokens=te.max_tokens)


def text_encoder_record(params: Params, encoder) -> dict[str, Any]:
    """What a checkpoint records of the BERT it was trained with (``param_path`` as params give it, ""
    for the embedded MiniLM, so that the record stays valid on another machine)."""
    return {"param_path": params.text_encoder.path, "resolved_path": str(encoder.path), "dim": int(encoder.dim),
            "max_tokens": int(encoder.max_tokens), "frozen": bool(encoder.frozen)}


@dataclass
class StageData:
    train: Split
    val: Split
    encoder: Any
    train_text: TextFeatures
    val_text: TextFeatures
    excluded: pd.DataFrame  # training items kept out because they match a protected registered work


def copyright_screen(params: Params, root: Path, train: Split) -> tuple[Split, pd.DataFrame]:
    """Paper section 6.2 (ownership attribution): with a rights registry (``governance.registry``), training
    items that match a work whose status the policy blocks are kept out of training, listed with the
    reason. Without one, nothing is screened here (stage governance shows a labelled demonstration)."""
    columns = ["item_id", "reason"]
    if not params.governance.registry:
        return train, pd.DataFrame(columns=columns)
    from governance.copyright import screen_training_items
    from governance.policy import load_policy
    from governance.registry import load_registry

    g = params.governance
    policy = load_policy(root / g.policy_file if g.policy_file else None, overrides=g.policy_overrides())
    registry = load_registry(root / g.registry, policy.copyright.registry_statuses)
    screen = screen_training_items([(r.item_id, root / r.file) for r in train.rows.itertuples()], registry,
                                   policy.copyright)
    flagged = {v.item_id: "; ".join(v.reasons) for v in screen.flagged}
    keep = ~train.rows["item_id"].isin(list(flagged)).to_numpy()
    kept = Split(train.name, train.images[keep], [c for c, k in zip(train.captions, keep) if k],
                 train.rows[keep].reset_index(drop=True))
    return kept, pd.DataFrame(sorted(flagged.items()), columns=columns)


FEATURE_SPLITS = ("train", "val", "test")


def text_features_path(params: Params, root: Path) -> Path:
    """``models/text_features.pt``: the frozen BERT's features of every split's captions, computed once by
    the text_features stage and shared by every variant and seed of both training phases."""
    return Path(root) / params.paths.models / "text_features.pt"


def write_text_features(params: Params, root: str | Path | None = None) -> dict[str, Any]:
    """Stage text_features: every caption of the dataset through the frozen BERT, once; returns a summary."""
    root = Path(root) if root is not None else project_root()
    manifest = root / params.paths.dataset / "manifest.csv"
    start, cpu = time.perf_counter(), time.process_time()
    encoder = text_encoder(params, root)
    splits = {}
    for name in FEATURE_SPLITS:
        captions = load_split(manifest, name, root).captions
        splits[name] = (captions, encode_captions(encoder, captions))
    path = text_features_path(params, root)
    save_text_features(path, splits, text_encoder_record(params, encoder))
    return {"path": str(path.relative_to(root)), "captions": {k: len(c) for k, (c, _) in splits.items()},
            "dim": int(encoder.dim), "max_tokens": {k: int(f.tokens.shape[1]) for k, (_, f) in splits.items()},
            "wall_seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def load_data(params: Params, root: Path) -> StageData:
    """The training and validation splits (training items screened for copyright) with their BERT features,
    read from the text_features stage's file (refused if it was computed from other captions)."""
    manifest = root / params.paths.dataset / "manifest.csv"
    full_train = load_split(manifest, "train", root)
    train, excluded = copyright_screen(params, root, full_train)
    val = load_split(manifest, "val", root)
    encoder = text_encoder(params, root)
    record, path = text_encoder_record(params, encoder), text_features_path(params, root)
    train_text = load_text_features(path, "train", full_train.captions, record)
    # a writable copy: torch warns on a read-only pandas array
    keep = torch.as_tensor(full_train.rows["item_id"].isin(list(train.rows["item_id"])).to_numpy(copy=True))
    if not bool(keep.all()):
        train_text = TextFeatures(train_text.tokens[keep], train_text.mask[keep], train_text.pooled[keep])
    return StageData(train, val, encoder, train_text, load_text_features(path, "val", val.captions, record),
                     excluded)


def live_logger(live_dir: Path | None) -> tuple[Callable[[dict[str, Any]], None], Callable[[], None]]:
    """An ``on_epoch`` callback logging every number of the epoch to dvclive, and a closer."""
    if live_dir is None:
        return (lambda entry: None), (lambda: None)
    from dvclive import Live

    live = Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)

    def on_epoch(entry: dict[str, Any]) -> None:
        for k, v in entry.items():
            if k not in ("epoch", "step") and isinstance(v, (int, float)):
                live.log_metric(k, float(v))
        live.next_step()

    return on_epoch, live.end


def write_metrics(path: Path, metrics: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def parameter_table(model: VQGAN, discriminator: torch.nn.Module | None = None,
                    prior: torch.nn.Module | None = None) -> pd.Series:
    counts = dict(model.param_counts())
    if discriminator is not None:
        counts["discriminator (training only)"] = sum(p.numel() for p in discriminator.parameters())
    if prior is not None:
        counts["Transformer stacked decoder"] = sum(p.numel() for p in prior.parameters())
    counts["generator total"] = sum(v for k, v in counts.items() if "training only" not in k)
    return pd.Series(counts, name="parameters")


# ------------------------------------------------------------------------------------------ phase 1
@dataclass
class VQGANStage:
    variant: str
    config: VQGANConfig
    result: TrainResult
    history: pd.DataFrame
    parameters: pd.Series
    originals: torch.Tensor        # validation images shown in the notebook, (n, 3, R, R) in [-1, 1]
    reconstructions: torch.Tensor
    metrics: dict[str, Any]


def shown_items(rows: pd.DataFrame, n: int) -> list[int]:
    """Row positions of ``n`` validation items to show reconstructed: the coloured fine-brush (``gongbi``)
    paintings first, half of them, where colour errors show, then the others in split order."""
    types = rows["painting_type"].to_numpy() if "painting_type" in rows else np.array([""] * len(rows))
    gongbi = [i for i, t in enumerate(types) if t == "gongbi"][: max(1, n // 2)]
    rest = [i for i in range(len(rows)) if i not in set(gongbi)]
    return (gongbi + rest)[:n]


def run_vqgan(params: Params, variant: str, seed: int, root: str | Path | None = None, *, show: int = 8,
              progress: bool = True) -> VQGANStage:
    """Phase 1 for ``variant`` (which must own its VQGAN) with training seed ``seed`` (one of
    ``train.seeds``), checkpoint to ``models/vqgan/<variant>/seed-<seed>/``."""
    root = Path(root) if root is not None else project_root()
    vqgan_checkpoint(params, root, variant, seed)  # refuses a seed that is not in train.seeds, before any work
    owner = vqgan_owner(params, variant)
    if owner != variant:
        raise TrainError(f"variant {variant!r} trains no VQGAN of its own: it uses {owner!r}'s (same flags, same "
                         "CLIP weight); run the vqgan stage for that variant")
    config = train_config(params, variant, seed)
    data = load_data(params, root)
    vq_config = vqgan_config(params, variant, data.encoder.dim)
    start = time.perf_counter()
    if params.train.nproc > 1:  # torchrun: every process runs fit_vqgan; the checkpoint is read back here
        from inkgen.launch import load_result, run_phase

        record = run_phase("vqgan", params, variant, seed, root, progress=progress)
        result = load_result(vqgan_checkpoint(params, root, variant, seed), params_hash(params, "vqgan"), record)
    else:
        result = fit_vqgan(params, variant, seed, root, data, progress=progress)
    wall = time.perf_counter() - start
    model = result.model
    shown = torch.as_tensor(shown_items(data.val.rows, show))
    x = data.val.as_float_tensor()[shown]
    with torch.no_grad():
        recon = model(x, data.val_text.pooled[shown] if vq_config.text_style_norm else None).recon.clamp(-1, 1)
    last = result.history[-1]
    parameters = parameter_table(model, result.discriminator)
    metrics = {"variant": variant, "seed": int(seed), "epochs": len(result.history), "steps": result.steps,
               "converged_epoch": result.converged_epoch, "wall_seconds": wall,
               "train_images_per_second": result.images_per_second,
               "parameters": int(parameters["generator total"]),
               "lambda_clip": effective_lambda(config), "n_train": len(data.train), "n_val": len(data.val),
               "excluded_by_copyright_screen": len(data.excluded),
               **{k: v for k, v in last.items() if k.startswith("val_")},
               "codes_reinitialised": {k: int(q.n_reinit) for k, q in model.codebooks().items()}}
    write_metrics(stage_metrics_path(params, root, "vqgan", variant, seed), metrics)
    return VQGANStage(variant, vq_config, result, pd.DataFrame(result.history), parameters, x, recon, metrics)


def fit_vqgan(params: Params, variant: str, seed: int, root: Path, data: StageData | None = None, *,
              progress: bool = True) -> TrainResult:
    """Phase 1's training run itself (in each process under torchrun; rank 0 logs to dvclive)."""
    from inkgen.training.distributed import is_main

    config = train_config(params, variant, seed)
    data = data or load_data(params, root)
    clip = None
    if effective_lambda(config) > 0:
        from inkgen.models.clip import load_clip

        clip = load_clip(root / params.paths.models / "clip.pt")
    on_epoch, close = live_logger(live_dir(params, root, "vqgan", variant, seed) if is_main() else None)
    try:
        return train_vqgan(config, vqgan_config(params, variant, data.encoder.dim), data.train.as_float_tensor(),
                           data.train.captions, params_hash=params_hash(params, "vqgan"), text=data.train_text,
                           clip=clip, val_images=data.val.as_float_tensor(), val_text=data.val_text,
                           checkpoint_dir=vqgan_checkpoint(params, root, variant, seed).parent, resume=True,
                           on_epoch=on_epoch, progress=progress)
    finally:
        close()


# ------------------------------------------------------------------------------------------ phase 2
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


def held_out_prompts(test: Split, n: int, seed: int) -> pd.DataFrame:
    """``n`` test-split rows, a seeded draw stratified by primary category (round robin over categories)."""
    rng = np.random.default_rng(seed)
    groups = {k: list(rng.permutation(g.index.to_numpy())) for k, g in test.rows.groupby("primary", sort=True)}
    picked: list[int] = []
    while len(picked) < min(n, len(test.rows)):
        for k in sorted(groups):
            if groups[k] and len(picked) < n:
                picked.append(int(groups[k].pop()))
    return test.rows.loc[picked].reset_index()


def judge(classifier, images: torch.Tensor, requested: pd.DataFrame) -> pd.DataFrame:
    """The curation classifier's labels of generated ``images`` beside the ``requested`` primary category
    and painting type (one row per image, same order)."""
    from inkgen.models.classifier import predict

    pixels = ((images.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    judged = pd.DataFrame(predict(classifier, list(pixels)))
    out = requested[["item_id", "caption", "primary", "painting_type"]].reset_index(drop=True)
    out = out.rename(columns={"primary": "requested_primary", "painting_type": "requested_type"})
    out["judged_primary"] = judged["primary"]
    out["judged_type"] = judged["painting_type"]
    out["primary_ok"] = out["requested_primary"] == out["judged_primary"]
    out["type_ok"] = out["requested_type"] == out["judged_type"]
    return out


def run_train(params: Params, variant: str, seed: int, root: str | Path | None = None, *,
              progress: bool = True) -> TrainStage:
    """Phase 2 for ``variant`` with training seed ``seed`` on its (shared) VQGAN of the same seed; checkpoint
    ``models/train/<variant>/seed-<seed>/prior-last.pt``; then held-out prompts generated and judged."""
    from inkgen.generate import Generator
    from inkgen.models.classifier import load_classifier

    root = Path(root) if root is not None else project_root()
    owner = vqgan_owner(params, variant)
    vqgan, _, _ = load_trained(vqgan_checkpoint(params, root, owner, seed),
                               params_hash=params_hash(params, "vqgan"))
    data = load_data(params, root)
    start = time.perf_counter()
    if params.train.nproc > 1:  # torchrun: every process runs fit_prior; the checkpoint is read back here
        from inkgen.launch import load_result, run_phase

        record = run_phase("prior", params, variant, seed, root, progress=progress)
        result = load_result(prior_checkpoint(params, root, variant, seed), params_hash(params, "prior"), record)
    else:
        result = fit_prior(params, variant, seed, root, data, vqgan, progress=progress)
    wall = time.perf_counter() - start
    # text -> image on held-out test captions, judged by the curation classifier
    test = load_split(root / params.paths.dataset / "manifest.csv", "test", root)
    g = params.generate
    prompts = held_out_prompts(test, g.n_prompts, g.seed)
    data.encoder.eval()
    generator = Generator(vqgan, result.model, data.encoder, source=f"train@{variant}-{seed}")
    gen_start = time.perf_counter()
    images = generator.generate_tensors(list(prompts["caption"]), seed=g.seed, count=g.samples_per_prompt,
                                        temperature=g.temperature, top_k=g.top_k or None)
    gen_seconds = time.perf_counter() - gen_start
    requested = prompts.loc[prompts.index.repeat(g.samples_per_prompt)]
    judged = judge(load_classifier(root / params.paths.models / "classifier.pt"), images, requested)
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
    write_metrics(stage_metrics_path(params, root, "train", variant, seed), metrics)
    return TrainStage(variant, owner, result, pd.DataFrame(result.history), parameters, judged, images, accuracy,
                      originals, reconstructions, metrics)


def fit_prior(params: Params, variant: str, seed: int, root: Path, data: StageData | None = None,
              vqgan: VQGAN | None = None, *, progress: bool = True) -> TrainResult:
    """Phase 2's training run itself (in each process under torchrun; rank 0 logs to dvclive)."""
    from inkgen.training.distributed import is_main

    owner = vqgan_owner(params, variant)
    if vqgan is None:
        vqgan, _, _ = load_trained(vqgan_checkpoint(params, root, owner, seed),
                                   params_hash=params_hash(params, "vqgan"))
    data = data or load_data(params, root)
    train_text, val_text = data.train_text, data.val_text
    if params.text_encoder.finetune:  # the BERT learns with the prior: features computed batch by batch
        train_text = FineTunedTextFeatures(data.encoder, data.train.captions)
        val_text = FineTunedTextFeatures(data.encoder, data.val.captions)
    on_epoch, close = live_logger(live_dir(params, root, "train", variant, seed) if is_main() else None)
    try:
        return train_prior(train_config(params, variant, seed), vqgan, data.train.as_float_tensor(), train_text,
                           prior_config(vqgan, data.encoder.dim, variant, **dataclasses.asdict(params.model.prior)),
                           params_hash=params_hash(params, "prior"), val_images=data.val.as_float_tensor(),
                           val_text=val_text, finetune_lr=params.text_encoder.finetune_lr,
                           snapshots=params.train.prior_snapshots,
                           checkpoint_dir=prior_checkpoint(params, root, variant, seed).parent, resume=True,
                           on_epoch=on_epoch, progress=progress,
                           meta={"text_encoder": text_encoder_record(params, data.encoder), "vqgan_from": owner,
                                 "seed": int(seed)})
    finally:
        close()

"""Phase 2: training the Transformer stacked decoder (``TextToCodes``, eq. 11) to predict the frozen
VQGAN's code indices from the captions' BERT features, with teacher forcing (cross-entropy over every
code token; see :mod:`inkgen.models.cross_modal`).

The training images are encoded to code indices ONCE with the trained, frozen VQGAN (eval mode: no
dead-code re-initialisation), and the BERT features come precomputed (:mod:`inkgen.training.features`),
so a step costs only the Transformer. The ``no_transformer`` variant trains the prior without the
cross-modal alignment (``use_alignment=False``: pooled text vector added to the inputs). AdamW, betas
(0.9, 0.95), weight decay 0.01, gradient norm clipped to 1, learning rate constant or cosine to 0
(``lr_schedule``). The checkpoint of this
phase holds the VQGAN too: it is the training stage's complete, self-describing output.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Callable

import torch

from inkgen.models.cross_modal import TextToCodes
from inkgen.models.cross_modal_config import CrossModalConfig
from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.training import distributed
from inkgen.training.checkpoint import (CheckpointError, checkpoint_path, load_checkpoint, rng_state,
                                        save_checkpoint, set_rng_state)
from inkgen.training.config import (PriorRun, TrainError, autocast, execution, grad_scaler, lr_factor,
                                    resolve_device, set_lr, uses_alignment)
from inkgen.training.convergence import convergence_epoch
from inkgen.training.features import FineTunedTextFeatures, PhaseData, TextFeatures, drop_captions
from inkgen.training.loop import LoopState, run_epochs
from inkgen.training.vqgan_phase import TrainResult, _check_images, _fork_rng


def code_streams(vqgan: VQGAN) -> tuple[tuple[tuple[int, int], int], ...]:
    """The VQGAN's code grids in the prior's prediction order (global first, then detail): ((h, w), K)."""
    shapes, sizes = vqgan.code_shapes(), vqgan.codebook_sizes()
    order = [k for k in ("global", "detail") if k in shapes]
    return tuple((shapes[k], sizes[k]) for k in order)


def prior_config(vqgan: VQGAN, text_dim: int, variant: str, **sizes: Any) -> CrossModalConfig:
    """The ``CrossModalConfig`` that fits ``vqgan``'s codes, the text width and the variant; ``sizes``
    (d_model, n_layers, n_heads, dropout, mlp_ratio) come from params."""
    fixed = {"streams": code_streams(vqgan), "text_dim": int(text_dim), "use_alignment": uses_alignment(variant)}
    clash = sorted(set(sizes) & set(fixed))
    if clash:
        raise TrainError(f"prior sizes {clash} are decided by the VQGAN, text encoder and variant, not by params")
    return CrossModalConfig(**sizes, **fixed)


@torch.no_grad()
def encode_codes(vqgan: VQGAN, images: torch.Tensor, batch_size: int = 64,
                 device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Code index grids of ``images`` in stream order, each (N, h, w) int64 on the CPU (VQGAN in eval mode)."""
    was = vqgan.training
    vqgan.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    try:
        for i in range(0, len(images), batch_size):
            _, indices, _, _ = vqgan.encode(images[i:i + batch_size].to(device))
            for k, v in indices.items():
                parts.setdefault(k, []).append(v.long().cpu())
    finally:
        vqgan.train(was)
    return [torch.cat(parts[k]) for k in ("global", "detail") if k in parts]


@torch.no_grad()
def evaluate_prior(model: TextToCodes, codes: list[torch.Tensor], text: TextFeatures | FineTunedTextFeatures,
                   batch_size: int,
                   device: torch.device | str = "cpu") -> float:
    """Mean teacher-forced cross-entropy per code token (eval mode, no dropout)."""
    was = model.training
    model.eval()
    bert = text.encoder if isinstance(text, FineTunedTextFeatures) else None
    bert_was = bert.training if bert is not None else False
    if bert is not None:
        bert.eval()
    total, count = 0.0, 0
    try:
        n = len(codes[0])
        for i in range(0, n, batch_size):
            idx = torch.arange(i, min(i + batch_size, n))
            tokens, mask, pooled = text.batch(idx, device)
            with autocast(torch.device(device)):
                loss = model.loss([c[idx].to(device) for c in codes], tokens, mask, pooled)["loss"]
            total += float(loss.float()) * len(idx)
            count += len(idx)
    finally:
        model.train(was)
        if bert is not None:
            bert.train(bert_was)
    return total / count


def train_prior(config: PriorRun, vqgan: VQGAN, cross_modal_config: CrossModalConfig, data: PhaseData, *,
                params_hash: str, finetune_lr: float | None = None, checkpoint_dir: str | Path | None = None,
                resume: bool = False, stop_after_steps: int | None = None,
                on_epoch: Callable[[dict[str, Any]], None] | None = None, progress: bool = True,
                meta: dict[str, Any] | None = None) -> TrainResult:
    """Train ``TextToCodes`` on the codes of ``data.images`` under the frozen ``vqgan`` (phase 2) as the run
    ``config`` says.

    ``data.text``: the training captions' BERT features; validation (``data.val_images`` +
    ``data.val_text``) defaults to the training data. ``checkpoint_dir``: ``prior-last.pt`` every ``checkpoint_every`` steps and at
    the end (with the VQGAN's weights and config); ``resume=True`` continues from it. ``meta``: JSON-able
    facts stored in the checkpoint as they are (e.g. which text encoder made ``text``).

    ``data.text`` may be :class:`FineTunedTextFeatures`: the BERT is then trained along (at ``finetune_lr``),
    its weights saved in the checkpoint (``text_encoder_state``) and restored on resume and by generation.
    ``config.snapshots``: also keep the prior's weights after every epoch (``prior-epoch-NNN.pt``, see
    :func:`load_snapshot`), so that generation can be shown as training went on.

    Steps: :func:`_check_prior_inputs`, :class:`_PriorRun` (set-up, resume, one teacher-forced step,
    validation and snapshots, checkpoints), :func:`inkgen.training.loop.run_epochs` (the loop).
    """
    val_images, val_text = _check_prior_inputs(config, vqgan, cross_modal_config, data, finetune_lr)
    device = resolve_device(config.device)
    path = checkpoint_path(checkpoint_dir, "prior") if checkpoint_dir is not None else None
    with execution(config, device), _fork_rng(device):
        run = _PriorRun(config, vqgan, cross_modal_config, data, val_images, val_text, device=device,
                        finetune_lr=finetune_lr, params_hash=params_hash, meta=meta)
        if resume and path is not None and path.exists():
            run.restore(path)
        run.wrap_for_training()
        complete, seconds, seen = run.epochs(path, stop_after_steps=stop_after_steps, on_epoch=on_epoch,
                                             progress=progress)
    run.model.eval()
    return TrainResult(model=run.model, history=run.state.history, steps=run.state.step, complete=complete,
                       converged_epoch=run.converged(), images_per_second=seen / seconds if seconds else 0.0,
                       checkpoint=path if path is not None and path.exists() else None, codes=run.codes)


def _check_prior_inputs(config: PriorRun, vqgan: VQGAN, cross_modal_config: CrossModalConfig, data: PhaseData,
                        finetune_lr: float | None) -> tuple[torch.Tensor, TextFeatures | FineTunedTextFeatures]:
    """``data`` and ``cross_modal_config`` checked against the VQGAN and the variant, and fine-tuning against
    ``finetune_lr`` and the process count (a ``TrainError`` names the input and the reason); returns the
    validation images and text (default: the training ones)."""
    images, text, val_images, val_text = data.images, data.text, data.val_images, data.val_text
    res = vqgan.config.resolution
    _check_images(images, res, "training images")
    if val_images is None:
        val_images, val_text = images, text
    _check_images(val_images, res, "validation images")
    for what, imgs, feats in (("training", images, text), ("validation", val_images, val_text)):
        if feats is None or len(feats) != len(imgs):
            raise TrainError(f"{what} text: need TextFeatures for each of the {len(imgs)} images, got "
                             f"{None if feats is None else len(feats)}")
    expected = prior_config(vqgan, text.dim, config.variant)
    for field in ("streams", "text_dim", "use_alignment"):
        if getattr(cross_modal_config, field) != getattr(expected, field):
            raise TrainError(f"CrossModalConfig.{field}={getattr(cross_modal_config, field)!r} does not fit the "
                             f"VQGAN / text features / variant {config.variant!r} (expected "
                             f"{getattr(expected, field)!r}); build it with prior_config()")
    if isinstance(text, FineTunedTextFeatures) and not (finetune_lr and finetune_lr > 0):
        raise TrainError(f"fine-tuning the text encoder needs finetune_lr > 0, got {finetune_lr!r}")
    if config.uncond_prob > 0:
        if isinstance(text, FineTunedTextFeatures):
            raise TrainError("prior_train.uncond_prob > 0 with text_encoder.finetune: condition dropout uses the "
                             "frozen BERT's features of the empty caption, which a fine-tuned BERT would leave "
                             "stale; set uncond_prob 0 or keep the BERT frozen")
        empty = data.empty_text
        if empty is None or len(empty) != 1 or empty.dim != text.dim:
            raise TrainError(f"prior_train.uncond_prob={config.uncond_prob} needs PhaseData.empty_text, the empty "
                             f"caption's {text.dim}-d features in one row (empty_caption_features), got "
                             f"{None if empty is None else tuple(empty.tokens.shape)}")
    if isinstance(text, FineTunedTextFeatures) and distributed.world().active:
        raise TrainError("text_encoder.finetune with train.nproc > 1: fine-tuning the BERT is not data-parallel "
                         "yet (its gradients would not be synchronised); train with nproc 1 or a frozen BERT")
    return val_images, val_text


class _PriorRun:
    """One phase-2 run in progress: the frozen VQGAN's codes, the prior (and the BERT when it is fine-tuned),
    AdamW (betas (0.9, 0.95), weight decay 0.01) and its grad scaler, the loop state; and its steps."""

    def __init__(self, config: PriorRun, vqgan: VQGAN, cross_modal_config: CrossModalConfig, data: PhaseData,
                 val_images: torch.Tensor, val_text: TextFeatures | FineTunedTextFeatures, *, device: torch.device,
                 finetune_lr: float | None, params_hash: str, meta: dict[str, Any] | None) -> None:
        """Set-up: the codes of the training (and validation) images under the frozen VQGAN, then the
        prior, whose initialisation draws from the global RNG seeded with ``config.seed``."""
        self.config, self.vqgan, self.cross_modal_config, self.device = config, vqgan, cross_modal_config, device
        self.text, self.val_text, self.params_hash, self.meta = data.text, val_text, params_hash, meta
        self.empty_text = data.empty_text if config.uncond_prob > 0 else None
        images = data.images
        vqgan.to(device).eval().requires_grad_(False)  # frozen: phase 2 never changes it
        self.codes = encode_codes(vqgan, images, config.batch_size, device)
        self.val_codes = self.codes if val_images is images else encode_codes(vqgan, val_images,
                                                                               config.batch_size, device)
        torch.manual_seed(config.seed)
        self.model = TextToCodes(cross_modal_config).to(device)
        self.groups = [{"params": list(self.model.parameters())}]
        self.bert = self.text.encoder if isinstance(self.text, FineTunedTextFeatures) else None
        if self.bert is not None:  # fine-tuning: the BERT learns too, with its own (smaller) learning rate
            self.bert.to(device).train()
            trained = [p for p in self.bert.parameters() if p.requires_grad]
            self.groups.append({"params": trained, "lr": finetune_lr})
        self.opt = torch.optim.AdamW(self.groups, lr=config.lr, betas=(0.9, 0.95), weight_decay=0.01)
        self.base_lrs = [g.get("lr", config.lr) for g in self.opt.param_groups]
        self.n = len(images)
        self.total_steps = config.epochs * math.ceil(self.n / min(config.batch_size, self.n))
        self.scaler = grad_scaler(device)
        self.state = LoopState()
        self.prior_loss: Callable[..., dict[str, torch.Tensor]] = self.model.loss

    def restore(self, path: Path) -> None:
        """Resume from this run's checkpoint ``path`` (refused when it is of other configs or another VQGAN):
        weights, optimiser, scaler and RNG states and the loop state all come from it."""
        ck = load_checkpoint(path, params_hash=self.params_hash, phase="prior")
        for key, mine in (("train_config", self.config.to_dict()), ("vqgan_config", self.vqgan.config.to_dict()),
                          ("cross_modal_config", self.cross_modal_config.to_dict())):
            if ck.get(key) != mine:
                raise CheckpointError(f"{path}: its {key} {ck.get(key)} differs from the current {mine}")
        mine = self.vqgan.state_dict()
        if set(ck["vqgan"]) != set(mine) or not all(torch.equal(ck["vqgan"][k], mine[k].cpu()) for k in mine):
            raise CheckpointError(f"{path}: was trained on a VQGAN with other weights than the one given")
        self.model.load_state_dict(ck["model"])
        if self.bert is not None:
            self.bert.bert.load_state_dict(ck["text_encoder_state"])
        self.opt.load_state_dict(ck["opt"])
        self.scaler.load_state_dict(ck["scaler"]) if ck["scaler"] else None
        set_rng_state(ck["rng"], self.device)
        self.state = LoopState.from_dict(ck["loop"])

    def wrap_for_training(self) -> None:
        """Training mode; the prior's loss through DDP when there are N > 1 processes."""
        self.model.train()
        self.prior_loss = distributed.wrap(self.model, method="loss")  # one process: model.loss

    def converged(self) -> int | None:
        """The paper's convergence epoch on the validation cross-entropy."""
        return convergence_epoch([h["val_loss"] for h in self.state.history], self.config.convergence_window,
                                 self.config.convergence_min_rel_improvement)

    def save(self, path: Path, complete: bool = False) -> None:
        """The run's whole state, with the frozen VQGAN's weights, to ``path`` (``complete``: the run's end)."""
        save_checkpoint(path, {
            "phase": "prior", "params_hash": self.params_hash, "complete": complete,
            "train_config": self.config.to_dict(), "vqgan_config": self.vqgan.config.to_dict(),
            "cross_modal_config": self.cross_modal_config.to_dict(), "step": self.state.step,
            "loop": self.state.to_dict(), "vqgan": self.vqgan.state_dict(), "model": self.model.state_dict(),
            "opt": self.opt.state_dict(), "scaler": self.scaler.state_dict(), "rng": rng_state(self.device),
            "converged_epoch": self.converged(), "meta": dict(self.meta or {}),
            "text_encoder_state": self.bert.bert.state_dict() if self.bert is not None else None,
        })

    def step(self, idx: torch.Tensor) -> dict[str, float]:
        """One optimisation step on the samples ``idx``: the learning rate of the schedule, then AdamW on the
        teacher-forced cross-entropy of the codes given the text (the Transformer stacked decoder with eq.
        11's cross-modal alignment, or without it for ``no_transformer``), the gradient norm clipped to 1;
        the batch's losses. With ``uncond_prob`` > 0 each caption is replaced by the empty one with that
        probability (a draw of the global RNG, which checkpoints keep), so the same network also learns the
        codes' distribution without text, the other half of classifier-free guidance."""
        set_lr(self.opt, self.base_lrs, lr_factor(self.config.lr_schedule, self.state.step, self.total_steps))
        batch = self.text.batch(idx, self.device)
        if self.empty_text is not None:
            batch = drop_captions(batch, self.empty_text, torch.rand(len(idx)) < self.config.uncond_prob)
        tokens, mask, pooled = batch
        with autocast(self.device):
            out = self.prior_loss([c[idx].to(self.device) for c in self.codes], tokens, mask, pooled)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(out["loss"]).backward()
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_([p for g in self.groups for p in g["params"]], 1.0)
        self.scaler.step(self.opt)
        self.scaler.update()
        return {k: float(v.detach()) for k, v in out.items()}

    def validate(self, path: Path | None, means: dict[str, float]) -> dict[str, float]:
        """The epoch's history entry: its mean training losses and the validation cross-entropy
        (:func:`evaluate_prior`); before that, with ``snapshots``, rank 0 keeps the prior's weights."""
        if self.config.snapshots and path is not None and distributed.is_main():
            self.snapshot(path.parent)  # the prior as it was after this epoch (paper Figure 12)
        return {**means, "val_loss": evaluate_prior(self.model, self.val_codes, self.val_text, self.config.batch_size,
                                                    self.device)}

    def snapshot(self, directory: Path) -> None:
        """The prior's weights after the current epoch, to ``prior-epoch-NNN.pt`` in ``directory``."""
        epoch = self.state.epoch + 1
        save_checkpoint(snapshot_path(directory, epoch),
                        {"phase": "prior-snapshot", "params_hash": self.params_hash, "epoch": epoch,
                         "train_config": self.config.to_dict(), "step": self.state.step,
                         "model": self.model.state_dict()})

    def epochs(self, path: Path | None, *, stop_after_steps: int | None,
               on_epoch: Callable[[dict[str, Any]], None] | None, progress: bool) -> tuple[bool, float, int]:
        """The remaining epochs (:func:`run_epochs`); rank 0 writes ``path`` every ``checkpoint_every`` steps
        and at the end."""
        config, writes = self.config, path is not None and distributed.is_main()
        complete, seconds, seen = run_epochs(
            self.state, n=self.n, batch_size=config.batch_size, epochs=config.epochs,
            seed=config.seed, step_fn=self.step,
            epoch_end_fn=lambda means: self.validate(path, means),
            save_fn=(lambda: self.save(path)) if writes else None,
            checkpoint_every=config.checkpoint_every, stop_after_steps=stop_after_steps, on_epoch=on_epoch,
            progress=progress, desc=f"prior[{config.variant}]")
        if complete and writes:
            self.save(path, complete=True)
        return complete, seconds, seen


def snapshot_path(directory: str | Path, epoch: int) -> Path:
    return Path(directory) / f"prior-epoch-{int(epoch):03d}.pt"


def load_snapshot(path: str | Path, prior: TextToCodes, params_hash: str | None = None) -> TextToCodes:
    """A copy of ``prior`` (the final model of the same run) with the weights of snapshot ``path``."""
    ck = load_checkpoint(path, params_hash=params_hash, phase="prior-snapshot")
    snap = copy.deepcopy(prior)
    snap.load_state_dict(ck["model"])
    return snap.eval()


def load_trained(path: str | Path, params_hash: str | None = None) -> tuple[VQGAN, TextToCodes | None, dict]:
    """The models of a training checkpoint (architecture read from it), in eval mode, and the checkpoint.

    ``params_hash``: when given, a checkpoint of other params is refused. A ``vqgan`` checkpoint has no prior.
    """

    ck = load_checkpoint(path, params_hash=params_hash)
    vqgan = VQGAN(VQGANConfig.from_dict(ck["vqgan_config"]))
    vqgan.load_state_dict(ck["model"] if ck["phase"] == "vqgan" else ck["vqgan"])
    prior = None
    if ck["phase"] == "prior":
        prior = TextToCodes(CrossModalConfig.from_dict(ck["cross_modal_config"]))
        prior.load_state_dict(ck["model"])
        prior.eval()
    return vqgan.eval(), prior, ck

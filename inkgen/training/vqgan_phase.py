"""Phase 1: training the improved VQGAN with eq. 14,

    L_total = L_recon + beta * L_vq + eta * L_GAN + lambda * L_CLIP                      (eq. 14)

``L_CLIP`` is eq. 13, ``1 - cos(v_t, v_k)``, between the frozen CLIP's text embedding ``v_t`` of each
caption and its image embedding ``v_k`` of the reconstruction; it is only computed when lambda > 0
(lambda is 0 for the ``no_clip`` and ``vqgan`` variants). The decoder receives the BERT pooled text
vector when the config has ``text_style_norm`` (eq. 8). The PatchGAN discriminator trains with the hinge
loss from ``disc_start`` on, in alternation with the generator (taming-transformers' two optimisers,
Adam with betas (0.5, 0.9)); ``L_CLIP`` joins from ``clip_start``; the learning rate is constant or
follows a cosine to 0 over the phase (``lr_schedule``). Each epoch logs the mean training losses and, on the
validation images, ``L_recon + beta * L_vq`` (the curve of the convergence rule), PSNR and codebook usage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.losses import VQGANLoss
from inkgen.training import distributed
from inkgen.training.checkpoint import (CheckpointError, branch_path, checkpoint_path, load_checkpoint,
                                        rng_state, save_checkpoint, set_rng_state)
from inkgen.training.config import (VQGANRun, TrainError, autocast, effective_lambda, execution,
                                    grad_scaler, lr_factor, resolve_device, set_lr)
from inkgen.training.convergence import convergence_epoch
from inkgen.training.features import PhaseData, TextFeatures, clip_text_features
from inkgen.training.loop import LoopState, run_epochs


@dataclass
class TrainResult:
    """What a phase produced; every number was measured by the run (timing only over this call)."""

    model: nn.Module
    history: list[dict[str, float]]
    steps: int
    complete: bool                        # False: stopped by ``stop_after_steps``
    converged_epoch: int | None
    images_per_second: float              # training steps only (validation excluded), this call
    checkpoint: Path | None
    discriminator: nn.Module | None = None
    codes: list[torch.Tensor] | None = None   # phase 2: the training codes, stream order


def generator_objective(model: VQGAN, loss_fn: VQGANLoss, x: torch.Tensor, step: int, *,
                        pooled: torch.Tensor | None = None, clip=None, clip_text: torch.Tensor | None = None,
                        clip_start: int = 0) -> tuple[torch.Tensor, dict[str, float], Any]:
    """Eq. 14 for one batch: (loss, logs, VQGANOutput). ``L_CLIP`` is computed only when
    ``loss_fn.lam > 0`` and ``step >= clip_start`` (then ``clip`` and ``clip_text`` (B, D) are required):
    like taming's ``disc_start`` for the GAN, the CLIP term joins once the reconstruction has formed, since
    CLIP's gradient on an unformed reconstruction costs a CLIP forward and backward for little signal."""
    out = model(x, pooled if model.config.text_style_norm else None)
    clip_loss = None
    if loss_fn.lam > 0 and step >= clip_start:
        if clip is None or clip_text is None:
            raise TrainError("lambda_clip > 0 needs a CLIP model and the captions' CLIP text features")
        from inkgen.models.clip import clip_guidance_loss  # open_clip only when CLIP guides (5 s import)

        clip_loss = clip_guidance_loss(clip, out.recon, clip_text)
    loss, log = loss_fn.generator_loss(x, out.recon, out.vq_loss, step, last_layer=model.last_layer(),
                                       clip_loss=clip_loss)
    return loss, log, out


@torch.no_grad()
def evaluate_vqgan(model: VQGAN, images: torch.Tensor, *, beta: float, batch_size: int,
                   pooled: torch.Tensor | None = None, device: torch.device | str = "cpu") -> dict[str, float]:
    """On ``images`` (N, 3, R, R) in [-1, 1]: ``val_rec`` (L1), ``val_vq``, ``val_loss`` = rec + beta*vq,
    ``val_psnr`` (dB, images mapped to [0, 1]) and per codebook the share of codes used and perplexity."""
    was = model.training
    model.eval()
    rec = vq = psnr = 0.0
    idx: dict[str, list[torch.Tensor]] = {}
    try:
        for i in range(0, len(images), batch_size):
            x = images[i:i + batch_size].to(device)
            p = pooled[i:i + batch_size].to(device) if pooled is not None else None
            with autocast(torch.device(device)):
                out = model(x, p if model.config.text_style_norm else None)
            r = out.recon.float().clamp(-1, 1)
            rec += float((r - x).abs().mean()) * len(x)
            vq += float(out.vq_loss.float()) * len(x)
            mse = ((r - x) / 2).pow(2).flatten(1).mean(1).clamp_min(1e-10)  # [0, 1] scale, per image
            psnr += float((10 * torch.log10(1.0 / mse)).sum())
            for k, v in out.indices.items():
                idx.setdefault(k, []).append(v.flatten().cpu())
    finally:
        model.train(was)
    n = len(images)
    res = {"val_rec": rec / n, "val_vq": vq / n, "val_loss": (rec + beta * vq) / n, "val_psnr": psnr / n}
    sizes = model.codebook_sizes()
    for k, parts in sorted(idx.items()):
        counts = torch.bincount(torch.cat(parts), minlength=sizes[k]).double()
        prob = counts / counts.sum()
        res[f"val_{k}_usage"] = float((counts > 0).double().mean())
        res[f"val_{k}_perplexity"] = float(torch.exp(-(prob * prob.clamp_min(1e-12).log()).sum()))
    return res


def _check_images(images: torch.Tensor, resolution: int, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (3, resolution,
                                                                                                 resolution):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise TrainError(f"{what}: expected a float tensor (N, 3, {resolution}, {resolution}) in [-1, 1], "
                         f"got {shape}")
    if len(images) == 0:
        raise TrainError(f"{what}: no images")


def _check_text(text: TextFeatures | None, n: int, dim: int, what: str) -> None:
    if text is None:
        raise TrainError(f"{what}: the VQGAN has text_style_norm, so its decoder needs the BERT pooled text "
                         "vectors (pass TextFeatures)")
    if len(text) != n or text.dim != dim:
        raise TrainError(f"{what}: TextFeatures of {len(text)} captions x {text.dim} dims do not fit {n} "
                         f"images and the VQGAN's text_dim {dim}")


def _fork_rng(device: torch.device):
    """Training draws from the global RNG (dead-code re-initialisation, dropout); fork it so that the
    caller's RNG is left as it was."""
    if device.type == "cuda":
        return torch.random.fork_rng(devices=[device.index or 0])
    return torch.random.fork_rng(devices=[])


def train_vqgan(config: VQGANRun, vqgan_config: VQGANConfig, data: PhaseData, *, params_hash: str, clip=None,
                checkpoint_dir: str | Path | None = None, resume: bool = False, branch_at: int | None = None,
                branch_from: str | Path | None = None, stop_after_steps: int | None = None,
                on_epoch: Callable[[dict[str, Any]], None] | None = None, progress: bool = True) -> TrainResult:
    """Train a VQGAN of ``vqgan_config`` on ``data`` (phase 1) as the run ``config`` says.

    ``data.text``: precomputed BERT features of the captions (needed when ``text_style_norm``). ``clip``:
    the CLIP guide (frozen here), needed when lambda > 0, with ``data.captions`` or precomputed
    ``data.clip_text`` (N, D). Validation (``data.val_images``, with ``data.val_text``) defaults to the
    training images.
    ``checkpoint_dir``: ``vqgan-last.pt`` is written there every ``checkpoint_every`` steps and at the
    end; ``resume=True`` continues from it when it exists (refused if corrupt or of other params).

    Branching: ``branch_at`` (a run without CLIP guidance) also keeps its whole state at that step
    (``vqgan-branch.pt`` in ``checkpoint_dir``). ``branch_from`` (that file) starts a run which differs
    from the one that wrote it only by the CLIP term from ``clip_start`` on (same VQGAN config, params and
    seed) at that state instead of from scratch: until ``clip_start`` the two runs are the same computation,
    so the result is the same as training from step 0 (tests/test_train.py checks it bit for bit).

    Steps: :func:`_phase1_data` (inputs checked), :class:`_Phase1Run` (set-up, resume or branch, one step of
    eq. 14, validation, checkpoints), :func:`inkgen.training.loop.run_epochs` (the loop).
    """
    inputs = _phase1_data(config, vqgan_config, data, clip)
    path = checkpoint_path(checkpoint_dir, "vqgan") if checkpoint_dir is not None else None
    with execution(config, inputs.device), _fork_rng(inputs.device):
        run = _Phase1Run(config, vqgan_config, inputs, params_hash=params_hash, clip=clip)
        own = resume and path is not None and path.exists()
        if own or branch_from is not None:
            run.restore(path if own else Path(branch_from), own=own)
        run.wrap_for_training()
        complete, seconds, seen = run.epochs(path, branch_at=branch_at, stop_after_steps=stop_after_steps,
                                             on_epoch=on_epoch, progress=progress)
    run.model.eval()
    return TrainResult(model=run.model, history=run.state.history, steps=run.state.step, complete=complete,
                       converged_epoch=run.converged(), images_per_second=seen / seconds if seconds else 0.0,
                       checkpoint=path if path is not None and path.exists() else None,
                       discriminator=run.loss_fn.discriminator)


@dataclass
class _Phase1Data:
    """The checked inputs of a phase-1 run: the training images, their BERT pooled vectors for the decoder's
    text style norm (eq. 8; None without ``text_style_norm``) and their CLIP text embeddings v_t (eq. 13;
    used only when lambda > 0), the validation images and their pooled vectors, lambda of eq. 14 and the
    device."""

    images: torch.Tensor
    pooled: torch.Tensor | None
    clip_text: torch.Tensor | None
    val_images: torch.Tensor
    val_pooled: torch.Tensor | None
    lam: float
    device: torch.device


def _phase1_data(config: VQGANRun, vqgan_config: VQGANConfig, data: PhaseData, clip) -> _Phase1Data:
    """``data`` checked against ``vqgan_config`` (a ``TrainError`` names the input and the reason), the
    validation set defaulted to the training set, lambda of eq. 14 for the variant (0 without CLIP
    guidance) and, when it is > 0, the CLIP guide made ready (:func:`_clip_guide`)."""
    images, text, clip_text = data.images, data.text, data.clip_text
    val_images, val_text = data.val_images, data.val_text
    _check_images(images, vqgan_config.resolution, "training images")
    n = len(images)
    if val_images is None:
        val_images, val_text = images, text
    _check_images(val_images, vqgan_config.resolution, "validation images")
    if vqgan_config.text_style_norm:
        _check_text(text, n, vqgan_config.text_dim, "training text")
        _check_text(val_text, len(val_images), vqgan_config.text_dim, "validation text")
    lam = effective_lambda(config)
    device = resolve_device(config.device)
    if lam > 0:
        clip_text = _clip_guide(config, clip, data.captions, clip_text, n, device)
    pooled = text.pooled if (text is not None and vqgan_config.text_style_norm) else None
    val_pooled = val_text.pooled if (val_text is not None and vqgan_config.text_style_norm) else None
    return _Phase1Data(images, pooled, clip_text, val_images, val_pooled, lam, device)


def _clip_guide(config: VQGANRun, clip, captions: list[str] | None, clip_text: torch.Tensor | None, n: int,
                device: torch.device) -> torch.Tensor:
    """For L_CLIP (eq. 13): ``clip`` frozen on ``device``, and the CLIP text embeddings v_t of the ``n``
    training captions (``clip_text`` when given, else computed from ``captions``)."""
    if clip is None:
        raise TrainError(f"variant {config.variant!r} with lambda_clip={config.lambda_clip} needs a CLIP model")
    from inkgen.models.clip import freeze  # open_clip only when CLIP guides (5 s import)

    freeze(clip).to(device)
    if clip_text is None:
        if captions is None or len(captions) != n:
            raise TrainError(f"CLIP guidance needs one caption per training image ({n}), got "
                             f"{None if captions is None else len(captions)}")
        clip_text = clip_text_features(clip, captions)
    if len(clip_text) != n:
        raise TrainError(f"clip_text has {len(clip_text)} rows for {n} training images")
    return clip_text


class _Phase1Run:
    """One phase-1 run in progress: the VQGAN, the loss of eq. 14 with its PatchGAN, taming's two Adam
    optimisers (betas (0.5, 0.9)) and grad scalers, the loop state; and its steps."""

    def __init__(self, config: VQGANRun, vqgan_config: VQGANConfig, inputs: _Phase1Data, *, params_hash: str,
                 clip) -> None:
        """Set-up: the models' initialisation draws from the global RNG seeded with ``config.seed``."""
        self.config, self.vqgan_config, self.inputs = config, vqgan_config, inputs
        self.params_hash, self.clip, device = params_hash, clip, inputs.device
        torch.manual_seed(config.seed)
        self.model = VQGAN(vqgan_config, seed=config.seed).to(device)
        self.loss_fn = VQGANLoss(vqgan_config, beta=config.beta, eta=config.eta, lam=inputs.lam,
                                 disc_start=config.disc_start).to(device)
        self.opt_g = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.loss_fn.discriminator.parameters(), lr=config.lr, betas=(0.5, 0.9))
        n = len(inputs.images)
        self.total_steps = config.epochs * math.ceil(n / min(config.batch_size, n))
        self.scaler_g, self.scaler_d = grad_scaler(device), grad_scaler(device)
        self.state = LoopState()
        self.net: nn.Module = self.model  # what the steps call: in DDP after wrap_for_training() when N > 1

    def restore(self, start: Path, *, own: bool) -> None:
        """Continue from the checkpoint ``start``: this run's own (``own``: resume) or its twin's branch
        point; weights, optimiser, scaler and RNG states and the loop state all come from it."""
        ck = load_checkpoint(start, params_hash=self.params_hash, phase="vqgan")
        self._check_source(ck, start, own)
        self.model.load_state_dict(ck["model"])
        self.loss_fn.discriminator.load_state_dict(ck["discriminator"])
        self.opt_g.load_state_dict(ck["opt_g"])
        self.opt_d.load_state_dict(ck["opt_d"])
        self.scaler_g.load_state_dict(ck["scaler_g"]) if ck["scaler_g"] else None
        self.scaler_d.load_state_dict(ck["scaler_d"]) if ck["scaler_d"] else None
        set_rng_state(ck["rng"], self.inputs.device)
        self.state = LoopState.from_dict(ck["loop"])

    def _check_source(self, ck: dict[str, Any], start: Path, own: bool) -> None:
        """Refuse (``CheckpointError`` naming ``start``) a checkpoint of another run: other configs, or a
        twin's state that is not at this run's ``clip_start``."""
        # a branch comes from the twin run: every value the same but the variant (hence lambda)
        ignore = () if own else ("variant",)
        theirs = {k: v for k, v in (ck.get("train_config") or {}).items() if k not in ignore}
        for key, have, mine in (("train_config", theirs, {k: v for k, v in self.config.to_dict().items()
                                                          if k not in ignore}),
                                ("vqgan_config", ck.get("vqgan_config"), self.vqgan_config.to_dict())):
            if have != mine:
                raise CheckpointError(f"{start}: its {key} {have} differs from the current {mine}")
        if not own and ck["step"] != min(self.config.clip_start, self.total_steps):
            raise CheckpointError(f"{start}: holds the state at step {ck['step']}, not at clip_start "
                                  f"{self.config.clip_start}; it was not written as this run's branch point")

    def wrap_for_training(self) -> None:
        """Training mode; the VQGAN and the PatchGAN in DDP when there are N > 1 processes."""
        self.model.train()
        self.loss_fn.train()
        self.net = distributed.wrap(self.model)
        self.loss_fn.discriminator = distributed.wrap(self.loss_fn.discriminator)

    def save(self, to: Path, complete: bool = False) -> None:
        """The run's whole state to ``to`` (``complete``: the run's end)."""
        save_checkpoint(to, {
            "phase": "vqgan", "params_hash": self.params_hash, "complete": complete,
            "train_config": self.config.to_dict(), "vqgan_config": self.vqgan_config.to_dict(),
            "cross_modal_config": None, "step": self.state.step, "loop": self.state.to_dict(),
            "model": self.model.state_dict(), "discriminator": self.loss_fn.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(), "scaler_d": self.scaler_d.state_dict(),
            "rng": rng_state(self.inputs.device), "converged_epoch": self.converged(),
        })

    def converged(self) -> int | None:
        """The paper's convergence epoch on the validation curve L_recon + beta * L_vq."""
        losses = [h["val_loss"] for h in self.state.history]
        return convergence_epoch(losses, self.config.convergence_window, self.config.convergence_min_rel_improvement)

    def step(self, idx: torch.Tensor) -> dict[str, float]:
        """One optimisation step on the samples ``idx``: the learning rate of the schedule, the generator
        on eq. 14, then the PatchGAN on the hinge loss once ``disc_start`` is reached (with eta > 0); the
        batch's logs (the losses, then the quantizer's statistics)."""
        inputs, config, device = self.inputs, self.config, self.inputs.device
        x = inputs.images[idx].to(device)
        p = inputs.pooled[idx].to(device) if inputs.pooled is not None else None
        ct = inputs.clip_text[idx].to(device) if inputs.lam > 0 else None
        factor = lr_factor(config.lr_schedule, self.state.step, self.total_steps)
        set_lr(self.opt_g, [config.lr], factor)
        set_lr(self.opt_d, [config.lr], factor)
        log, out = self._generator_step(x, p, ct)
        if self.state.step >= config.disc_start and config.eta > 0:
            log.update(self._discriminator_step(x, out))
        else:
            log.update(d_loss=0.0, logits_real=0.0, logits_fake=0.0)
        log.update({k: float(v) for k, v in out.stats.items()})
        return log

    def _generator_step(self, x: torch.Tensor, p: torch.Tensor | None,
                        ct: torch.Tensor | None) -> tuple[dict[str, float], Any]:
        """The VQGAN's update on L_total of eq. 14 (:func:`generator_objective`; L_CLIP of eq. 13 from
        ``clip_start`` when lambda > 0); its logs and output."""
        with autocast(self.inputs.device):
            loss, log, out = generator_objective(self.net, self.loss_fn, x, self.state.step, pooled=p,
                                                 clip=self.clip, clip_text=ct, clip_start=self.config.clip_start)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        return log, out

    def _discriminator_step(self, x: torch.Tensor, out: Any) -> dict[str, float]:
        """The PatchGAN's update on the hinge loss, real ``x`` against the (detached) reconstruction."""
        with autocast(self.inputs.device):
            d_loss, d_log = self.loss_fn.discriminator_loss(x, out.recon.detach(), self.state.step)
        self.opt_d.zero_grad(set_to_none=True)  # also clears what the generator's L_GAN left on D
        self.scaler_d.scale(d_loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        return d_log

    def validate(self, means: dict[str, float]) -> dict[str, float]:
        """The epoch's history entry: its mean training losses and :func:`evaluate_vqgan` on the validation
        images."""
        val = evaluate_vqgan(self.model, self.inputs.val_images, beta=self.config.beta,
                             batch_size=self.config.batch_size, pooled=self.inputs.val_pooled,
                             device=self.inputs.device)
        return {**means, **val}

    def epochs(self, path: Path | None, *, branch_at: int | None, stop_after_steps: int | None,
               on_epoch: Callable[[dict[str, Any]], None] | None, progress: bool) -> tuple[bool, float, int]:
        """The remaining epochs (:func:`run_epochs`); rank 0 writes ``path`` every ``checkpoint_every``
        steps and at the end, and the state at ``branch_at`` to ``vqgan-branch.pt`` beside it."""
        config, writes = self.config, path is not None and distributed.is_main()
        complete, seconds, seen = run_epochs(
            self.state, n=len(self.inputs.images), batch_size=config.batch_size, epochs=config.epochs,
            seed=config.seed, step_fn=self.step, epoch_end_fn=self.validate,
            save_fn=(lambda: self.save(path)) if writes else None,
            checkpoint_every=config.checkpoint_every, stop_after_steps=stop_after_steps, on_epoch=on_epoch,
            progress=progress, desc=f"vqgan[{config.variant}]",
            branch=(min(branch_at, self.total_steps), lambda: self.save(branch_path(path.parent)))
            if branch_at is not None and writes else None)
        if complete and writes:
            self.save(path, complete=True)
        self.loss_fn.discriminator = distributed.unwrap(self.loss_fn.discriminator)
        return complete, seconds, seen

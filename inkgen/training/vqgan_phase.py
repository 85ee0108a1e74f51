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

from inkgen.models.vqgan import VQGAN, VQGANConfig, VQGANLoss
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
    so the result is the same as training from step 0 (tests/test_training.py checks it bit for bit).
    """
    images, text, captions, clip_text = data.images, data.text, data.captions, data.clip_text
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
    path = checkpoint_path(checkpoint_dir, "vqgan") if checkpoint_dir is not None else None
    pooled = text.pooled if (text is not None and vqgan_config.text_style_norm) else None
    val_pooled = val_text.pooled if (val_text is not None and vqgan_config.text_style_norm) else None

    with execution(config, device), _fork_rng(device):
        torch.manual_seed(config.seed)
        model = VQGAN(vqgan_config, seed=config.seed).to(device)
        loss_fn = VQGANLoss(vqgan_config, beta=config.beta, eta=config.eta, lam=lam,
                            disc_start=config.disc_start).to(device)
        opt_g = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(loss_fn.discriminator.parameters(), lr=config.lr, betas=(0.5, 0.9))
        total_steps = config.epochs * math.ceil(n / min(config.batch_size, n))
        scaler_g, scaler_d = grad_scaler(device), grad_scaler(device)
        state = LoopState()
        own = resume and path is not None and path.exists()
        if own or branch_from is not None:
            start = path if own else Path(branch_from)
            ck = load_checkpoint(start, params_hash=params_hash, phase="vqgan")
            # a branch comes from the twin run: every value the same but the variant (hence lambda)
            ignore = () if own else ("variant",)
            theirs = {k: v for k, v in (ck.get("train_config") or {}).items() if k not in ignore}
            for key, have, mine in (("train_config", theirs, {k: v for k, v in config.to_dict().items()
                                                              if k not in ignore}),
                                    ("vqgan_config", ck.get("vqgan_config"), vqgan_config.to_dict())):
                if have != mine:
                    raise CheckpointError(f"{start}: its {key} {have} differs from the current {mine}")
            if not own and ck["step"] != min(config.clip_start, total_steps):
                raise CheckpointError(f"{start}: holds the state at step {ck['step']}, not at clip_start "
                                      f"{config.clip_start}; it was not written as this run's branch point")
            model.load_state_dict(ck["model"])
            loss_fn.discriminator.load_state_dict(ck["discriminator"])
            opt_g.load_state_dict(ck["opt_g"])
            opt_d.load_state_dict(ck["opt_d"])
            scaler_g.load_state_dict(ck["scaler_g"]) if ck["scaler_g"] else None
            scaler_d.load_state_dict(ck["scaler_d"]) if ck["scaler_d"] else None
            set_rng_state(ck["rng"], device)
            state = LoopState.from_dict(ck["loop"])
        model.train()
        loss_fn.train()
        net, loss_fn.discriminator = distributed.wrap(model), distributed.wrap(loss_fn.discriminator)  # DDP if N > 1

        def save(complete: bool = False, to: Path | None = None) -> None:
            save_checkpoint(to or path, {
                "phase": "vqgan", "params_hash": params_hash, "complete": complete,
                "train_config": config.to_dict(), "vqgan_config": vqgan_config.to_dict(),
                "cross_modal_config": None, "step": state.step, "loop": state.to_dict(),
                "model": model.state_dict(), "discriminator": loss_fn.discriminator.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "scaler_g": scaler_g.state_dict(), "scaler_d": scaler_d.state_dict(), "rng": rng_state(device),
                "converged_epoch": _converged(state),
            })

        def _converged(st: LoopState) -> int | None:
            losses = [h["val_loss"] for h in st.history]
            return convergence_epoch(losses, config.convergence_window, config.convergence_min_rel_improvement)

        def step_fn(idx: torch.Tensor) -> dict[str, float]:
            x = images[idx].to(device)
            p = pooled[idx].to(device) if pooled is not None else None
            ct = clip_text[idx].to(device) if lam > 0 else None
            factor = lr_factor(config.lr_schedule, state.step, total_steps)
            set_lr(opt_g, [config.lr], factor)
            set_lr(opt_d, [config.lr], factor)
            with autocast(device):
                loss, log, out = generator_objective(net, loss_fn, x, state.step, pooled=p, clip=clip,
                                                     clip_text=ct, clip_start=config.clip_start)
            opt_g.zero_grad(set_to_none=True)
            scaler_g.scale(loss).backward()
            scaler_g.step(opt_g)
            scaler_g.update()
            if state.step >= config.disc_start and config.eta > 0:
                with autocast(device):
                    d_loss, d_log = loss_fn.discriminator_loss(x, out.recon.detach(), state.step)
                opt_d.zero_grad(set_to_none=True)  # also clears what the generator's L_GAN left on D
                scaler_d.scale(d_loss).backward()
                scaler_d.step(opt_d)
                scaler_d.update()
                log.update(d_log)
            else:
                log.update(d_loss=0.0, logits_real=0.0, logits_fake=0.0)
            log.update({k: float(v) for k, v in out.stats.items()})
            return log

        def epoch_end(means: dict[str, float]) -> dict[str, float]:
            val = evaluate_vqgan(model, val_images, beta=config.beta, batch_size=config.batch_size,
                                 pooled=val_pooled, device=device)
            return {**means, **val}

        complete, seconds, seen = run_epochs(
            state, n=n, batch_size=config.batch_size, epochs=config.epochs, seed=config.seed, step_fn=step_fn,
            epoch_end_fn=epoch_end, save_fn=save if path is not None and distributed.is_main() else None,
            checkpoint_every=config.checkpoint_every, stop_after_steps=stop_after_steps, on_epoch=on_epoch,
            progress=progress, desc=f"vqgan[{config.variant}]",
            branch=(min(branch_at, total_steps), lambda: save(to=branch_path(path.parent)))
            if branch_at is not None and path is not None and distributed.is_main() else None)
        if complete and path is not None and distributed.is_main():
            save(complete=True)
        loss_fn.discriminator = distributed.unwrap(loss_fn.discriminator)
    model.eval()
    return TrainResult(model=model, history=state.history, steps=state.step, complete=complete,
                       converged_epoch=_converged(state), images_per_second=seen / seconds if seconds else 0.0,
                       checkpoint=path if path is not None and path.exists() else None,
                       discriminator=loss_fn.discriminator)

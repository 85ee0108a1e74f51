"""Training a small CLIP from scratch on (image, caption) pairs with open_clip's contrastive ``ClipLoss``.

The symmetric InfoNCE loss of CLIP (Radford et al. 2021) over a batch of B pairs,
``(CE(s * I T^T, arange B) + CE(s * T I^T, arange B)) / 2`` with a learnable temperature ``s`` (clamped to
100 as in open_clip's training loop), optimised with AdamW (no weight decay on gains, biases, embeddings
and the temperature), linear warm-up and cosine decay. Deterministic on CPU given ``seed``: the batch order
and augmentation draws come from a seeded generator, deterministic algorithms are on and the thread count
is fixed while it runs (float reductions depend on it).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from PIL import Image

import open_clip
from inkgen.determinism import deterministic
from inkgen.models.clip import ClipError, InkClip, retrieval_recall
from inkgen.display import tabular


@tabular  # a table in the notebook, not a one-line repr
@dataclass
class ClipTrainReport:
    """What one training run measured (every number here was measured by :func:`train_clip`)."""

    epoch_losses: list[float] = field(default_factory=list)
    val_recall: list[dict[str, float]] = field(default_factory=list)
    n_images: int = 0
    steps: int = 0
    seconds: float = 0.0  # time in training steps (validation excluded)
    images_per_second: float = 0.0
    final_logit_scale: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def images_to_tensor(images: Iterable[Any]) -> torch.Tensor:
    """PIL images / uint8 (H, W, 3) arrays / float (3, H, W) tensors in [-1, 1] -> (N, 3, H, W) in [-1, 1].

    All images must share one size (the curated dataset's are square ``curate.target_size``)."""
    out = []
    for i, img in enumerate(images):
        if isinstance(img, torch.Tensor):
            t = img.float()
        else:
            a = np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img)
            if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
                raise ClipError(f"image {i}: expected an RGB uint8 (H, W, 3) array, got {a.dtype} "
                                f"{a.shape}")
            t = torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1.0  # (H,W,3) -> (3,H,W) in [-1,1]
        if out and t.shape != out[0].shape:
            raise ClipError(f"image {i} has shape {tuple(t.shape)}, image 0 has {tuple(out[0].shape)}")
        out.append(t)
    if not out:
        raise ClipError("no images to train on")
    return torch.stack(out)


def _split_dataset(data: Any, captions: Sequence[str] | None) -> tuple[torch.Tensor, list[str]]:
    if captions is None:  # a dataset of (image, caption) pairs
        pairs = list(data)
        images, captions = images_to_tensor(p[0] for p in pairs), [p[1] for p in pairs]
    else:
        images = data if isinstance(data, torch.Tensor) else images_to_tensor(data)
        captions = list(captions)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ClipError(f"images must be (N, 3, H, W), got {tuple(images.shape)}")
    if len(images) != len(captions):
        raise ClipError(f"{len(images)} images but {len(captions)} captions")
    return images, list(captions)


def _param_groups(model: InkClip, weight_decay: float) -> list[dict[str, Any]]:
    # open_clip's convention: no decay on 1-d tensors (gains, biases, logit scale) nor on embeddings
    decay, no_decay = [], []
    for name, p in model.clip.named_parameters():
        if not p.requires_grad:
            continue
        skip = p.ndim < 2 or "embedding" in name or "logit_scale" in name or name.endswith("class_embedding")
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flips: label-preserving for paintings (a caption says 'left' nowhere here)."""
    flip = torch.rand(len(x), generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def _warmup_cosine(opt: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then a cosine to 0 at ``total`` (open_clip's schedule)."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (
        1.0 + math.cos(math.pi * min(1.0, max(0.0, s - warmup + 1) / max(1, total - warmup + 1)))))


def _train_epoch(model: InkClip, images: torch.Tensor, tokens: torch.Tensor, batches: list[torch.Tensor],
                 loss_fn: Any, opt: torch.optim.Optimizer, sched: Any, augment_gen: torch.Generator | None
                 ) -> list[float]:
    """One epoch of contrastive steps over ``batches`` (index tensors); ``augment_gen`` draws the
    augmentations (None: none). Returns each step's loss."""
    losses = []
    for idx in batches:
        x = images[idx]
        if augment_gen is not None:
            x = _augment(x, augment_gen)
        img_f = model.encode_image(x)  # (B, D), normalised
        txt_f = model.encode_text(tokens[idx])  # (B, D), normalised
        loss = loss_fn(img_f, txt_f, model.clip.logit_scale.exp())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():  # open_clip's clamp: temperature at most 100
            model.clip.logit_scale.clamp_(0, math.log(100))
        losses.append(loss.item())
    return losses


def train_clip(model: InkClip, data: Any, captions: Sequence[str] | None = None, *, epochs: int = 10,
               batch_size: int = 64, lr: float = 5e-4, weight_decay: float = 0.1,
               warmup_fraction: float = 0.1, seed: int = 0, augment: bool = True,
               threads: int | None = None, value_range: tuple[float, float] = (-1.0, 1.0),
               val: tuple[Any, Sequence[str]] | None = None, ks: Sequence[int] = (1, 5),
               on_epoch: Callable[[int, float], None] | None = None) -> ClipTrainReport:
    """Train ``model`` in place with ``open_clip.ClipLoss``; return the per-epoch mean loss.

    ``data``: images (N, 3, H, W) in ``value_range`` (or PIL/uint8 images) with ``captions``, or, with
    ``captions=None``, a dataset of (image, caption) pairs. ``val``: optional (images, captions) whose
    text->image recall@k is measured after each epoch. The last partial batch is dropped when it would
    hold a single pair (a contrastive loss needs at least two).
    """
    images, captions = _split_dataset(data, captions)
    if epochs < 1 or batch_size < 2:
        raise ClipError(f"epochs must be >= 1 and batch_size >= 2, got {epochs} and {batch_size}")
    if len(images) < 2:
        raise ClipError(f"training CLIP needs at least 2 pairs, got {len(images)}")
    lo, hi = value_range
    images = (images.float() - lo) / (hi - lo) * 2.0 - 1.0  # -> [-1, 1], the model's default range
    tokens = model.tokenize(captions)  # (N, context_length), once: checks every caption up front
    val_data = _split_dataset(*val) if val is not None else None
    if val_data is not None:
        val_data = ((val_data[0].float() - lo) / (hi - lo) * 2.0 - 1.0, val_data[1])

    n = len(images)
    bs = min(batch_size, n)
    steps_per_epoch = n // bs + (1 if n % bs >= 2 else 0)
    total = steps_per_epoch * epochs
    warmup = max(1, int(round(warmup_fraction * total)))
    loss_fn = open_clip.ClipLoss()
    report = ClipTrainReport(n_images=n, seed=seed)

    with deterministic(threads):
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.AdamW(_param_groups(model, weight_decay), lr=lr, betas=(0.9, 0.98), eps=1e-6)
        sched = _warmup_cosine(opt, warmup, total)
        seen, train_seconds = 0, 0.0
        for epoch in range(epochs):
            t0 = time.perf_counter()
            model.train()
            order = torch.randperm(n, generator=gen)
            batches = [order[s * bs:(s + 1) * bs] for s in range(steps_per_epoch)]
            losses = _train_epoch(model, images, tokens, batches, loss_fn, opt, sched, gen if augment else None)
            seen += sum(len(idx) for idx in batches)
            report.steps += len(batches)
            train_seconds += time.perf_counter() - t0
            report.epoch_losses.append(float(np.mean(losses)))
            if val_data is not None:
                report.val_recall.append(retrieval_recall(model, val_data[0], val_data[1], ks))
            if on_epoch is not None:
                on_epoch(epoch, report.epoch_losses[-1])
    model.eval()
    report.seconds = train_seconds  # training steps only, not the validation recall
    report.images_per_second = seen / train_seconds if train_seconds > 0 else 0.0
    report.final_logit_scale = float(model.clip.logit_scale.detach().exp())
    return report

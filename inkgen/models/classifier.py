"""The screening classifier: a ResNet with two softmax heads, the paper's section 2.1, Equation 1.

    P(y | x) = softmax(W_f GAP(F_L(x)))                                              (eq. 1)

``F_L`` is a torchvision ResNet trunk (``resnet18``/``34``/``50``; the paper uses the 50-layer one), ``GAP``
its global average pool, and ``W_f`` one linear layer (the ResNet's ``fc``) producing the logits of
*two* label sets at once: the four primary categories of the paper's Figure 1 and the three painting
types. Each set gets its own softmax, so the model is two eq. 1 classifiers sharing one trunk.

The curate stage trains it from scratch here (no pretrained weights can be downloaded) or starts from a
local checkpoint: either one this module saved, or a plain torchvision state dict of the same ResNet
(the 1000-way ImageNet ``fc`` is skipped). Later stages reuse it to judge generated images through
:func:`load_classifier` and :func:`predict`.

Training is seeded and deterministic on CPU: the initial weights, the batch order and the augmentation
draws all come from ``seed``, and deterministic algorithms are switched on while it runs.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from inkgen.data.taxonomy import load_taxonomy
from inkgen.determinism import deterministic
from torchvision import models as tv_models  # importable: the inkgen package applied the CPU fix first
from inkgen.display import tabular

log = logging.getLogger(__name__)

ARCHS = ("resnet18", "resnet34", "resnet50")
HEADS = ("primary", "painting_type")
CHECKPOINT_FORMAT = "inkgen.classifier/1"
# ImageNet statistics, so that a torchvision ImageNet checkpoint sees inputs scaled as it was trained.
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def default_classes() -> dict[str, list[str]]:
    """The label sets from the taxonomy file: 4 primary categories, 3 painting types."""
    tax = load_taxonomy()
    return {"primary": list(tax.primary), "painting_type": list(tax.painting_types)}


class PaintingClassifier(nn.Module):
    """ResNet trunk + one ``fc`` (eq. 1's ``W_f``) whose logits are split into the two heads."""

    def __init__(self, arch: str, classes: Mapping[str, Sequence[str]], input_size: int):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"classifier arch {arch!r} is not one of {ARCHS}")
        self.arch = arch
        self.input_size = int(input_size)
        self.classes = {head: list(classes[head]) for head in HEADS}
        n_out = sum(len(c) for c in self.classes.values())
        # torchvision's own module: keys match a plain torchvision state dict under "backbone."
        self.backbone = getattr(tv_models, arch)(weights=None, num_classes=n_out)
        # Heads that were trained (or loaded trained): a random head must not screen anything.
        self.trained_heads: tuple[str, ...] = ()
        self.params_hash = ""
        self.metrics: dict[str, Any] = {}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: (N, 3, S, S) normalised -> {head: (N, n_classes) logits}."""
        logits = self.backbone(x)  # (N, 4 + 3)
        n_primary = len(self.classes["primary"])
        return {"primary": logits[:, :n_primary], "painting_type": logits[:, n_primary:]}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``GAP(F_L(x))``: the (N, D) pooled trunk features eq. 1's ``W_f`` reads (D = 512 or 2048)."""
        b = self.backbone
        h = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        h = b.layer4(b.layer3(b.layer2(b.layer1(h))))
        return torch.flatten(b.avgpool(h), 1)  # (N, D, 1, 1) -> (N, D)


def build_classifier(arch: str, input_size: int, classes: Mapping[str, Sequence[str]] | None = None,
                     seed: int = 0) -> PaintingClassifier:
    """A freshly initialised classifier; ``seed`` fixes the initial weights."""
    torch.manual_seed(seed)
    return PaintingClassifier(arch, classes or default_classes(), input_size)


# ------------------------------------------------------------------------------------------ checkpoints
def save_classifier(model: PaintingClassifier, path: str | Path, *, params_hash: str = "",
                    metrics: Mapping[str, Any] | None = None) -> Path:
    """Write the checkpoint dict {format, state_dict, arch, input_size, classes, params_hash, metrics,
    trained_heads} with ``torch.save``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "format": CHECKPOINT_FORMAT,
        "state_dict": model.state_dict(),
        "arch": model.arch,
        "input_size": model.input_size,
        "classes": model.classes,
        "params_hash": params_hash or model.params_hash,
        "metrics": dict(metrics if metrics is not None else model.metrics),
        "trained_heads": list(model.trained_heads),
    }, path)
    return path


def _is_own_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT


def load_classifier(path: str | Path) -> PaintingClassifier:
    """A classifier saved by :func:`save_classifier`, in eval mode, architecture read from the file."""
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not _is_own_checkpoint(ckpt):
        raise ValueError(f"{path}: not an inkgen classifier checkpoint (no format {CHECKPOINT_FORMAT!r})")
    model = PaintingClassifier(ckpt["arch"], ckpt["classes"], ckpt["input_size"])
    model.load_state_dict(ckpt["state_dict"])
    model.trained_heads = tuple(ckpt.get("trained_heads", HEADS))
    model.params_hash = ckpt.get("params_hash", "")
    model.metrics = dict(ckpt.get("metrics", {}))
    return model.eval()


def load_initial_weights(model: PaintingClassifier, path: str | Path) -> str:
    """Start ``model`` from a local file; return a sentence saying what was loaded.

    Accepts an inkgen checkpoint (same arch; the heads too when its classes match) or a plain torchvision
    ResNet state dict (optionally wrapped as ``{"state_dict": ...}`` or prefixed ``module.``), whose
    tensors are matched by name and shape, so a 1000-way ImageNet ``fc`` is skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"classifier weights {path} do not exist")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if _is_own_checkpoint(obj):
        if obj["arch"] != model.arch:
            raise ValueError(f"{path}: checkpoint is {obj['arch']}, params ask for {model.arch}")
        source, heads_ok = obj["state_dict"], obj["classes"] == model.classes
        trained = tuple(obj.get("trained_heads", HEADS)) if heads_ok else ()
        if not heads_ok:
            log.warning("%s: classes %s differ from %s; loading the trunk only", path, obj["classes"],
                        model.classes)
    else:
        source = obj.get("state_dict", obj) if isinstance(obj, dict) else None
        if not isinstance(source, dict) or not all(isinstance(v, torch.Tensor) for v in source.values()):
            raise ValueError(f"{path}: neither an inkgen checkpoint nor a state dict of tensors")
        source = {("backbone." + k.removeprefix("module.")): v for k, v in source.items()}
        heads_ok, trained = False, ()
    target = model.state_dict()
    loaded, skipped = {}, []
    for key, value in source.items():
        is_head = key.startswith("backbone.fc.")
        if key in target and target[key].shape == value.shape and (heads_ok or not is_head):
            loaded[key] = value
        else:
            skipped.append(key)
    trunk = [k for k in target if not k.startswith("backbone.fc.")]
    n_trunk = sum(k in loaded for k in trunk)
    # A deeper ResNet of the same block type holds every key of a shallower one: extra trunk keys
    # are as much a sign of the wrong architecture as missing ones.
    extra = [k for k in skipped if not k.startswith("backbone.fc.")]
    if n_trunk < len(trunk) or extra:
        missing = [k for k in trunk if k not in loaded][:3]
        raise ValueError(f"{path}: only {n_trunk}/{len(trunk)} {model.arch} trunk tensors match "
                         f"(e.g. missing {missing}, unexpected {extra[:3]}); is it a different "
                         f"architecture?")
    model.load_state_dict(loaded, strict=False)
    model.trained_heads = trained
    what = "trunk and heads" if heads_ok else "trunk only (heads start random)"
    return (f"loaded {len(loaded)} tensors ({what}) from {path.name}"
            + (f"; skipped {len(skipped)}: {', '.join(skipped[:4])}" if skipped else ""))


# ------------------------------------------------------------------------------------------- tensors
def to_tensor(images: Sequence[np.ndarray | Image.Image], size: int) -> torch.Tensor:
    """uint8 RGB images (any size) -> (N, 3, size, size) float, ImageNet-normalised."""
    arrays = []
    for img in images:
        a = np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img)
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)  # (H, W) -> (H, W, 3)
        if a.shape[:2] != (size, size):
            a = cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA)
        arrays.append(a)
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255.0  # (N,H,W,3) -> (N,3,H,W)
    return (x - _MEAN) / _STD


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a small random crop (shift by up to 1/16 of the side, edge-padded).

    Both are label-preserving for paintings; vertical flips are not (mountains stand on the ground).
    """
    n, _, s, _ = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    m = max(1, s // 16)
    padded = F.pad(x, (m, m, m, m), mode="replicate")  # (N, 3, s + 2m, s + 2m)
    dx = torch.randint(0, 2 * m + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * m + 1, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + s, dx[i]:dx[i] + s] for i in range(n)])


# ------------------------------------------------------------------------------------------ training
@tabular  # a table in the notebook, not a one-line repr
@dataclass
class TrainReport:
    """What one training run did: per-epoch mean loss, seconds, throughput."""

    n_train: int
    epochs: int
    seconds: float
    images_per_second: float
    epoch_loss: list[float] = field(default_factory=list)


def _warmup_cosine(total: int) -> Callable[[int], float]:
    """LR factor: linear warm-up over the first 20% of steps (BN statistics settle from scratch), then
    cosine decay to zero. Safe for a handful of steps, unlike OneCycleLR."""
    warm = max(1, round(0.2 * total))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    return factor


def encode_labels(model: PaintingClassifier, labels: Mapping[str, Sequence[str | None]]
                  ) -> dict[str, torch.Tensor]:
    """Label names -> class indices per head; ``None`` or an unknown name -> -1 (ignored by the loss)."""
    out = {}
    for head in HEADS:
        index = {c: i for i, c in enumerate(model.classes[head])}
        out[head] = torch.tensor([index.get(v, -1) if v is not None else -1 for v in labels[head]])
    return out


def train_classifier(model: PaintingClassifier, images: Sequence[np.ndarray],
                     labels: Mapping[str, Sequence[str | None]], *, epochs: int, batch_size: int,
                     lr: float, weight_decay: float, seed: int, threads: int = 0,
                     alt_images: Sequence[np.ndarray] | None = None) -> TrainReport:
    """Fit both heads with summed cross-entropy (AdamW, warm-up + cosine); deterministic given ``seed``.

    An item may lack one head's label (``None``): it then trains the other head only. A final batch of a
    single item is dropped, because batch norm cannot normalise one sample at 1 x 1 resolution.
    ``alt_images`` is an optional second view of each item (the curate stage passes the eq. 2-5 subject
    crop beside the whole painting): each time an item is drawn, one of its two views is picked at random,
    so the classifier learns both at the cost of one.
    """
    targets = encode_labels(model, labels)
    no_label = torch.stack([targets[h] < 0 for h in HEADS]).all(0)  # (2, N) -> (N,)
    unlabelled = torch.nonzero(no_label).flatten()
    if len(unlabelled):
        raise ValueError(f"training items {unlabelled[:5].tolist()} have no known label for any head")
    # Images are converted batch by batch (same values as converting all at once): ``images`` may be a
    # disk-backed sequence (inkgen.data.image_spool), so the training set is never all in memory.
    n = len(images)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = n // batch_size + (1 if n % batch_size > 1 else 0)
    report = TrainReport(n_train=n, epochs=epochs, seconds=0.0, images_per_second=0.0)
    if n < 2 or epochs == 0:
        return report
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _warmup_cosine(epochs * steps_per_epoch))
    seen = 0
    start = time.perf_counter()
    with deterministic(threads if threads > 0 else None):
        model.train()
        for epoch in range(epochs):
            order = torch.randperm(n, generator=gen)
            total, batches = 0.0, 0
            for b in range(steps_per_epoch):
                idx = order[b * batch_size:(b + 1) * batch_size]
                x = to_tensor([images[int(i)] for i in idx], model.input_size)
                if alt_images is not None:
                    use_alt = torch.rand(len(idx), generator=gen) < 0.5
                    x_alt = to_tensor([alt_images[int(i)] for i in idx], model.input_size)
                    x = torch.where(use_alt.view(-1, 1, 1, 1), x_alt, x)
                out = model(_augment(x, gen))
                loss = sum(F.cross_entropy(out[h], targets[h][idx], ignore_index=-1)
                           for h in HEADS if (targets[h][idx] >= 0).any())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach())
                batches += 1
                seen += len(idx)
            report.epoch_loss.append(total / batches)
            log.info("classifier epoch %d/%d: loss %.4f", epoch + 1, epochs, total / batches)
    model.eval()
    newly = {h for h in HEADS if (targets[h] >= 0).any()}
    model.trained_heads = tuple(h for h in HEADS if h in newly or h in model.trained_heads)
    report.seconds = time.perf_counter() - start
    report.images_per_second = seen / report.seconds
    return report


# ------------------------------------------------------------------------------------------ inference
@torch.no_grad()
def predict_proba(model: PaintingClassifier, images: Sequence[np.ndarray | Image.Image],
                  batch_size: int = 128) -> dict[str, np.ndarray]:
    """Eq. 1's softmax per head: {head: (N, n_classes) probabilities}, in ``model.classes`` order."""
    model.eval()
    chunks: dict[str, list[np.ndarray]] = {h: [] for h in HEADS}
    for i in range(0, len(images), batch_size):
        logits = model(to_tensor(images[i:i + batch_size], model.input_size))
        for h in HEADS:
            chunks[h].append(torch.softmax(logits[h], dim=1).numpy())
    return {h: (np.concatenate(chunks[h]) if chunks[h] else np.zeros((0, len(model.classes[h]))))
            for h in HEADS}


def predict(model: PaintingClassifier, images: Sequence[np.ndarray | Image.Image],
            batch_size: int = 128) -> list[dict[str, Any]]:
    """Per image: {primary, primary_confidence, painting_type, painting_type_confidence}.

    A label is the head's most probable class and its confidence that class's probability.
    """
    probs = predict_proba(model, images, batch_size)
    rows: list[dict[str, Any]] = [{} for _ in range(len(images))]
    for h in HEADS:
        best = probs[h].argmax(axis=1)
        for row, k, p in zip(rows, best, probs[h]):
            row[h] = model.classes[h][int(k)]
            row[f"{h}_confidence"] = float(p[k])
    return rows


@torch.no_grad()
def embed(model: PaintingClassifier, images: Sequence[np.ndarray | Image.Image],
          batch_size: int = 128) -> np.ndarray:
    """(N, D) pooled trunk features, e.g. for a Fréchet distance in this classifier's feature space."""
    model.eval()
    feats = [model.embed(to_tensor(images[i:i + batch_size], model.input_size)).numpy()
             for i in range(0, len(images), batch_size)]
    return np.concatenate(feats) if feats else np.zeros((0, model.backbone.fc.in_features))

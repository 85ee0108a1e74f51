"""Text features computed once per run: the frozen BERT's token features, mask and pooled vector for
every caption (section 2.2), and the frozen CLIP's text embedding ``v_t`` of eq. 13.

Both encoders are frozen during training, so their outputs are fixed functions of the captions:
computing them once and caching them here removes them from every training step. Tests and benchmarks
pass random :class:`TextFeatures` instead of loading a BERT.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from inkgen.training.config import TrainError


@dataclass(frozen=True)
class TextFeatures:
    """``tokens`` (N, L, D) float, ``mask`` (N, L) (1 = real token, right-padded), ``pooled`` (N, D)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor

    def __post_init__(self) -> None:
        t, m, p = self.tokens, self.mask, self.pooled
        if t.ndim != 3 or m.shape != t.shape[:2] or p.shape != (t.shape[0], t.shape[2]):
            raise TrainError(f"TextFeatures: shapes tokens {tuple(t.shape)}, mask {tuple(m.shape)}, pooled "
                             f"{tuple(p.shape)} do not fit (N, L, D), (N, L), (N, D)")
        empty = (m.sum(dim=1) == 0).nonzero().flatten()
        if empty.numel():
            raise TrainError(f"TextFeatures: caption {int(empty[0])} has no unmasked token")

    def __len__(self) -> int:
        return self.tokens.shape[0]

    @property
    def dim(self) -> int:
        return self.tokens.shape[2]

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu"
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rows ``idx``, cut to the longest caption among them: (tokens, mask, pooled) on ``device``."""
        mask = self.mask[idx]
        n = int(mask.sum(dim=1).max())  # right padding: columns past n are padding in every row
        return (self.tokens[idx, :n].to(device), mask[:, :n].to(device), self.pooled[idx].to(device))


def empty_caption_features(encoder) -> TextFeatures:
    """The frozen encoder's features of the empty caption (:meth:`TextEncoder.empty_caption`), one row."""
    with torch.no_grad():
        tokens, mask, pooled = encoder.empty_caption()
    return TextFeatures(tokens.float().cpu(), mask.long().cpu(), pooled.float().cpu())


def drop_captions(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], empty: TextFeatures,
                  drop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A (tokens (B, L, D), mask (B, L), pooled (B, D)) batch with the rows where ``drop`` (B,) is True
    replaced by the empty caption ``empty`` (padded to L): classifier-free guidance's condition dropout
    (Ho & Salimans 2022, Algorithm 1)."""
    tokens, mask, pooled = batch
    if not bool(drop.any()):
        return batch
    n = empty.tokens.shape[1]
    if tokens.shape[1] < n:
        raise TrainError(f"a batch of {tokens.shape[1]} text positions cannot hold the empty caption's {n}")
    tokens, mask, pooled = tokens.clone(), mask.clone(), pooled.clone()
    device = tokens.device
    tokens[drop] = 0.0
    tokens[drop, :n] = empty.tokens[0].to(device, tokens.dtype)
    mask[drop] = 0
    mask[drop, :n] = empty.mask[0].to(device, mask.dtype)
    pooled[drop] = empty.pooled[0].to(device, pooled.dtype)
    return tokens, mask, pooled


def encode_captions(encoder, captions: Sequence[str], batch_size: int = 64) -> TextFeatures:
    """Every caption through a frozen :class:`inkgen.models.text_encoder.TextEncoder`, once, in
    batches; padded to the longest caption of all."""
    captions = list(captions)
    if not captions:
        raise TrainError("no captions to encode")
    parts = []
    with torch.no_grad():
        for i in range(0, len(captions), batch_size):
            tokens, mask, pooled = encoder.encode(captions[i:i + batch_size])
            parts.append((tokens.float().cpu(), mask.long().cpu(), pooled.float().cpu()))
    length = max(t.shape[1] for t, _, _ in parts)
    tokens = torch.cat([torch.nn.functional.pad(t, (0, 0, 0, length - t.shape[1])) for t, _, _ in parts])
    mask = torch.cat([torch.nn.functional.pad(m, (0, length - m.shape[1])) for _, m, _ in parts])
    return TextFeatures(tokens, mask, torch.cat([p for _, _, p in parts]))


class FineTunedTextFeatures:
    """Text features of a BERT being fine-tuned (``text_encoder.finetune``): each batch of captions runs
    through the encoder, with gradients while training, so the BERT learns with the Transformer stacked
    decoder. Same interface as :class:`TextFeatures` (``len``, ``dim``, ``batch``)."""

    def __init__(self, encoder, captions: Sequence[str]):
        if getattr(encoder, "frozen", True):
            raise TrainError("FineTunedTextFeatures needs a TextEncoder built with freeze=False")
        self.encoder = encoder
        self.captions = list(captions)
        if not self.captions:
            raise TrainError("no captions to encode")

    def __len__(self) -> int:
        return len(self.captions)

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    def parameters(self):
        return self.encoder.parameters()

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu"
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tokens, mask, pooled = self.encoder.encode([self.captions[int(i)] for i in idx])
        return tokens.to(device), mask.long().to(device), pooled.to(device)


def clip_text_features(clip, captions: Sequence[str], batch_size: int = 256) -> torch.Tensor:
    """The frozen CLIP's text embeddings ``v_t`` (N, D) of the captions (eq. 13), computed once."""
    captions = list(captions)
    with torch.no_grad():
        return torch.cat([clip.encode_text(captions[i:i + batch_size], normalize=True).float().cpu()
                          for i in range(0, len(captions), batch_size)])


FEATURES_FORMAT = "inkgen.text_features/1"


def captions_digest(captions: Sequence[str]) -> str:
    """SHA-256 of the captions in order: what a features file was computed from."""
    return hashlib.sha256(json.dumps(list(captions), ensure_ascii=False).encode()).hexdigest()


def save_text_features(path, splits: dict[str, tuple[Sequence[str], TextFeatures]], encoder_record: dict) -> None:
    """Write the frozen BERT's features of each split's captions to ``path`` (one file shared by every
    variant and seed), with the captions' digest and the encoder's record so that a stale file is refused."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FEATURES_FORMAT, "encoder": dict(encoder_record),
               "splits": {name: {"digest": captions_digest(caps), "n": len(caps), "tokens": f.tokens,
                                 "mask": f.mask, "pooled": f.pooled} for name, (caps, f) in splits.items()}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_text_features(path, split: str, captions: Sequence[str], encoder_record: dict | None = None
                       ) -> TextFeatures:
    """The features of ``split`` from a :func:`save_text_features` file, refused (naming the file and the
    reason) when it is missing, of another text encoder, or computed from other captions."""
    path = Path(path)
    if not path.is_file():
        raise TrainError(f"{path}: no text features file; run the text_features stage (`dvc repro text_features`)")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict) or obj.get("format") != FEATURES_FORMAT:
        raise TrainError(f"{path}: not an inkgen text features file (expected format {FEATURES_FORMAT!r})")
    if split not in obj["splits"]:
        raise TrainError(f"{path}: has no features of split {split!r} (has {sorted(obj['splits'])})")
    if encoder_record is not None and obj["encoder"] != dict(encoder_record):
        raise TrainError(f"{path}: computed with text encoder {obj['encoder']}, not the current {dict(encoder_record)}")
    s = obj["splits"][split]
    if s["digest"] != captions_digest(captions):
        raise TrainError(f"{path}: the {split!r} features were computed from other captions than the dataset's "
                         f"({s['n']} then, {len(list(captions))} now); re-run the text_features stage")
    return TextFeatures(s["tokens"], s["mask"], s["pooled"])


@dataclass(frozen=True)
class PhaseData:
    """What a training phase learns from, passed whole: ``images`` (N, 3, R, R) in [-1, 1]; ``text``, their
    captions' BERT features (phase 2 always; phase 1 when the VQGAN has eq. 8's text style norm); for a
    CLIP-guided phase 1 the ``captions`` themselves or their precomputed CLIP embeddings ``clip_text``
    (N, D); the validation images with their features (``val_images``, ``val_text``; default: the
    training ones); and for a prior trained with condition dropout, the empty caption's features
    (``empty_text``, :func:`empty_caption_features`)."""

    images: torch.Tensor
    text: TextFeatures | FineTunedTextFeatures | None = None
    captions: Sequence[str] | None = None
    clip_text: torch.Tensor | None = None
    val_images: torch.Tensor | None = None
    val_text: TextFeatures | FineTunedTextFeatures | None = None
    empty_text: TextFeatures | None = None  # phase 2 with condition dropout: the empty caption's features

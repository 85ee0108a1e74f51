"""CLIP for guidance (eq. 13) and evaluation, built with ``open_clip``; training lives in ``clip_train``.

No CLIP weights can be downloaded here, so the ``clip`` stage either trains a small open_clip model from
scratch (:func:`build_clip` registers a custom model config with ``open_clip.add_model_config``; the
vocabulary stays open_clip's own 49,408-token BPE with a 77-token context) or loads a local checkpoint
(:func:`load_clip`: one :func:`save_clip` wrote, or an open_clip-style state dict of a named open_clip
architecture such as ``ViT-B-32``).

The paper's guidance loss (section 2.3, eq. 13) is

    L_CLIP = 1 - (v_t . v_k) / (||v_t||_2 ||v_k||_2)                                     (eq. 13)

with ``v_t`` the CLIP text feature of the prompt and ``v_k`` the CLIP image feature of the generated
image; :func:`clip_guidance_loss` averages it over the batch and is differentiable w.r.t. the images.
Every image this module takes is in the generator's range (``value_range``, default [-1, 1]); mapping to
CLIP's normalisation and resizing to its input size happen inside, differentiably.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

import inkgen  # noqa: F401  (open_clip imports torchvision: the CPU fix must be installed first)
from inkgen.models.clip_config import ClipConfig, ClipError
from inkgen.prompts import check_prompts
import open_clip
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

CHECKPOINT_FORMAT = "inkgen.clip/1"


_REGISTRY_DIR: Path | None = None
_REGISTERED: set[str] = set()


def register_config(config: ClipConfig) -> str:
    """Make ``config`` known to open_clip (``open_clip.add_model_config``); return its registry name."""
    global _REGISTRY_DIR
    name = config.model_name()
    if config.arch:
        if name not in open_clip.list_models():
            raise ClipError(f"open_clip has no architecture {name!r} (see open_clip.list_models())")
        return name
    if name not in _REGISTERED:
        if _REGISTRY_DIR is None:
            _REGISTRY_DIR = Path(tempfile.mkdtemp(prefix="inkgen-open-clip-configs-"))
        file = _REGISTRY_DIR / f"{name}.json"
        file.write_text(json.dumps(config.open_clip_config(), indent=1), encoding="utf-8")
        open_clip.add_model_config(file)
        _REGISTERED.add(name)
    return name


class InkClip(nn.Module):
    """An open_clip ``CLIP`` (``self.clip``, open_clip-style state dict) with its tokenizer and config.

    Images go in in the generator's range (``value_range``), prompts as strings; features come out
    L2-normalised unless asked otherwise.
    """

    def __init__(self, clip: nn.Module, config: ClipConfig, tokenizer: Any):
        super().__init__()
        self.clip = clip
        self.config = config
        self.tokenizer = tokenizer
        size = clip.visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.context_length = int(getattr(tokenizer, "context_length", config.context_length))
        pre = getattr(clip.visual, "preprocess_cfg", None) or {}
        mean, std = pre.get("mean", OPENAI_DATASET_MEAN), pre.get("std", OPENAI_DATASET_STD)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.params_hash = ""
        self.metrics: dict[str, Any] = {}

    # ---------------------------------------------------------------------------------------- text
    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Prompts -> (B, context_length) token ids; a prompt longer than the context is refused."""
        texts = check_prompts(texts, ClipError)
        for i, t in enumerate(texts):
            encode = getattr(self.tokenizer, "encode", None)
            if encode is not None:
                n = len(encode(t)) + 2  # + start and end tokens
                if n > self.context_length:
                    raise ClipError(f"prompt {i} is {n} CLIP tokens long, more than the context length "
                                    f"{self.context_length}: {t[:60]!r}")
        return self.tokenizer(texts).to(self.mean.device)

    def encode_text(self, texts: Sequence[str] | torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """Prompts (or their token ids) -> (B, embed_dim) text features ``v_t``."""
        ids = texts if isinstance(texts, torch.Tensor) else self.tokenize(texts)
        return self.clip.encode_text(ids, normalize=normalize)

    # -------------------------------------------------------------------------------------- images
    def preprocess(self, images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)
                   ) -> torch.Tensor:
        """(N, 3, H, W) images in ``value_range`` -> CLIP input (N, 3, S, S), differentiably."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ClipError(f"images must be (N, 3, H, W), got shape {tuple(images.shape)}")
        lo, hi = value_range
        x = (images.float() - lo) / (hi - lo)  # -> [0, 1]
        if x.shape[-2:] != (self.image_size, self.image_size):
            # bilinear with antialias when shrinking: smooth, differentiable, no aliasing of fine strokes
            shrink = x.shape[-1] > self.image_size or x.shape[-2] > self.image_size
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                              align_corners=False, antialias=shrink)
        return (x - self.mean) / self.std

    def encode_image(self, images: torch.Tensor, normalize: bool = True,
                     value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
        """(N, 3, H, W) images in ``value_range`` -> (N, embed_dim) image features ``v_k``."""
        return self.clip.encode_image(self.preprocess(images, value_range), normalize=normalize)

    def logit_scale(self) -> torch.Tensor:
        return self.clip.logit_scale.exp()

    def forward(self, images: torch.Tensor, texts: Sequence[str] | torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode_image(images), self.encode_text(texts)


def build_clip(config: ClipConfig | None = None, seed: int = 0) -> InkClip:
    """A freshly initialised CLIP of ``config`` (nothing downloaded); ``seed`` fixes the initial weights."""
    config = config or ClipConfig()
    name = register_config(config)
    torch.manual_seed(seed)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # open_clip warns "no pretrained weights loaded": that is the intent here
    try:
        clip = open_clip.create_model(name, pretrained=None, device="cpu")
    finally:
        root.setLevel(level)
    return InkClip(clip, config, open_clip.get_tokenizer(name))


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Parameters of the whole model and of its two towers."""
    clip = model.clip if isinstance(model, InkClip) else model
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    total = n(clip)
    vision = n(clip.visual)
    return {"total": total, "vision": vision, "text": total - vision}


def freeze(model: InkClip) -> InkClip:
    """Use CLIP as a fixed judge/guide: eval mode, no parameter requires grad (gradients still reach
    the *inputs*, which is what eq. 13 needs)."""
    model.eval()
    model.requires_grad_(False)
    model.zero_grad(set_to_none=True)  # leftovers from training would look like guidance gradients
    return model


# ---------------------------------------------------------------------------------------- checkpoints
def save_clip(model: InkClip, path: str | Path, *, params_hash: str = "",
              metrics: Mapping[str, Any] | None = None) -> Path:
    """Write {format, config, state_dict (open_clip-style), params_hash, metrics} with ``torch.save``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": CHECKPOINT_FORMAT, "config": model.config.to_dict(),
                "state_dict": model.clip.state_dict(), "params_hash": params_hash or model.params_hash,
                "metrics": dict(metrics if metrics is not None else model.metrics)}, path)
    return path


def load_clip(path: str | Path, config: ClipConfig | None = None) -> InkClip:
    """A CLIP from a local file, in eval mode.

    ``path`` is either a checkpoint :func:`save_clip` wrote (architecture read from it; ``config``, if
    given, must agree) or an open_clip-style state dict (optionally under ``"state_dict"``, keys optionally
    prefixed ``module.``) of the architecture ``config`` names. A file that is missing, unreadable or of
    another architecture is refused with an error naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CLIP checkpoint {str(path)!r} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/garbage files
        raise ClipError(f"{path}: not a readable torch checkpoint ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    params_hash, metrics = "", {}
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        try:
            saved = ClipConfig.from_dict(obj["config"])
        except (ClipError, KeyError, TypeError) as exc:
            raise ClipError(f"{path}: checkpoint config is not a valid ClipConfig ({exc})") from exc
        if config is not None and config != saved:
            raise ClipError(f"{path}: checkpoint architecture {saved.to_dict()} differs from the "
                            f"requested {config.to_dict()}")
        config, state = saved, obj.get("state_dict")
        params_hash, metrics = obj.get("params_hash", ""), dict(obj.get("metrics", {}))
    else:
        if config is None:
            raise ClipError(f"{path}: not an inkgen CLIP checkpoint (no format {CHECKPOINT_FORMAT!r}); "
                            "loading a plain open_clip state dict needs a ClipConfig naming its arch")
        state = obj.get("state_dict", obj) if isinstance(obj, dict) else None
        if isinstance(state, dict):
            state = {k.removeprefix("module."): v for k, v in state.items()}
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor)
                                                           for v in state.values()):
        raise ClipError(f"{path}: holds no state dict of tensors")
    model = build_clip(config)
    # open_clip stores logit_scale as a 0-d or 1-element tensor depending on version
    if "logit_scale" in state and state["logit_scale"].shape != model.clip.logit_scale.shape:
        state = {**state, "logit_scale": state["logit_scale"].reshape(model.clip.logit_scale.shape)}
    try:
        model.clip.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        raise ClipError(f"{path}: does not fit CLIP architecture {config.model_name()!r}: "
                        f"{' '.join(lines[1:3])[:400]}") from exc
    model.params_hash, model.metrics = params_hash, metrics
    return model.eval()


# ------------------------------------------------------------------------------------ eq. 13 guidance
def clip_guidance_loss(model: InkClip, images: torch.Tensor, texts: Sequence[str] | torch.Tensor, *,
                       value_range: tuple[float, float] = (-1.0, 1.0), reduction: str = "mean"
                       ) -> torch.Tensor:
    """Eq. 13, ``1 - cos(v_t, v_k)``, averaged over the batch (``reduction="none"``: per image, (N,)).

    ``texts``: N prompts, or text features (N, D) or (D,) (broadcast to every image), e.g. precomputed
    with :meth:`InkClip.encode_text`. Differentiable w.r.t. ``images`` (in ``value_range``); use
    :func:`freeze` first so that CLIP itself is not trained by the guidance.
    """
    v_k = model.encode_image(images, normalize=False, value_range=value_range)  # (N, D)
    if isinstance(texts, torch.Tensor):
        v_t = texts.to(v_k.device, v_k.dtype)
        v_t = v_t.unsqueeze(0) if v_t.ndim == 1 else v_t  # (D,) -> (1, D), broadcast below
    else:
        v_t = model.encode_text(texts, normalize=False)
    if v_t.ndim != 2 or v_t.shape[-1] != v_k.shape[-1] or v_t.shape[0] not in (1, v_k.shape[0]):
        raise ClipError(f"text features of shape {tuple(v_t.shape)} do not match {v_k.shape[0]} images "
                        f"with {v_k.shape[-1]}-d features")
    loss = 1.0 - F.cosine_similarity(v_t.expand_as(v_k), v_k, dim=-1, eps=1e-8)  # (N,)
    if reduction == "none":
        return loss
    if reduction != "mean":
        raise ClipError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    return loss.mean()


# ---------------------------------------------------------------------------------------- retrieval
@torch.no_grad()
def embed(model: InkClip, images: torch.Tensor, captions: Sequence[str], batch_size: int = 256,
          value_range: tuple[float, float] = (-1.0, 1.0)) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised image (N, D) and text (N, D) features, computed in eval mode in batches."""
    was = model.training
    model.eval()
    try:
        img = torch.cat([model.encode_image(images[i:i + batch_size], value_range=value_range)
                         for i in range(0, len(images), batch_size)])
        captions = list(captions)
        txt = torch.cat([model.encode_text(captions[i:i + batch_size])
                         for i in range(0, len(captions), batch_size)])
    finally:
        model.train(was)
    return img, txt


def retrieval_recall(model: InkClip, images: torch.Tensor, captions: Sequence[str],
                     ks: Sequence[int] = (1, 5), batch_size: int = 256,
                     value_range: tuple[float, float] = (-1.0, 1.0)) -> dict[str, float]:
    """Text -> image recall@k over the N (image, caption) pairs, with its chance level.

    Caption i's query hits when one of the k images most similar to it carries the *same* caption text
    (image i, or a twin with an identical caption: identical captions cannot be told apart, so neither
    counts against the model). ``chance@k`` is the expected recall of a random ranking.
    """
    captions = list(captions)
    if len(images) != len(captions) or not captions:
        raise ClipError(f"retrieval needs as many captions as images, got {len(captions)} and "
                        f"{len(images)}")
    img, txt = embed(model, images, captions, batch_size, value_range)
    sim = txt @ img.T  # (N captions, N images)
    ids = {c: j for j, c in enumerate(dict.fromkeys(captions))}
    cid = torch.tensor([ids[c] for c in captions])
    relevant = cid[:, None] == cid[None, :]  # (N, N): image j carries caption i's text
    n_rel = relevant.sum(1).double()
    order = sim.argsort(dim=1, descending=True, stable=True)
    n = len(captions)
    out: dict[str, float] = {"n": float(n)}
    for k in ks:
        k_ = min(int(k), n)
        hit = relevant.gather(1, order[:, :k_]).any(1)
        out[f"recall@{k}"] = hit.double().mean().item()
        # P(no relevant in a random k-subset) = C(n - r, k) / C(n, k)
        miss = torch.tensor([math.comb(n - int(r), k_) / math.comb(n, k_) for r in n_rel.tolist()])
        out[f"chance@{k}"] = (1.0 - miss).mean().item()
    return out

"""Text-image alignment in CLIP space (paper section 3, Table 1 "cosine similarity"; eq. 12-13).

- :func:`clip_cosine`: per image, the cosine similarity between the CLIP text feature of its prompt and
  the CLIP image feature of the generated image, ``cos(v_t, v_k)`` -- the quantity eq. 13's guidance loss
  ``1 - cos`` drives, and what the paper's Table 1 reports as "cosine similarity".
- :func:`clip_score`: CLIPScore (Hessel et al. 2021, "CLIPScore: A reference-free evaluation metric for
  image captioning", eq. 1): ``CLIP-S(c, v) = w * max(cos(c, v), 0)`` with ``w = 2.5`` in the paper.
  torchmetrics' ``CLIPScore`` needs a Hugging Face CLIP and reports ``100 * max(cos, 0)``; here the
  project's own CLIP is used and the formula applied to its cosines, so the value is on Hessel et al.'s
  scale. Neither is comparable with numbers from a different CLIP model.

Both are per-image, so their intervals come from bootstrapping over images (or prompts).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def clip_cosine(clip, images: torch.Tensor, prompts: Sequence[str], batch_size: int,
                value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N,) cosine similarity of image ``i`` with prompt ``i`` in ``clip``'s space (an ``InkClip``)."""
    from inkgen.models.clip import embed  # open_clip (seconds) only where CLIP embeds; the study page imports inkgen.metrics

    prompts = list(prompts)
    if len(prompts) != len(images):
        raise ValueError(f"clip_cosine needs one prompt per image, got {len(prompts)} prompts for "
                         f"{len(images)} images")
    img, txt = embed(clip, images, prompts, batch_size=batch_size, value_range=value_range)  # normalised
    return (img * txt).sum(dim=1).double().numpy()  # row-wise dot product of unit vectors = cosine


def clip_score(cosines: np.ndarray | Sequence[float], w: float) -> np.ndarray:
    """Hessel et al.'s CLIPScore per image, ``w * max(cos, 0)``, from :func:`clip_cosine` values."""
    if w <= 0:
        raise ValueError(f"CLIPScore weight w must be positive, got {w}")
    c = np.asarray(cosines, dtype=float)
    if np.any(np.abs(c) > 1 + 1e-6):
        raise ValueError("cosines must lie in [-1, 1]")
    return w * np.maximum(c, 0.0)

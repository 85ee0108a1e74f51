"""The cross-modal alignment of the paper's section 2.2, Equation 11.

    Align(T, I) = softmax(T Iᵀ / √d) I + T                                           (eq. 11)

``T`` are text features (``L`` BERT token features projected to the decoder width ``d``), ``I`` image
features (``N`` code-token embeddings: codebook embedding + 2-D positional embedding). Each text token is
a *query*; it attends over the image tokens (keys = values = ``I``) and the result is added back to it:
eq. 11 rewrites every text feature as "itself plus the image content it matches". The output has the
text's shape, ``(L, d)``: text features *aligned* to the image.

The paper gives the formula only (single head, no learned query/key/value projections, ``√d`` with ``d`` the
feature width); :func:`align` is exactly that formula, and :class:`CrossModalAlignment` adds only what a
model needs around it: the learned projection of the BERT features to ``d`` (with a LayerNorm) and the
handling of padded text tokens.

How the decoder uses it (see :mod:`inkgen.models.cross_modal`): the image is generated token by token, so
the image features available when predicting token ``i`` are those of the prefix ``I_{≤i}``. The aligned
text used at step ``i`` is therefore ``Align(T, I_{≤i})`` -- one alignment per prefix, computed for all
prefixes at once by :meth:`CrossModalAlignment.prefix_weights` (a causal mask on the image axis of the
softmax) and, while sampling, by the running-softmax :class:`OnlineAlignment`. The two give the same
numbers as calling :func:`align` on each prefix separately (tested).

Padding: text tokens are the queries, so a padded token never influences another token's aligned feature;
the module zeroes the padded rows of its output, and the decoder's cross-attention masks them as keys.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def align(T: torch.Tensor, I: torch.Tensor, d: int | None = None,
          image_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 11 as written: ``softmax(T Iᵀ / √d) I + T``.

    ``T``: (..., L, d) text features; ``I``: (..., N, d) image features; ``d`` defaults to the last
    dimension. ``image_mask`` (..., N) bool, True = keep, optionally hides image tokens (at least one must
    be kept per row). Returns (..., L, d).
    """
    d = T.shape[-1] if d is None else int(d)
    scores = T @ I.transpose(-1, -2) / math.sqrt(d)  # (..., L, N)
    if image_mask is not None:
        scores = scores.masked_fill(~image_mask.unsqueeze(-2).bool(), float("-inf"))
    return torch.softmax(scores, dim=-1) @ I + T


def causal_prefix_weights(T: torch.Tensor, I: torch.Tensor, d: int | None = None) -> torch.Tensor:
    """The softmax weights of eq. 11 for every image prefix at once.

    ``T``: (B, L, d), ``I``: (B, N, d) -> ``A``: (B, N, L, N) with ``A[b, i] = softmax(T I_{≤i}ᵀ/√d)``
    (zero for image tokens after ``i``), so that ``Align(T, I_{≤i}) = A[b, i] @ I + T``.
    """
    d = T.shape[-1] if d is None else int(d)
    n = I.shape[-2]
    scores = (T @ I.transpose(-1, -2) / math.sqrt(d)).unsqueeze(1)  # (B, 1, L, N)
    future = torch.ones(n, n, dtype=torch.bool, device=I.device).triu(1)  # (i, j): j > i
    scores = scores.masked_fill(future[None, :, None, :], float("-inf"))  # (B, N, L, N)
    return torch.softmax(scores, dim=-1)


class CrossModalAlignment(nn.Module):
    """Eq. 11 with a learned text projection: ``T = LayerNorm(W_t · BERT)``; ``Align(T, I)``.

    ``forward`` aligns the text to a whole image (``I``: (B, N, d)); ``prefix_weights`` returns the eq. 11
    softmax weights for every causal prefix (what the autoregressive decoder trains with).
    """

    def __init__(self, text_dim: int, d_model: int):
        super().__init__()
        self.d_model = int(d_model)
        self.text_proj = nn.Linear(text_dim, d_model)
        self.text_norm = nn.LayerNorm(d_model)

    def project_text(self, text: torch.Tensor) -> torch.Tensor:
        """(B, L, text_dim) BERT token features -> (B, L, d) text features ``T``."""
        return self.text_norm(self.text_proj(text))

    def forward(self, text: torch.Tensor, text_mask: torch.Tensor | None, image: torch.Tensor,
                image_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Aligned text features ``Align(T, I)``: (B, L, d); padded text rows (mask False) are zero."""
        T = self.project_text(text)
        out = align(T, image, self.d_model, image_mask)
        if text_mask is not None:
            out = out * text_mask.unsqueeze(-1).to(out.dtype)
        return out

    def prefix_weights(self, T: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """(B, N, L, N) eq. 11 weights of every prefix ``I_{≤i}`` (``T`` already projected)."""
        return causal_prefix_weights(T, image, self.d_model)


class OnlineAlignment:
    """Eq. 11 over a growing image prefix, one image token at a time (a running softmax).

    Keeps, per text token, the running max ``m``, normaliser ``z`` and numerators of any number of
    linear maps of the image features (``values``: e.g. the raw ``I`` and each decoder layer's key/value
    projections of ``I``), so that after token ``i`` the weighted mean ``softmax(T I_{≤i}ᵀ/√d) V(I_{≤i})`` of
    each map costs O(L·width) per step instead of O(i·L·width).
    """

    def __init__(self, T: torch.Tensor, d: int, widths: list[int]):
        b, l, _ = T.shape
        self.T = T
        self.scale = 1.0 / math.sqrt(d)
        self.m = torch.full((b, l), float("-inf"), dtype=T.dtype, device=T.device)
        self.z = torch.zeros(b, l, dtype=T.dtype, device=T.device)
        self.num = [torch.zeros(b, l, w, dtype=T.dtype, device=T.device) for w in widths]

    def update(self, image_token: torch.Tensor, values: list[torch.Tensor]) -> None:
        """Add one image token ``I_i`` (B, d) whose mapped values are ``values`` [(B, width)]."""
        s = torch.einsum("bld,bd->bl", self.T, image_token) * self.scale
        m_new = torch.maximum(self.m, s)
        alpha = torch.exp(self.m - m_new)  # 0 on the first token (m = -inf)
        p = torch.exp(s - m_new)
        self.z = self.z * alpha + p
        self.num = [n * alpha.unsqueeze(-1) + p.unsqueeze(-1) * v.unsqueeze(1) for n, v in zip(self.num, values)]
        self.m = m_new

    def mean(self, k: int) -> torch.Tensor:
        """(B, L, width): the eq. 11 weighted mean of the ``k``-th value map over the prefix so far."""
        return self.num[k] / self.z.unsqueeze(-1)

"""One layer of the Transformer stacked decoder (paper section 2.2, Figure 5): pre-LayerNorm causal
self-attention, cross-attention from the image tokens to the eq. 11-aligned text, MLP.

``inkgen.models.cross_modal`` (its docstring) derives why the aligned keys and values are never
materialised: eq. 11's prefix weights factor as ``A[i, l, j] = E[l, j]·[j ≤ i] / Z[i, l]``, so the
cross-attention is a pair of masked matrix products; sampling reads the running softmax of
:class:`inkgen.models.alignment.OnlineAlignment` instead.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inkgen.models.alignment import OnlineAlignment


class DecoderLayer(nn.Module):
    """Pre-LN block: causal self-attention, [cross-attention to aligned text], MLP."""

    def __init__(self, d: int, n_heads: int, dropout: float, cross: bool, mlp_ratio: int):
        super().__init__()
        self.d, self.h, self.dh = d, n_heads, d // n_heads
        self.p = dropout
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.sa_out = nn.Linear(d, d)
        self.cross = cross
        if cross:
            self.ln2 = nn.LayerNorm(d)
            self.cq = nn.Linear(d, d)
            # No bias: linear maps commute with eq. 11's convex combination (inkgen.models.cross_modal).
            self.ck = nn.Linear(d, d, bias=False)
            self.cv = nn.Linear(d, d, bias=False)
            self.c_out = nn.Linear(d, d)
        self.ln3 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, mlp_ratio * d), nn.GELU(), nn.Linear(mlp_ratio * d, d))
        self.drop = nn.Dropout(dropout)
        self.attn_drop = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, M, d) -> (B, h, M, dh)
        b, m, _ = x.shape
        return x.view(b, m, self.h, self.dh).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:  # (B, h, M, dh) -> (B, M, d)
        b, _, m, _ = x.shape
        return x.transpose(1, 2).reshape(b, m, self.d)

    def forward(self, x: torch.Tensor, ctx: dict[str, torch.Tensor]) -> torch.Tensor:
        """Teacher-forced pass over the whole sequence ``x``: (B, N, d)."""
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=-1)
        y = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v), is_causal=True,
                                           dropout_p=self.p if self.training else 0.0)
        x = x + self.drop(self.sa_out(self._merge(y)))
        if self.cross:
            I, T, pad = ctx["I"], ctx["T"], ctx["pad"]  # (B,N,d) (B,L,d) (B,L)
            q = self._heads(self.cq(self.ln2(x)))  # (B, h, N, dh)
            k_i, v_i = self._heads(self.ck(I)), self._heads(self.cv(I))
            k_t, v_t = self._heads(self.ck(T)), self._heads(self.cv(T))
            qk = q @ k_i.transpose(-1, -2)  # (B, h, N, N): q_i · W_k I_j
            # q_i · W_k Align(T, I_{≤i})_l = Σ_j A[i,l,j] (q_i · W_k I_j) + q_i · W_k T_l
            if "A" in ctx:  # exact eq. 11 weights (B, N, L, N)
                A = ctx["A"]
                s = torch.einsum("bilj,bhij->bhil", A, qk)
            else:  # A[i,l,j] = E[l,j] [j≤i] / Z[i,l]: plain matrix products, no (B, N, L, N) tensor
                E, Zt, future = ctx["E"], ctx["Zt"].unsqueeze(1), ctx["future"]
                s = (qk.masked_fill(future, 0.0) @ E.transpose(-1, -2).unsqueeze(1)) / Zt
            s = s + q @ k_t.transpose(-1, -2)
            s = (s / math.sqrt(self.dh)).masked_fill(pad[:, None, None, :], float("-inf"))
            w = self.attn_drop(torch.softmax(s, dim=-1))  # (B, h, N, L)
            if "A" in ctx:
                y = torch.einsum("bhil,bilj->bhij", w, A) @ v_i + w @ v_t
            else:
                y = ((w / Zt) @ E.unsqueeze(1)).masked_fill(future, 0.0) @ v_i + w @ v_t
            x = x + self.drop(self.c_out(self._merge(y)))
        return x + self.drop(self.mlp(self.ln3(x)))

    def step(self, x: torch.Tensor, i: int, cache: dict[str, Any], layer: int) -> torch.Tensor:
        """One slot ``i`` (x: (B, 1, d)) with the self-attention KV cache and the online alignment."""
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=-1)
        kc, vc = cache["k"][layer], cache["v"][layer]
        kc[:, :, i:i + 1] = self._heads(k)
        vc[:, :, i:i + 1] = self._heads(v)
        y = F.scaled_dot_product_attention(self._heads(q), kc[:, :, :i + 1], vc[:, :, :i + 1])
        x = x + self.sa_out(self._merge(y))
        if self.cross:
            online: OnlineAlignment = cache["online"]
            q = self._heads(self.cq(self.ln2(x)))  # (B, h, 1, dh)
            kt = online.mean(1 + 2 * layer) + cache["k_t"][layer]  # W_k Align(T, I_{≤i}): (B, L, d)
            vt = online.mean(2 + 2 * layer) + cache["v_t"][layer]
            s = (q @ self._heads(kt).transpose(-1, -2)) / math.sqrt(self.dh)
            w = torch.softmax(s.masked_fill(cache["pad"][:, None, None, :], float("-inf")), dim=-1)
            x = x + self.c_out(self._merge(w @ self._heads(vt)))
        return x + self.mlp(self.ln3(x))

"""Building blocks of the VQGAN trunk.

* ``ResnetBlock``, ``AttnBlock``, ``Downsample``, ``Upsample``, ``Normalize`` follow
  taming-transformers' ``taming/modules/diffusionmodules/model.py`` (Esser et al. 2021).
* ``ResidualDenseBlock`` is the residual dense block of the paper's eq. 9 (densely connected convs,
  local 1x1 feature fusion, scaled residual; Zhang et al. RDN / Wang et al. ESRGAN).
* ``TextStyleNorm`` is the style normalisation ``SN`` of eq. 8: normalise the features, then scale and
  shift them with values predicted from the embedded text ``E(SC)`` (AdaIN/SPADE-like).
* ``EncoderAttentionNorm`` is eq. 6's ``LayerN(gamma * Attention(Conv_q, Conv_k, Conv_v) + d)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def Normalize(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=min(groups, channels), num_channels=channels, eps=1e-6, affine=True)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class Upsample(nn.Module):
    """Nearest 2x upsampling then a 3x3 conv (taming; ``out_channels`` may differ from ``channels``)."""

    def __init__(self, channels: int, out_channels: int | None = None):
        super().__init__()
        self.conv = nn.Conv2d(channels, out_channels or channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Downsample(nn.Module):
    """Asymmetric pad then a stride-2 3x3 conv (taming)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class ResnetBlock(nn.Module):
    """taming's ResnetBlock without the timestep embedding: norm-swish-conv twice plus a shortcut."""

    def __init__(self, in_channels: int, out_channels: int, groups: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = Normalize(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = Normalize(out_channels, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        self.nin_shortcut = (nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels
                             else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return self.nin_shortcut(x) + h


class ResidualDenseBlock(nn.Module):
    """Residual dense block (eq. 9's RDB): ``x + s * LFF([x, f1, ..., f_L])``, ``f_i = lrelu(conv([x, f1..f_{i-1}]))``.

    A 1x1 conv first maps ``in_channels`` to ``out_channels`` when they differ (the dense part keeps width).
    """

    def __init__(self, in_channels: int, out_channels: int, growth: int, layers: int, scale: float = 0.2):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        self.convs = nn.ModuleList(
            nn.Conv2d(out_channels + i * growth, growth, 3, 1, 1) for i in range(layers))
        self.fuse = nn.Conv2d(out_channels + layers * growth, out_channels, 1)   # local feature fusion
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        feats = [x]
        for conv in self.convs:
            # (B, C + i*growth, H, W) -> (B, growth, H, W)
            feats.append(F.leaky_relu(conv(torch.cat(feats, dim=1)), 0.2))
        return x + self.scale * self.fuse(torch.cat(feats, dim=1))


class AttnBlock(nn.Module):
    """taming's single-head spatial self-attention with 1x1 q/k/v/proj convs and a residual."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = Normalize(channels, groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """Attention(Conv_q(x), Conv_k(x), Conv_v(x)) without the residual."""
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).transpose(1, 2)          # (B, HW, C)
        k = k.reshape(b, c, hh * ww)                          # (B, C, HW)
        w = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)  # (B, HW_q, HW_k)
        v = v.reshape(b, c, hh * ww)                          # (B, C, HW_k)
        out = torch.bmm(v, w.transpose(1, 2))                 # (B, C, HW_q)
        return self.proj_out(out.reshape(b, c, hh, ww))       # (B, C, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attend(x)


class EncoderAttentionNorm(nn.Module):
    """Eq. 6 up to the final conv: ``LayerN(gamma * Attention(Conv_q(d), Conv_k(d), Conv_v(d)) + d)``.

    LayerNorm normalises each position over its channels; ``gamma`` is a learned scalar.
    """

    def __init__(self, channels: int, groups: int, gamma_init: float = 0.0):
        super().__init__()
        self.attn = AttnBlock(channels, groups)
        self.gamma = nn.Parameter(torch.tensor(float(gamma_init)))
        self.ln = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.gamma * self.attn.attend(x) + x                     # (B, C, H, W)
        return self.ln(h.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)    # LayerNorm over C at each (H, W)


class TextStyleNorm(nn.Module):
    """Eq. 8's style normalisation ``SN(h, E(SC))``: ``GN(h) * (1 + gamma(t)) + beta(t)``.

    ``GN`` is a GroupNorm with its own affine parameters; ``gamma``/``beta`` are per-channel values
    predicted from the embedded text vector ``t`` (shape ``(B, text_hidden)``). With ``t=None`` the text
    terms are zero and this is a plain GroupNorm.
    """

    def __init__(self, channels: int, groups: int, text_hidden: int):
        super().__init__()
        self.norm = Normalize(channels, groups)
        self.to_scale_shift = nn.Linear(text_hidden, 2 * channels)
        nn.init.normal_(self.to_scale_shift.weight, std=0.02)
        nn.init.zeros_(self.to_scale_shift.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        h = self.norm(x)
        if t is None:
            return h
        gamma, beta = self.to_scale_shift(t).chunk(2, dim=1)          # (B, C) each
        return h * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]

"""VQGAN encoder: taming-transformers' ``Encoder`` (Esser et al. 2021) with the paper's eq. 6 head.

    z_e = Conv_fi(LayerN(gamma * Attention(Conv_q(d), Conv_k(d), Conv_v(d)) + d))          (eq. 6)

Trunk (taming): conv_in -> per level ``num_res_blocks`` ResnetBlocks (+ attention at
``attn_resolutions``) and a stride-2 Downsample except after the last level -> middle
ResnetBlock / AttnBlock / ResnetBlock. Head: with ``attention_encoder`` the eq. 6 attention + LayerNorm,
otherwise taming's GroupNorm + swish; then the final conv ``Conv_fi`` to ``z_channels``.
"""

from __future__ import annotations

import torch
from torch import nn

from inkgen.models.vqgan.blocks import AttnBlock, Downsample, EncoderAttentionNorm, Normalize, ResnetBlock, swish
from inkgen.models.vqgan.config import VQGANConfig


class Encoder(nn.Module):
    def __init__(self, cfg: VQGANConfig):
        super().__init__()
        g = cfg.norm_groups
        self.conv_in = nn.Conv2d(cfg.in_channels, cfg.ch, 3, 1, 1)
        res = cfg.resolution
        in_mult = (1,) + cfg.ch_mult
        self.down = nn.ModuleList()
        block_in = cfg.ch
        for level, mult in enumerate(cfg.ch_mult):
            blocks, attns = nn.ModuleList(), nn.ModuleList()
            block_in = cfg.ch * in_mult[level]
            block_out = cfg.ch * mult
            for _ in range(cfg.num_res_blocks):
                blocks.append(ResnetBlock(block_in, block_out, g, cfg.dropout))
                block_in = block_out
                if res in cfg.attn_resolutions:
                    attns.append(AttnBlock(block_in, g))
            stage = nn.Module()
            stage.block, stage.attn = blocks, attns
            if level != len(cfg.ch_mult) - 1:
                stage.downsample = Downsample(block_in)
                res //= 2
            self.down.append(stage)
        self.mid_block_1 = ResnetBlock(block_in, block_in, g, cfg.dropout)
        self.mid_attn_1 = AttnBlock(block_in, g) if cfg.mid_attention else nn.Identity()
        self.mid_block_2 = ResnetBlock(block_in, block_in, g, cfg.dropout)
        self.attention_head = cfg.attention_encoder
        if self.attention_head:
            self.head = EncoderAttentionNorm(block_in, g, cfg.attn_gamma_init)   # eq. 6
        else:
            self.head = Normalize(block_in, g)                                   # taming norm_out
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 3, 1, 1)             # Conv_fi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)                                   # (B, ch, R, R)
        for stage in self.down:
            for i, block in enumerate(stage.block):
                h = block(h)
                if len(stage.attn) > 0:
                    h = stage.attn[i](h)
            if hasattr(stage, "downsample"):
                h = stage.downsample(h)                       # (B, C, R/2, R/2)
        h = self.mid_block_2(self.mid_attn_1(self.mid_block_1(h)))
        h = self.head(h) if self.attention_head else swish(self.head(h))
        return self.conv_out(h)                               # (B, z_channels, r, r), r = code resolution

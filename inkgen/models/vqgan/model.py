"""The improved VQGAN of MTDIG-TIGIVM-CLIP (paper section 2.2, eqs. 6-10), one module for all variants.

Encoder (eq. 6) -> ``quant_conv`` -> quantizer (eq. 7, or eq. 10 with two codebooks) ->
``post_quant_conv`` -> decoder (eqs. 8-9). The layout (quant_conv / post_quant_conv around the
quantizer, ``last_layer`` for the adaptive GAN weight) follows taming-transformers' ``VQModel``
(Esser et al. 2021). Which improvements are on is decided by the flags of ``VQGANConfig``.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple, Optional

import torch
from torch import nn

from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.decoder import Decoder
from inkgen.models.vqgan.encoder import Encoder
from inkgen.models.vqgan.quantizer import DualCodebookQuantizer, SingleQuantizer


class VQGANOutput(NamedTuple):
    recon: torch.Tensor                     # (B, 3, R, R)
    vq_loss: torch.Tensor                   # scalar
    indices: dict[str, torch.Tensor]        # {"detail": (B, r, r)} (+ {"global": (B, r/f, r/f)})
    stats: dict[str, torch.Tensor]          # codebook usage / perplexity per codebook


class VQGAN(nn.Module):
    def __init__(self, config: VQGANConfig, seed: Optional[int] = None):
        super().__init__()
        self.config = config
        ctx = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
        with ctx:
            if seed is not None:
                torch.manual_seed(seed)
            self.encoder = Encoder(config)
            self.quant_conv = nn.Conv2d(config.z_channels, config.embed_dim, 1)
            if config.dual_codebook:
                self.quantize = DualCodebookQuantizer(config.n_embed, config.n_embed_global, config.embed_dim,
                                                      config.global_factor, config.commitment,
                                                      config.dead_code_steps, config.code_buffer)
            else:
                self.quantize = SingleQuantizer(config.n_embed, config.embed_dim, config.commitment,
                                                config.dead_code_steps, config.code_buffer)
            self.post_quant_conv = nn.Conv2d(config.embed_dim, config.z_channels, 1)
            self.decoder = Decoder(config)

    # -- the autoencoder -------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor):
        """``x`` (B, 3, R, R) in [-1, 1] -> (z_q (B, D, r, r), indices dict, vq_loss, stats)."""
        z_e = self.quant_conv(self.encoder(x))              # (B, embed_dim, r, r)
        z_q, indices, vq_loss, stats = self.quantize(z_e)
        return z_q, indices, vq_loss, stats

    def decode(self, z_q: torch.Tensor, text_vec: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``z_q`` (B, D, r, r) [+ ``text_vec`` (B, text_dim)] -> image (B, 3, R, R)."""
        return self.decoder(self.post_quant_conv(z_q), text_vec)

    def decode_indices(self, indices: dict[str, torch.Tensor],
                       text_vec: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Code indices (as returned by ``encode``) -> image; how the transformer's predictions become pixels."""
        return self.decode(self.quantize.lookup(indices), text_vec)

    def forward(self, x: torch.Tensor, text_vec: Optional[torch.Tensor] = None) -> VQGANOutput:
        z_q, indices, vq_loss, stats = self.encode(x)
        return VQGANOutput(self.decode(z_q, text_vec), vq_loss, indices, stats)

    # -- helpers ---------------------------------------------------------------------------------------
    def last_layer(self) -> torch.Tensor:
        """Weight of the decoder's last conv, for taming's adaptive GAN weight."""
        return self.decoder.conv_out.weight

    def codebooks(self):
        return self.quantize.codebooks()

    def code_shapes(self) -> dict[str, tuple[int, int]]:
        c = self.config
        shapes = {"detail": (c.code_resolution, c.code_resolution)}
        if c.dual_codebook:
            shapes["global"] = (c.global_resolution, c.global_resolution)
        return shapes

    def codebook_sizes(self) -> dict[str, int]:
        return {k: q.n_embed for k, q in self.codebooks().items()}

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def param_counts(self) -> dict[str, int]:
        parts = {"encoder": [self.encoder, self.quant_conv], "quantizer": [self.quantize],
                 "decoder": [self.post_quant_conv, self.decoder]}
        return {k: sum(p.numel() for m in ms for p in m.parameters()) for k, ms in parts.items()}

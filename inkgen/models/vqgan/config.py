"""Every architectural value of the improved VQGAN (paper section 2.2, eqs. 6-10) in one frozen dataclass.

The four ``bool`` flags switch the paper's improvements on or off on ONE model, so the ablation
variants of section 3 are configurations, not copies of the code:

* ``attention_encoder`` - eq. 6: ``z_e = Conv_fi(LayerN(gamma * Attention(q, k, v) + d))`` before the
  encoder's final convolution, instead of taming's GroupNorm + swish + conv_out;
* ``dual_codebook``     - eq. 10: a global-structure codebook on a pooled view of ``z_e`` plus a detail
  codebook on the residual, instead of one codebook (eq. 7);
* ``rdb``               - eq. 9: residual dense blocks in the decoder instead of taming's ResnetBlocks;
* ``text_style_norm``   - eq. 8: the text embedding injected by style normalisation in the decoder.

All False is the architecture of taming-transformers' VQModel (Esser et al. 2021, "Taming Transformers
for High-Resolution Image Synthesis"); all True is the paper's improved VQGAN.

The dataclass defaults are a small 64 px model for library users and tests (16 channels at full
resolution, two downsamplings). The study's sizes come from ``params.yaml`` (``model.vqgan``; its ``paper`` profile expresses a taming
f16-like 256 px model through the same fields): see ``inkgen.training.runs.vqgan_config``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

@dataclass(frozen=True)
class VQGANConfig:
    # image and autoencoder trunk (taming's ddconfig names)
    resolution: int = 64
    in_channels: int = 3
    out_channels: int = 3
    ch: int = 16                                   # channels at full resolution
    ch_mult: tuple[int, ...] = (1, 2, 4)           # per level; len-1 downsamplings (64 -> 32 -> 16)
    num_res_blocks: int = 1                        # blocks per level (decoder uses num_res_blocks + 1)
    attn_resolutions: tuple[int, ...] = ()         # taming attention inside levels at these resolutions
    mid_attention: bool = True                     # taming's attention in the middle block
    dropout: float = 0.0
    norm_groups: int = 8                           # GroupNorm groups (taming uses 32 at >=128 channels)
    z_channels: int = 32
    embed_dim: int = 32                            # codebook vector dimension
    # quantizer (eq. 7 / eq. 10)
    n_embed: int = 256                             # detail (or single) codebook size
    n_embed_global: int = 64                       # global-structure codebook size (dual only)
    global_factor: int = 2                         # pooling factor of the global view (16x16 -> 8x8)
    commitment: float = 0.25                       # beta of the corrected taming L_vq (its commitment term)
    dead_code_steps: int = 25                      # training steps unused before a code is re-initialised (0: never)
    code_buffer: int = 2048                        # recent encoder outputs kept for re-initialisation
    # eq. 6 / eq. 9 / eq. 8
    attn_gamma_init: float = 0.0                   # gamma of eq. 6 (SAGAN-style start at 0)
    rdb_growth_ratio: float = 0.5                  # RDB growth channels = ratio * block width (ESRGAN: 32/64)
    rdb_layers: int = 3                            # dense conv layers per RDB
    rdb_scale: float = 0.2                         # residual scaling (ESRGAN)
    text_dim: int = 384                            # text vector width (MiniLM: 384; BERT-base: 768)
    text_hidden: int = 64                          # shared text embedding E(SC) width
    # PatchGAN discriminator (taming's NLayerDiscriminator)
    disc_ndf: int = 32
    disc_layers: int = 2
    # variant flags (all False = taming VQGAN)
    rdb: bool = True
    attention_encoder: bool = True
    dual_codebook: bool = True
    text_style_norm: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "ch_mult", tuple(int(m) for m in self.ch_mult))
        object.__setattr__(self, "attn_resolutions", tuple(int(r) for r in self.attn_resolutions))
        if not self.ch_mult:
            raise ValueError("ch_mult must have at least one level")
        down = 2 ** (len(self.ch_mult) - 1)
        if self.resolution % down:
            raise ValueError(f"resolution {self.resolution} is not divisible by 2**(len(ch_mult)-1) = {down}")
        if self.dual_codebook and self.code_resolution % self.global_factor:
            raise ValueError(f"code resolution {self.code_resolution} is not divisible by global_factor "
                             f"{self.global_factor}")
        for c in [self.ch * m for m in self.ch_mult] + [self.ch]:
            if c % self.norm_groups:
                raise ValueError(f"norm_groups {self.norm_groups} does not divide channel count {c}")
        if not 0 < self.rdb_growth_ratio or int(round(self.ch * self.rdb_growth_ratio)) < 1:
            raise ValueError(f"rdb_growth_ratio {self.rdb_growth_ratio} gives no growth channels")
        if self.n_embed < 1 or self.n_embed_global < 1 or self.embed_dim < 1:
            raise ValueError("codebook sizes and embed_dim must be positive")

    @property
    def code_resolution(self) -> int:
        """Side of the (detail) code grid: resolution / 2**(levels-1)."""
        return self.resolution // 2 ** (len(self.ch_mult) - 1)

    @property
    def global_resolution(self) -> int:
        return self.code_resolution // self.global_factor

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["ch_mult"] = list(self.ch_mult)
        d["attn_resolutions"] = list(self.attn_resolutions)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "VQGANConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown VQGANConfig fields: {sorted(unknown)}")
        return cls(**dict(d))

    @classmethod
    def with_flags(cls, flags: Mapping[str, bool], **sizes: Any) -> "VQGANConfig":
        """The config with an ablation variant's improvement ``flags`` (``inkgen.variants``, which the
        models never read); ``sizes`` override size fields."""
        clash = set(sizes) & set(flags)
        if clash:
            raise ValueError(f"variant flags {sorted(clash)} are set by the variant, not by sizes")
        return cls.from_dict({**sizes, **flags})

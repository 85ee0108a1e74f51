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

Each field declares its type, range and meaning here, once (``inkgen.settings.setting``). params.yaml's
``model.vqgan`` section is these fields less ``DECIDED_ELSEWHERE`` (the data's size, the text encoder's
width, the variant's flags; ``inkgen.config`` builds it with ``inkgen.settings.section``), so the study's
sizes are checked by this description; its ``paper`` profile expresses a taming f16-like 256 px model
through the same fields (``inkgen.training.runs.vqgan_config``). The defaults are a small 64 px model for
library users and tests (16 channels at full resolution, two downsamplings). This module imports no torch:
the params file is validated without it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

from inkgen.settings import check_fields, from_mapping, setting


@dataclass(frozen=True)
class VQGANConfig:
    # image and autoencoder trunk (taming's ddconfig names); resolution: params.yaml's curate.target_size
    resolution: int = setting(8, 4096, default=64)
    in_channels: int = setting(1, 64, default=3)
    out_channels: int = setting(1, 64, default=3)
    ch: int = setting(1, 4096, doc="channels at full resolution", default=16)
    ch_mult: tuple[int, ...] = setting(doc="channel multiplier per level; len-1 downsamplings (64 -> 32 -> 16)",
                                       default=(1, 2, 4))
    num_res_blocks: int = setting(1, 16, doc="blocks per level (the decoder uses num_res_blocks + 1)", default=1)
    attn_resolutions: tuple[int, ...] = setting(doc="taming attention inside levels at these resolutions",
                                                default=())
    mid_attention: bool = setting(doc="taming's attention in the middle block", default=True)
    dropout: float = setting(0.0, 0.9, default=0.0)
    norm_groups: int = setting(1, 1024, doc="GroupNorm groups (taming uses 32 at >=128 channels)", default=8)
    z_channels: int = setting(1, 4096, default=32)
    embed_dim: int = setting(1, 4096, doc="codebook vector width", default=32)
    # quantizer (eq. 7 / eq. 10)
    n_embed: int = setting(2, 1_000_000, doc="detail (or single) codebook size", default=256)
    n_embed_global: int = setting(2, 1_000_000, doc="global-structure codebook size (eq. 10; dual only)", default=64)
    global_factor: int = setting(1, 64, doc="pooling of the global view (16x16 -> 8x8)", default=2)
    commitment: float = setting(0.0, 10.0, doc="beta inside L_vq, the commitment term's weight (corrected taming "
                                "loss); not eq. 14's beta, vqgan_train.beta", default=0.25)
    dead_code_steps: int = setting(0, 1_000_000, doc="steps unused before a code is re-initialised; 0 never",
                                   default=25)
    code_buffer: int = setting(1, 10_000_000, doc="recent encoder outputs kept for re-initialisation", default=2048)
    # eq. 6 / eq. 9 / eq. 8
    attn_gamma_init: float = setting(-10.0, 10.0, doc="gamma of eq. 6 at the start (SAGAN: 0)", default=0.0)
    rdb_growth_ratio: float = setting(0.01, 8.0, doc="RDB growth channels = ratio * block width (ESRGAN: 32/64)",
                                      default=0.5)
    rdb_layers: int = setting(1, 16, doc="dense conv layers per RDB", default=3)
    rdb_scale: float = setting(0.0, 1.0, doc="residual scaling (ESRGAN)", default=0.2)
    text_dim: int = setting(1, 8192, doc="text vector width (MiniLM: 384; BERT-base: 768): the text encoder's",
                            default=384)
    text_hidden: int = setting(1, 4096, doc="E(SC) width of eq. 8", default=64)
    # PatchGAN discriminator (taming's NLayerDiscriminator)
    disc_ndf: int = setting(1, 4096, default=32)
    disc_layers: int = setting(1, 8, default=2)
    # variant flags (all False = taming VQGAN): the variant's (inkgen.variants), never params.yaml's sizes
    rdb: bool = setting(default=True)
    attention_encoder: bool = setting(default=True)
    dual_codebook: bool = setting(default=True)
    text_style_norm: bool = setting(default=True)

    # the values params.yaml's model.vqgan does not set: the data's size, the text encoder's width, the variant
    DECIDED_ELSEWHERE: ClassVar[tuple[str, ...]] = ("resolution", "in_channels", "out_channels", "text_dim", "rdb", "attention_encoder",
                         "dual_codebook", "text_style_norm")

    def __post_init__(self) -> None:
        object.__setattr__(self, "ch_mult", tuple(int(m) for m in self.ch_mult))
        object.__setattr__(self, "attn_resolutions", tuple(int(r) for r in self.attn_resolutions))
        check_fields(self, "VQGANConfig")
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
        return from_mapping(cls, d)

    @classmethod
    def with_flags(cls, flags: Mapping[str, bool], **sizes: Any) -> "VQGANConfig":
        """The config with an ablation variant's improvement ``flags`` (``inkgen.variants``, which the
        models never read); ``sizes`` override size fields."""
        clash = set(sizes) & set(flags)
        if clash:
            raise ValueError(f"variant flags {sorted(clash)} are set by the variant, not by sizes")
        return cls.from_dict({**sizes, **flags})

"""Sizes of the tiny models the training and generation tests build (16 px, a handful of channels)."""

from inkgen.models.clip import ClipConfig

TINY = dict(resolution=16, ch=8, ch_mult=(1, 2, 2), norm_groups=4, z_channels=8, embed_dim=8, n_embed=16,
            n_embed_global=8, text_dim=12, text_hidden=8, rdb_growth_ratio=0.5, rdb_layers=2, disc_ndf=8,
            disc_layers=2, code_buffer=64, dead_code_steps=3)
TINY_CLIP = ClipConfig(embed_dim=16, image_size=16, patch_size=8, vision_width=32, vision_layers=1,
                       vision_head_width=32, text_width=32, text_layers=1, text_heads=2, context_length=16)
PRIOR_SIZES = dict(d_model=16, n_layers=1, n_heads=2, dropout=0.1)
HASH = "0" * 64

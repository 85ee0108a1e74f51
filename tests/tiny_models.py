"""Sizes of the tiny models the training and generation tests build (16 px, a handful of channels), and a
tiny random BERT written like a Hugging Face directory."""

from pathlib import Path

from inkgen.models.clip import ClipConfig
from inkgen import variants

TINY = dict(resolution=16, ch=8, ch_mult=(1, 2, 2), norm_groups=4, z_channels=8, embed_dim=8, n_embed=16,
            n_embed_global=8, text_dim=12, text_hidden=8, rdb_growth_ratio=0.5, rdb_layers=2, disc_ndf=8,
            disc_layers=2, code_buffer=64, dead_code_steps=3)
TINY_CLIP = ClipConfig(embed_dim=16, image_size=16, patch_size=8, vision_width=32, vision_layers=1,
                       vision_head_width=32, text_width=32, text_layers=1, text_heads=2, context_length=16)
PRIOR_SIZES = dict(d_model=16, n_layers=1, n_heads=2, dropout=0.1)
HASH = "0" * 64

WORDS = ["a", "red", "blue", "green", "black", "painting", "of", "plum", "blossom", "mountain", "river", "bird",
         "the", "ink", "detailed", "this", "is"]


def write_tiny_bert(directory: Path, hidden: int = 32, max_positions: int = 64) -> Path:
    """A random BERT (2 layers, ``hidden`` wide) with a WordPiece vocabulary of ``WORDS``, saved like a hub
    directory, so that loading code is tested on real files without any download."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=max_positions)
    BertModel(config).save_pretrained(directory)
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(directory)
    return directory


def train_tiny_generator(root: Path, encoder, images, captions, *, prior_epochs: int = 1, snapshots: bool = False,
                         seed: int = 0, vqgan_hash: str = HASH, prior_hash: str = HASH, uncond_prob: float = 0.0):
    """A tiny ``no_clip`` VQGAN and text -> codes prior trained on ``images`` (N, 3, 16, 16) and ``captions``
    with ``encoder`` (a 12-d BERT), checkpoints under ``root / "ck"``: what the generation, governance and
    evaluation tests paint with (``seed``: the training seed; the hashes: the params hashes the checkpoints
    are written under; ``uncond_prob``: condition dropout, for classifier-free guidance). Returns the two
    phases' ``TrainResult``s."""
    from inkgen.models.vqgan.config import VQGANConfig
    from inkgen.training import PhaseData, PriorRun, VQGANRun, encode_captions, prior_config, train_prior, train_vqgan
    from inkgen.training.features import empty_caption_features

    text = encode_captions(encoder, captions)
    run = dict(variant="no_clip", seed=seed, device="cpu", threads=1, checkpoint_every=0, batch_size=4,
               lr_schedule="constant", convergence_window=1, convergence_min_rel_improvement=0.01)
    cfg = VQGANRun(**run, epochs=1, lr=2e-3, beta=1.0, eta=0.5, lambda_clip=0.0, disc_start=100, clip_start=0)
    prior_cfg = PriorRun(**run, epochs=prior_epochs, lr=3e-3, snapshots=snapshots, uncond_prob=uncond_prob)
    vq = train_vqgan(cfg, VQGANConfig.with_flags(variants.variant("no_clip").vqgan, **TINY),
                     PhaseData(images, text, captions), params_hash=vqgan_hash, checkpoint_dir=root / "ck",
                     progress=False)
    pr = train_prior(prior_cfg, vq.model, prior_config(vq.model, 12, "no_clip", **PRIOR_SIZES),
                     PhaseData(images, text, empty_text=empty_caption_features(encoder) if uncond_prob else None),
                     params_hash=prior_hash, checkpoint_dir=root / "ck", progress=False)
    return vq, pr

"""Tests of the improved VQGAN (inkgen.models.vqgan): tiny 32 px models, CPU, a few seconds."""

from __future__ import annotations

import pytest
import torch

from inkgen.models.vqgan.model import VQGAN
from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.losses import VQGANLoss
from inkgen.models.vqgan.quantizer import VectorQuantizer, corrected_vq_loss, legacy_vq_loss
from inkgen.models.vqgan.discriminator import calculate_adaptive_weight, hinge_d_loss, hinge_g_loss
from inkgen import variants
from inkgen.variants import NAMES

TINY = dict(resolution=32, ch=8, ch_mult=(1, 2, 2), norm_groups=4, z_channels=8, embed_dim=8, n_embed=32,
            n_embed_global=8, text_dim=12, text_hidden=8, rdb_growth_ratio=0.5, rdb_layers=2, disc_ndf=8,
            disc_layers=2, code_buffer=256, dead_code_steps=0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(variant: str = "full", seed: int = 0, **kw) -> VQGAN:
    return VQGAN(VQGANConfig.with_flags(variants.variant(variant).vqgan, **{**TINY, **kw}), seed=seed)


def images(n: int = 2, seed: int = 1) -> torch.Tensor:
    """Smooth random images in [-1, 1]: 4x4 random colours, bilinearly upsampled to 32x32."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(low, size=(32, 32), mode="bilinear", align_corners=True)


@pytest.mark.parametrize("variant", sorted(NAMES))
def test_shapes_every_variant(variant):
    m = tiny(variant)
    x, t = images(), torch.randn(2, 12)
    z_q, idx, loss, stats = m.encode(x)
    assert z_q.shape == (2, 8, 8, 8)
    assert idx["detail"].shape == (2, 8, 8)
    if m.config.dual_codebook:
        assert idx["global"].shape == (2, 4, 4)
        assert idx["global"].max() < 8
    else:
        assert "global" not in idx
    assert loss.dim() == 0 and torch.isfinite(loss)
    out = m(x, t)
    assert out.recon.shape == x.shape
    assert m.decode_indices(idx, t).shape == x.shape
    # the straight-through z_q equals the looked-up codes up to float rounding (~6e-8), which the decoder amplifies
    assert torch.allclose(m.decode_indices(idx, t), m.decode(z_q, t), atol=1e-4)
    assert m.code_shapes()["detail"] == (8, 8)


@pytest.mark.parametrize("variant", ["full", "vqgan"])
def test_a_uniform_code_decodes_to_a_uniform_image_up_to_the_edges(variant):
    """The decoder's convs pad by repeating the edge: a spatially constant latent decodes to a constant image,
    the border rows included (with zero padding the border differs, the seed of the RDB decoders' cyan last
    row in the committed study)."""
    m = tiny(variant, seed=3).eval()
    z = torch.randn(1, 8, 1, 1).expand(1, 8, 8, 8)
    with torch.no_grad():
        out = m.decode(z, torch.randn(1, 12))
    assert torch.allclose(out, out[:, :, :1, :1].expand_as(out), atol=1e-5), \
        f"edge rows differ from the centre by {float((out - out[:, :, 16:17, 16:17]).abs().max()):.4f}"


def test_variant_param_counts_and_flags():
    counts = {}
    for v in sorted(NAMES):
        m = tiny(v)
        counts[v] = (m.param_count(), m.param_counts())
        print(f"{v:15s} params={counts[v][0]:8d} {counts[v][1]}")
    assert counts["full"] == counts["no_clip"] == counts["no_transformer"]
    # rdb only changes the decoder
    assert counts["full"][1]["encoder"] == counts["vqgan_clip"][1]["encoder"]
    assert counts["full"][1]["decoder"] != counts["vqgan_clip"][1]["decoder"]
    assert counts["vqgan"][0] != counts["full"][0] and counts["vqgan"][0] != counts["vqgan_clip"][0]
    assert counts["vqgan"][1]["quantizer"] < counts["full"][1]["quantizer"]  # one codebook, not two
    assert counts["vqgan"][1]["encoder"] < counts["full"][1]["encoder"]      # no eq. 6 head
    assert VQGANConfig.with_flags(variants.variant("vqgan").vqgan).rdb is False
    assert all(getattr(VQGANConfig.with_flags(variants.variant("full").vqgan), f) for f in variants.variant("full").vqgan)


def test_unknown_variant_and_config_roundtrip():
    with pytest.raises(ValueError, match="bogus.*allowed.*full"):
        variants.variant("bogus")
    with pytest.raises(ValueError, match="set by the variant"):
        VQGANConfig.with_flags(variants.variant("full").vqgan, rdb=False)
    cfg = VQGANConfig.with_flags(variants.variant("vqgan_clip").vqgan, resolution=256, ch=128, ch_mult=(1, 1, 2, 2, 4),
                                 norm_groups=32)
    assert cfg.resolution == 256 and cfg.code_resolution == 16
    assert VQGANConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        VQGANConfig(resolution=30)
    with pytest.raises(ValueError):
        VQGANConfig.from_dict({"nonsense": 1})


def test_deterministic_given_seed():
    x = images()
    a, b, c = tiny(seed=3), tiny(seed=3), tiny(seed=4)
    a.eval(), b.eval(), c.eval()
    assert torch.equal(a(x).recon, b(x).recon)
    assert not torch.equal(a(x).recon, c(x).recon)


def test_straight_through_gradient_reaches_encoder():
    for v in ("full", "vqgan"):
        m = tiny(v)
        out = m(images())
        (out.recon ** 2).mean().backward()   # reconstruction only: no vq loss path into the encoder
        g = m.encoder.conv_in.weight.grad
        assert g is not None and g.abs().sum() > 0, v


def test_mixed_precision_training_step_keeps_codes_in_fp32():
    """Under bf16 autocast (what CUDA training uses) a training step runs, with the quantizer searching,
    tracking and restarting codes in fp32 (it crashed in the fp32 restart buffer before)."""
    m = tiny(dead_code_steps=1)
    x = images()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert m.encoder(x).dtype == torch.bfloat16            # the encoder itself runs in bf16
        out = m(x)
    (out.recon.float() ** 2).mean().backward()
    assert m.quantize.detail.recent.dtype == torch.float32
    assert int(m.quantize.detail.recent_filled) > 0
    assert out.indices["detail"].shape == (2, 8, 8)
    assert m.encoder.conv_in.weight.grad is not None


def test_quantizer_loss_is_corrected_formula():
    q = VectorQuantizer(n_embed=2, embed_dim=2, beta=0.25)
    with torch.no_grad():
        q.embedding.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    # z (B=1, D=2, H=1, W=2): vectors (0.2, 0.1) -> code 0, (0.9, 1.5) -> code 1
    z = torch.tensor([[[[0.2, 0.9]], [[0.1, 1.5]]]], requires_grad=True)
    z_q, loss, idx, _ = q(z)
    assert idx.tolist() == [[[0, 1]]]
    sq = (0.2 ** 2 + 0.1 ** 2 + 0.1 ** 2 + 0.5 ** 2) / 4       # mean squared distance = 0.0775
    assert loss.item() == pytest.approx(sq + 0.25 * sq)       # same value both terms in the forward ...
    # ... but the gradients differ: codebook term weight 1, commitment weight beta
    loss.backward()
    assert torch.allclose(z.grad, 0.25 * 2 * (z - torch.tensor([[[[0.0, 1.0]], [[0.0, 1.0]]]])).detach() / 4)
    cb_grad = q.embedding.weight.grad
    assert cb_grad[0].tolist() == pytest.approx([1.0 * 2 * (0 - 0.2) / 4, 1.0 * 2 * (0 - 0.1) / 4])
    # the legacy form swaps the weights: its codebook gradient is beta times smaller
    e = q.embedding.weight.detach().clone().requires_grad_(True)
    zz = z.detach().clone().requires_grad_(True)
    zq = e[idx.flatten()].T.reshape(1, 2, 1, 2)
    legacy_vq_loss(zz, zq, 0.25).backward()
    assert e.grad[0].tolist() == pytest.approx([0.25 * cb_grad[0, 0].item(), 0.25 * cb_grad[0, 1].item()])
    assert not torch.allclose(zz.grad, z.grad)
    assert corrected_vq_loss(z, z_q, 0.25).item() == pytest.approx(0.0775 * 1.25)


def test_dead_codes_reinitialised_raises_usage():
    torch.manual_seed(0)
    q = VectorQuantizer(n_embed=16, embed_dim=4, beta=0.25, dead_code_steps=0, code_buffer=512)
    with torch.no_grad():
        q.embedding.weight.copy_(torch.full((16, 4), 100.0))
        q.embedding.weight[0] = 0.0                      # only code 0 is near the data
    z = torch.randn(4, 4, 8, 8)
    q.train()
    _, _, idx, st = q(z)
    assert st["usage"].item() == pytest.approx(1 / 16)
    assert q.code_age[1:].min().item() == 1 and q.code_age[0].item() == 0
    n = q.reinit_dead_codes(min_age=1)
    assert n == 15 and int(q.n_reinit) == 15
    _, _, idx2, st2 = q(z)
    assert st2["usage"].item() > 0.5
    assert st2["perplexity"].item() > st["perplexity"].item()
    # automatic re-initialisation during training after dead_code_steps unused steps
    q2 = VectorQuantizer(n_embed=16, embed_dim=4, beta=0.25, dead_code_steps=2, code_buffer=512)
    with torch.no_grad():
        q2.embedding.weight.copy_(torch.full((16, 4), 100.0))
        q2.embedding.weight[0] = 0.0
    q2.train()
    q2(z), q2(z)
    assert int(q2.n_reinit) == 15
    assert q2(z)[3]["usage"].item() > 0.5
    q2.eval()
    before = q2.embedding.weight.clone()
    q2(z)
    assert torch.equal(before, q2.embedding.weight)      # no tracking / reinit in eval


def test_dual_codebook_uses_both():
    m = tiny("full")
    z_q, idx, _, stats = m.encode(images(4))
    assert {"global", "detail"} <= set(idx)
    assert stats["global_usage"] > 0 and stats["detail_usage"] > 0
    # z_final = Up(global) + detail: dropping either codebook changes the result
    g_only = m.quantize._up(m.quantize.global_.lookup(idx["global"]))
    d_only = m.quantize.detail.lookup(idx["detail"])
    assert torch.allclose(z_q, g_only + d_only, atol=1e-5)
    assert g_only.abs().sum() > 0 and d_only.abs().sum() > 0
    # a changed global code changes the decoded image
    idx2 = {k: v.clone() for k, v in idx.items()}
    idx2["global"] = (idx2["global"] + 1) % 8
    assert not torch.allclose(m.decode_indices(idx), m.decode_indices(idx2))


def test_text_style_norm_on_and_off():
    x = images()
    t1, t2 = torch.randn(2, 12), torch.randn(2, 12)
    on = tiny("full").eval()
    z_q = on.encode(x)[0]
    assert not torch.allclose(on.decode(z_q, t1), on.decode(z_q, t2))
    off = VQGAN(VQGANConfig.from_dict({**VQGANConfig.with_flags(variants.variant("full").vqgan, **TINY).to_dict(),
                                       "text_style_norm": False}), seed=0).eval()
    z_q = off.encode(x)[0]
    assert torch.equal(off.decode(z_q, t1), off.decode(z_q, t2))
    assert torch.equal(off.decode(z_q, t1), off.decode(z_q, None))


def test_hinge_losses_on_hand_made_logits():
    real = torch.tensor([2.0, 0.5, -1.0])     # relu(1 - r) = 0, 0.5, 2  -> mean 2.5/3
    fake = torch.tensor([-2.0, 0.0, 1.0])     # relu(1 + f) = 0, 1, 2    -> mean 1
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.5 * (2.5 / 3 + 1.0))
    assert hinge_d_loss(torch.full((4,), 5.0), torch.full((4,), -5.0)).item() == 0.0
    assert hinge_g_loss(fake).item() == pytest.approx(1 / 3)


def test_adaptive_weight_and_disc_start():
    m = tiny("full")
    crit = VQGANLoss(m.config, disc_start=5)
    x = images()
    out = m(x)
    rec = (x - out.recon).abs().mean()
    g = hinge_g_loss(crit.discriminator(out.recon))
    w = calculate_adaptive_weight(rec, g, m.last_layer())
    assert torch.isfinite(w) and w.item() > 0
    loss0, log0 = crit.generator_loss(x, out.recon, out.vq_loss, 0, m.last_layer())
    assert log0["g"] == 0.0 and log0["d_weight"] == 0.0
    loss9, log9 = crit.generator_loss(x, out.recon, out.vq_loss, 9, m.last_layer(), clip_loss=torch.tensor(0.3))
    assert log9["d_weight"] > 0 and loss9.item() != loss0.item()
    assert crit.discriminator_loss(x, out.recon, 0)[0].item() == 0.0
    assert crit.discriminator_loss(x, out.recon, 9)[0].item() > 0.0


def test_few_steps_reduce_reconstruction_loss():
    torch.manual_seed(0)
    m = tiny("full", seed=0)
    x = images(8, seed=2)
    t = torch.randn(8, 12)
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    losses = []
    for _ in range(8):
        out = m(x, t)
        rec = (out.recon - x).abs().mean()
        losses.append(rec.item())
        opt.zero_grad()
        (rec + out.vq_loss).backward()
        opt.step()
    print("L1 per step", [round(v, 4) for v in losses])
    assert losses[-1] < 0.8 * losses[0], losses

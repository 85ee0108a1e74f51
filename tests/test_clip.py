"""CLIP: build, train from scratch (ClipLoss), save/load, eq. 13 guidance loss, text->image recall."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in tests may reach the hub

import pytest
import torch
import torch.nn.functional as F

import inkgen  # noqa: F401  (CPU torchvision fix before open_clip)
from inkgen.models.clip import (ClipConfig, ClipError, build_clip, clip_guidance_loss, count_parameters,
                                embed, freeze, load_clip, retrieval_recall, save_clip)
from inkgen.models.clip_train import train_clip

TINY = ClipConfig(embed_dim=32, image_size=32, patch_size=8, vision_width=64, vision_layers=2,
                  vision_head_width=32, text_width=64, text_layers=2, text_heads=2)
COLOURS = {"red": (1.0, -1.0, -1.0), "green": (-1.0, 1.0, -1.0), "blue": (-1.0, -1.0, 1.0),
           "black": (-1.0, -1.0, -1.0)}


def colour_task(per_colour: int = 8, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    """Solid-colour 32 px images in [-1, 1] with a little noise, captioned 'a <colour> painting'."""
    g = torch.Generator().manual_seed(seed)
    images, captions = [], []
    for name, rgb in COLOURS.items():
        for _ in range(per_colour):
            x = torch.tensor(rgb).view(3, 1, 1).expand(3, 32, 32) + 0.2 * torch.randn(3, 32, 32, generator=g)
            images.append(x.clamp(-1, 1))
            captions.append(f"a {name} painting")
    return torch.stack(images), captions


@pytest.fixture(scope="module")
def trained():
    images, captions = colour_task()
    model = build_clip(TINY, seed=0)
    before = retrieval_recall(model, images, captions, ks=(1,))
    report = train_clip(model, images, captions, epochs=12, batch_size=16, lr=2e-3, weight_decay=0.0,
                        seed=0, threads=1)
    return model, report, before, images, captions


def test_config_round_trip_and_validation():
    assert ClipConfig.from_dict(TINY.to_dict()) == TINY
    assert TINY.model_name() != ClipConfig().model_name()
    with pytest.raises(ClipError, match="patch_size=7 must divide image_size"):
        ClipConfig(image_size=32, patch_size=7)
    with pytest.raises(ClipError, match="unknown keys \\['depth'\\]"):
        ClipConfig.from_dict({"depth": 3})


def test_build_forward_shapes():
    model = build_clip(TINY)
    assert model.clip.token_embedding.num_embeddings == 49408 and model.context_length == 77
    assert model.clip.logit_scale.requires_grad  # learnable temperature
    x = torch.rand(3, 3, 48, 48) * 2 - 1  # any size: resized to 32 inside
    img, txt = model(x, ["a red painting", "a blue painting", "ink"])
    assert img.shape == txt.shape == (3, 32)
    assert torch.allclose(img.norm(dim=-1), torch.ones(3), atol=1e-5)
    counts = count_parameters(model)
    assert counts["total"] == counts["vision"] + counts["text"] > 49408 * 64


def test_bad_prompts_and_images_are_refused():
    model = build_clip(TINY)
    with pytest.raises(ClipError, match="prompt 1 is empty"):
        model.encode_text(["a red painting", " "])
    with pytest.raises(ClipError, match="prompt 0 is .* CLIP tokens long, more than the context length 77"):
        model.encode_text(["ink " * 100])
    with pytest.raises(ClipError, match=r"images must be \(N, 3, H, W\)"):
        model.encode_image(torch.zeros(2, 1, 32, 32))


def test_training_lowers_loss_and_beats_chance(trained):
    model, report, before, images, captions = trained
    assert len(report.epoch_losses) == 12 and report.steps == 24 and report.n_images == 32
    assert report.epoch_losses[-1] < 0.7 * report.epoch_losses[0]
    after = retrieval_recall(model, images, captions, ks=(1, 5))
    assert after["chance@1"] == pytest.approx(0.25)
    assert after["recall@1"] >= 0.75 and after["recall@1"] > before["recall@1"]
    assert after["recall@1"] > after["chance@1"] + 0.4
    assert report.images_per_second > 0


def test_training_is_deterministic_given_the_seed():
    images, captions = colour_task(per_colour=4)
    runs = []
    for seed in (3, 3, 4):
        model = build_clip(TINY, seed=0)
        runs.append(train_clip(model, images, captions, epochs=2, batch_size=8, seed=seed,
                               threads=1).epoch_losses)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # the seed matters (batch order, flips), so the comparison can fail


def test_training_accepts_pairs_and_validation():
    images, captions = colour_task(per_colour=2)
    model = build_clip(TINY, seed=1)
    report = train_clip(model, list(zip(images, captions)), epochs=1, batch_size=4, seed=0, threads=1,
                        val=(images, captions), ks=(1,))
    assert len(report.val_recall) == 1 and set(report.val_recall[0]) == {"n", "recall@1", "chance@1"}
    with pytest.raises(ClipError, match="8 images but 3 captions"):
        train_clip(model, images, captions[:3])


def test_retrieval_recall_by_hand():
    """Recall on hand-made features (identity encoders), so the metric itself is checked."""
    model = build_clip(TINY)
    images, captions = colour_task(per_colour=1)  # 4 distinct captions
    img, txt = embed(model, images, captions)
    rec = retrieval_recall(model, images, captions, ks=(1, 4))
    sim = txt @ img.T
    expected = (sim.argmax(1) == torch.arange(4)).double().mean().item()
    assert rec["recall@1"] == pytest.approx(expected)
    assert rec["recall@4"] == 1.0 and rec["chance@4"] == 1.0 and rec["chance@1"] == pytest.approx(0.25)


def test_save_load_round_trip(tmp_path, trained):
    model, *_ , images, captions = trained
    path = save_clip(model, tmp_path / "clip.pt", params_hash="abc", metrics={"r1": 1.0})
    loaded = load_clip(path)
    assert loaded.config == TINY and loaded.params_hash == "abc" and loaded.metrics == {"r1": 1.0}
    a, b = embed(model, images, captions), embed(loaded, images, captions)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_load_open_clip_style_state_dict(tmp_path):
    model = build_clip(TINY, seed=5)
    plain = tmp_path / "open_clip_model.bin"
    torch.save({"state_dict": {"module." + k: v for k, v in model.clip.state_dict().items()}}, plain)
    loaded = load_clip(plain, TINY)
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(loaded.eval().encode_image(x), model.eval().encode_image(x))
    with pytest.raises(ClipError, match="open_clip_model.bin: not an inkgen CLIP checkpoint.*needs a "
                                        "ClipConfig"):
        load_clip(plain)


def test_bad_checkpoints_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_clip(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    good = save_clip(build_clip(TINY), tmp_path / "good.pt")
    corrupt.write_bytes(good.read_bytes()[:2000])  # truncated
    with pytest.raises(ClipError, match="corrupt.pt: not a readable torch checkpoint"):
        load_clip(corrupt)
    other = ClipConfig(**{**TINY.to_dict(), "vision_layers": 3})
    with pytest.raises(ClipError, match="good.pt: checkpoint architecture .* differs"):
        load_clip(good, other)
    wrong = tmp_path / "wrong_arch.pt"
    torch.save(build_clip(other).clip.state_dict(), wrong)
    with pytest.raises(ClipError, match="wrong_arch.pt: does not fit CLIP architecture"):
        load_clip(wrong, TINY)
    empty = tmp_path / "empty.pt"
    torch.save({"format": "inkgen.clip/1", "config": TINY.to_dict(), "state_dict": {}}, empty)
    with pytest.raises(ClipError, match="empty.pt: holds no state dict"):
        load_clip(empty)


def test_guidance_loss_is_eq13(trained):
    model = freeze(trained[0])
    assert not any(p.requires_grad for p in model.parameters()) and not model.training
    images = (torch.rand(4, 3, 64, 64) * 2 - 1).requires_grad_(True)  # generator range, 64 px
    texts = ["a red painting", "a green painting", "a blue painting", "a black painting"]
    loss = clip_guidance_loss(model, images, texts)
    # by hand: CLIP normalisation + resize, raw features, 1 - cosine, batch mean
    x = F.interpolate((images.detach() + 1) / 2, size=(32, 32), mode="bilinear", antialias=True)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    v_k = model.clip.encode_image((x - mean) / std)
    v_t = model.clip.encode_text(model.tokenize(texts))
    by_hand = 1 - (v_t * v_k).sum(-1) / (v_t.norm(dim=-1) * v_k.norm(dim=-1))
    assert loss.item() == pytest.approx(by_hand.mean().item(), abs=1e-5)
    per = clip_guidance_loss(model, images, texts, reduction="none")
    assert torch.allclose(per, by_hand, atol=1e-5)
    # gradient reaches the generator's images (CLIP itself stays frozen)
    loss.backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


def test_guidance_loss_zero_for_the_matching_direction_and_lower_for_matching_text(trained):
    model = freeze(trained[0])
    images, captions = colour_task(per_colour=1)  # red, green, blue, black
    v_k = model.encode_image(images, normalize=False)
    assert clip_guidance_loss(model, images, 3.0 * v_k).item() == pytest.approx(0.0, abs=1e-5)
    assert clip_guidance_loss(model, images, -v_k).item() == pytest.approx(2.0, abs=1e-5)
    one = model.encode_text(["a red painting"])[0]  # (D,) broadcast to every image
    per = clip_guidance_loss(model, images, one, reduction="none")
    assert per.argmin().item() == 0  # the red image is the one that matches "a red painting" best
    with pytest.raises(ClipError, match="do not match 4 images"):
        clip_guidance_loss(model, images, torch.zeros(3, 32))

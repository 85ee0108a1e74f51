"""Eq. 1 two-head ResNet classifier: shapes, determinism, learning, checkpoints, local weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inkgen.models.classifier import (HEADS, build_classifier, default_classes, embed, load_classifier,
                                      load_initial_weights, predict, predict_proba, save_classifier,
                                      train_classifier)
from torchvision import models as tv_models

SIZE = 32
PRIMARY = default_classes()["primary"]
TYPES = default_classes()["painting_type"]
COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]


def toy_set(n: int, seed: int = 0) -> tuple[list[np.ndarray], dict[str, list[str]]]:
    """Primary category = background colour; painting type = 0, 1 or 2 dark stripes. Trivially learnable."""
    rng = np.random.default_rng(seed)
    images, labels = [], {"primary": [], "painting_type": []}
    for i in range(n):
        p, t = i % 4, (i // 4) % 3
        img = np.empty((SIZE, SIZE, 3), np.uint8)
        img[:] = COLOURS[p]
        for s in range(t):
            img[:, 6 + 12 * s:10 + 12 * s] = 20
        img = np.clip(img + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
        images.append(img)
        labels["primary"].append(PRIMARY[p])
        labels["painting_type"].append(TYPES[t])
    return images, labels


def fit(seed: int = 1, epochs: int = 1, n: int = 24, **kw):
    images, labels = toy_set(n)
    model = build_classifier("resnet18", SIZE, seed=seed)
    report = train_classifier(model, images, labels, epochs=epochs, batch_size=8, lr=kw.get("lr", 2e-3),
                              weight_decay=1e-4, seed=seed, threads=1)
    return model, report, images


def test_forward_shapes_and_probabilities():
    model = build_classifier("resnet18", SIZE).eval()
    out = model(torch.zeros(5, 3, SIZE, SIZE))
    assert out["primary"].shape == (5, 4) and out["painting_type"].shape == (5, 3)
    images, _ = toy_set(5)
    probs = predict_proba(model, images)
    for h in HEADS:
        np.testing.assert_allclose(probs[h].sum(axis=1), 1.0, rtol=1e-5)
    assert embed(model, images).shape == (5, 512)
    rows = predict(model, images)
    assert set(rows[0]) == {"primary", "primary_confidence", "painting_type", "painting_type_confidence"}
    assert rows[0]["primary"] in PRIMARY and 0.25 <= rows[0]["primary_confidence"] <= 1.0


def test_unknown_arch_is_refused():
    with pytest.raises(ValueError, match="resnet101"):
        build_classifier("resnet101", SIZE)


def test_same_seed_same_weights_and_predictions():
    a, ra, images = fit(seed=3)
    b, rb, _ = fit(seed=3)
    c, _, _ = fit(seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert predict(a, images) == predict(b, images)
    assert ra.epoch_loss == rb.epoch_loss
    assert a.trained_heads == HEADS


def test_training_learns_the_toy_task():
    model, report, _ = fit(seed=0, epochs=6, n=48)
    held, labels = toy_set(24, seed=1)
    rows = predict(model, held)
    acc = {h: np.mean([r[h] == t for r, t in zip(rows, labels[h])]) for h in HEADS}
    assert report.epoch_loss[-1] < report.epoch_loss[0]
    assert acc["primary"] >= 0.9 and acc["painting_type"] >= 0.6, acc


def test_second_view_is_drawn_deterministically():
    images, labels = toy_set(12)
    flipped = [img[::-1].copy() for img in images]  # any second view of the same items
    states = []
    for alt in (flipped, flipped, None):
        model = build_classifier("resnet18", SIZE, seed=0)
        train_classifier(model, images, labels, epochs=1, batch_size=6, lr=1e-3, weight_decay=0.0, seed=0,
                         alt_images=alt)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert not all(torch.equal(states[0][k], states[2][k]) for k in states[0])  # the view was used


def test_missing_labels_train_only_the_labelled_head():
    images, labels = toy_set(12)
    labels["painting_type"] = [None] * 12
    model = build_classifier("resnet18", SIZE)
    train_classifier(model, images, labels, epochs=1, batch_size=6, lr=1e-3, weight_decay=0.0, seed=0)
    assert model.trained_heads == ("primary",)
    labels["primary"][3] = "not-a-category"
    with pytest.raises(ValueError, match=r"\[3\] have no known label"):
        train_classifier(model, images, labels, epochs=1, batch_size=6, lr=1e-3, weight_decay=0.0, seed=0)


def test_checkpoint_round_trip(tmp_path):
    model, _, images = fit(seed=2)
    path = save_classifier(model, tmp_path / "c.pt", params_hash="abc", metrics={"acc": 0.5})
    loaded = load_classifier(path)
    assert (loaded.arch, loaded.input_size, loaded.params_hash) == ("resnet18", SIZE, "abc")
    assert loaded.classes == default_classes() and loaded.metrics == {"acc": 0.5}
    assert loaded.trained_heads == HEADS
    assert predict(loaded, images) == predict(model, images)


def test_load_classifier_refuses_a_plain_state_dict(tmp_path):
    torch.save(tv_models.resnet18(weights=None).state_dict(), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="not an inkgen classifier"):
        load_classifier(tmp_path / "plain.pt")


def test_start_from_plain_torchvision_weights(tmp_path):
    torch.manual_seed(9)
    plain = tv_models.resnet18(weights=None)  # 1000-way ImageNet fc, as a downloaded checkpoint has
    torch.save(plain.state_dict(), tmp_path / "resnet18.pth")
    model = build_classifier("resnet18", SIZE, seed=0)
    fc_before = model.backbone.fc.weight.clone()
    msg = load_initial_weights(model, tmp_path / "resnet18.pth")
    assert "trunk only" in msg and "backbone.fc.weight" in msg
    assert torch.equal(model.backbone.conv1.weight, plain.conv1.weight)
    assert torch.equal(model.backbone.layer4[1].bn2.running_var, plain.layer4[1].bn2.running_var)
    assert torch.equal(model.backbone.fc.weight, fc_before)  # the 7-way head is untouched
    assert model.trained_heads == ()


def test_start_from_own_checkpoint_keeps_heads(tmp_path):
    trained, _, images = fit(seed=5)
    save_classifier(trained, tmp_path / "own.pt")
    model = build_classifier("resnet18", SIZE, seed=0)
    msg = load_initial_weights(model, tmp_path / "own.pt")
    assert "trunk and heads" in msg and model.trained_heads == HEADS
    assert predict(model, images) == predict(trained, images)


def test_wrong_architecture_weights_are_refused(tmp_path):
    torch.save(tv_models.resnet34(weights=None).state_dict(), tmp_path / "r34.pth")
    with pytest.raises(ValueError, match="trunk tensors match"):
        load_initial_weights(build_classifier("resnet18", SIZE), tmp_path / "r34.pth")
    save_classifier(build_classifier("resnet34", SIZE), tmp_path / "own34.pt")
    with pytest.raises(ValueError, match="resnet34"):
        load_initial_weights(build_classifier("resnet18", SIZE), tmp_path / "own34.pt")
    with pytest.raises(FileNotFoundError):
        load_initial_weights(build_classifier("resnet18", SIZE), tmp_path / "absent.pt")

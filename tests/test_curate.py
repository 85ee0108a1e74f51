"""The curate stage end to end on a small synthetic raw folder: resize, train, screen, quarantine."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from inkgen import config
from inkgen.data.curate import stratified_holdout
from inkgen.stages.curate import run as run_curate
from inkgen.data.raw_store import RawStore
from inkgen.data.records import CuratedItem, read_jsonl, sha256_file
from inkgen.models.classifier import default_classes, load_classifier

PRIMARY = default_classes()["primary"]
TYPES = default_classes()["painting_type"]
N = 24


def paint(i: int, rng: np.random.Generator) -> np.ndarray:
    """A 96 px 'painting' whose subject shape says its primary category and its stroke its type."""
    p, t = i % 4, (i // 4) % 3
    img = np.full((96, 96 if i % 2 else 80, 3), 245, np.uint8)
    if i % 12 == 11:
        return img  # blank paper: eq. 5 centre crop
    s = 14 if i % 6 == 0 else int(rng.integers(30, 38))  # some subjects smaller than the 32 px target
    cx, cy = int(rng.integers(s, img.shape[1] - s)), int(rng.integers(s, 96 - s))
    thickness = -1 if t == 0 else (1 if t == 2 else 3)
    if p == 0:
        pts = np.array([[cx - s, cy + s], [cx + s, cy + s], [cx, cy - s]], np.int32)
        cv2.polylines(img, [pts], True, (20, 20, 20), max(thickness, 1)) if t else cv2.fillPoly(
            img, [pts], (20, 20, 20))
    elif p == 1:
        cv2.ellipse(img, (cx, cy), (s // 3, s), 0, 0, 360, (20, 20, 20), thickness)
    elif p == 2:
        cv2.circle(img, (cx, cy), s, (20, 20, 20), thickness)
    else:
        cv2.rectangle(img, (cx - s, cy - s // 2), (cx + s, cy + s // 2), (20, 20, 20), thickness)
    return img


def make_raw(root: Path, *, labelled: bool = True, corrupt: bool = True) -> None:
    rng = np.random.default_rng(0)
    store = RawStore(root / "data" / "raw")
    for i in range(N):
        truth = {"primary": PRIMARY[i % 4], "painting_type": TYPES[(i // 4) % 3]} if labelled else None
        store.add_image(f"p{i:03d}", Image.fromarray(paint(i, rng)), source="procedural", license="CC0",
                        truth=truth)
    if corrupt:
        store.add_png("zz-broken", b"\x89PNG\r\n\x1a\n not really a png", 96, 96, source="procedural",
                      license="CC0", truth={"primary": PRIMARY[0], "painting_type": TYPES[0]})
    store.close()


def make_params(raw_params: dict, **curate) -> config.Params:
    raw = config.apply_overrides(raw_params, raw_params["profiles"]["smoke"], "profiles.smoke")
    raw["curate"]["classifier"]["threads"] = 1
    raw["curate"]["classifier"]["epochs"] = 2
    for key, value in curate.items():
        section = raw["curate"]["classifier"] if key in raw["curate"]["classifier"] else raw["curate"]
        section[key] = value
    return config.parse(raw)


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """One curate run over 24 labelled items and one corrupt file (smoke profile: resnet18 at 32 px)."""
    root = tmp_path_factory.mktemp("curate")
    make_raw(root)
    raw_params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    summary = run_curate(make_params(raw_params), root)
    return root, raw_params, summary


def test_every_item_is_accounted_for(curated):
    root, raw_params, summary = curated
    threshold = make_params(raw_params).curate.screen_threshold
    cur = root / "data" / "curated"
    kept = [CuratedItem.from_dict(r) for r in read_jsonl(cur / "curated.jsonl")]
    held = list(read_jsonl(cur / "quarantine.jsonl"))
    assert summary.n_raw == N + 1
    assert len(kept) + len(held) == N + 1 == summary.n_kept + summary.n_screened + summary.n_unreadable
    assert [k.record.item_id for k in kept] == sorted(k.record.item_id for k in kept)
    broken = [q for q in held if q["item_id"] == "zz-broken"]
    assert len(broken) == 1 and broken[0]["reason"].startswith("unreadable raw image")
    assert list(summary.unreadable["item_id"]) == ["zz-broken"]
    for item in kept:
        path = cur / item.record.file
        assert item.record.file == f"images/{item.record.item_id}.png"
        assert sha256_file(path) == item.record.sha256
        assert (item.record.width, item.record.height) == (32, 32)
        assert cv2.imread(str(path)).shape == (32, 32, 3)
        assert item.raw_sha256 == sha256_file(root / "data" / "raw" / "images" / f"{item.record.item_id}.png")
        assert item.confidence >= threshold and set(item.predicted) >= {"primary", "painting_type"}


def test_every_resize_branch_is_taken_and_counted(curated):
    _, _, summary = curated
    assert sum(summary.branch_counts.values()) == N
    assert all(summary.branch_counts[b] > 0 for b in ("crop_scale", "scale_pad", "center_crop"))
    assert {b for _, _, b in summary.examples} == {"crop_scale", "scale_pad", "center_crop"}
    assert all(before.is_file() and after.is_file() for before, after, _ in summary.examples)
    # blank paper (items 11 and 23) has nothing to find: centre-cropped, and said so
    assert summary.metrics["center_crop_reasons"] == {"uniform image": 2}
    assert summary.branch_counts["center_crop"] == 2


def test_centre_cropped_records_say_why(curated):
    root, _, _ = curated
    items = [CuratedItem.from_dict(r) for r in read_jsonl(root / "data" / "curated" / "curated.jsonl")]
    screened = {q["item_id"] for q in read_jsonl(root / "data" / "curated" / "quarantine.jsonl")}
    for item in items:
        assert (item.resize_reason != "") == (item.resize_branch == "center_crop")
    blank = {"p011", "p023"} - screened
    assert {i.record.item_id for i in items if i.resize_branch == "center_crop"} == blank
    metrics = json.loads((root / "reports" / "metrics" / "curate.json").read_text())
    assert metrics["branch_counts"]["center_crop"] == 2


def test_image_spool_reads_back_what_was_written(tmp_path):
    from inkgen.data.image_spool import ImageSpool

    spool = ImageSpool(tmp_path / "s.u8", (4, 5, 3))
    images = [np.full((4, 5, 3), i, np.uint8) for i in range(7)]
    for img in images:
        spool.append(img)
    assert len(spool) == 7 and spool[3].tolist() == images[3].tolist() and spool[-1][0, 0, 0] == 6
    assert [int(a[0, 0, 0]) for a in spool[2:5]] == [2, 3, 4]
    assert [int(a[0, 0, 0]) for a in spool.subset([6, 0])] == [6, 0]
    with pytest.raises(ValueError, match="uint8"):
        spool.append(np.zeros((4, 5, 3), np.float32))
    with pytest.raises(IndexError):
        spool[7]
    spool.close()
    assert not (tmp_path / "s.u8").exists()


def test_metrics_checkpoint_and_confusion_tables(curated):
    root, _, summary = curated
    metrics = json.loads((root / "reports" / "metrics" / "curate.json").read_text())
    assert metrics["n_raw"] == N + 1 and metrics["n_train"] + sum(metrics["n_holdout"].values()) // 2 == N
    assert metrics["train_seconds"] > 0 and metrics["train_images_per_second"] > 0
    for key in ("heldout_accuracy", "heldout_accuracy_curated"):
        assert set(metrics[key]) == {"primary", "painting_type"}
        assert all(0.0 <= a <= 1.0 for a in metrics[key].values())
    assert summary.n_holdout == 4  # round(0.2 * 6) per primary stratum: 1 of each
    for head, classes in default_classes().items():
        cm = summary.confusion[head]
        assert list(cm.index) == classes and list(cm.columns) == classes
        assert (cm.index.name, cm.columns.name) == ("true", "predicted")
        assert cm.to_numpy().sum() == summary.n_holdout
    model = load_classifier(root / "models" / "classifier.pt")
    assert model.arch == "resnet18" and model.input_size == 32
    assert model.metrics["n_raw"] == N + 1 and len(model.params_hash) == 64
    assert "train_seconds" not in model.metrics  # timings vary run to run; the checkpoint must not


def test_same_params_give_identical_outputs(curated, tmp_path):
    root, raw_params, _ = curated
    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    run_curate(make_params(raw_params), tmp_path)
    for rel in ("data/curated/curated.jsonl", "data/curated/quarantine.jsonl"):
        assert (tmp_path / rel).read_bytes() == (root / rel).read_bytes()
    a = torch.load(root / "models" / "classifier.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "models" / "classifier.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt = "models/classifier.pt"
    assert sha256_file(tmp_path / ckpt) == sha256_file(root / ckpt)  # equal params, equal bytes


def test_low_confidence_items_are_screened_with_reason(curated, tmp_path):
    """Reuse the first run's classifier (no training) with a threshold that splits the items."""
    root, raw_params, first = curated
    shutil.copytree(root / "data" / "raw", tmp_path / "data" / "raw")
    weights = tmp_path / "judge.pt"
    shutil.copy(root / "models" / "classifier.pt", weights)
    confs = sorted(json.loads(line)["confidence"] for line in
                   (root / "data" / "curated" / "curated.jsonl").read_text().splitlines())
    threshold = round(float(np.median(confs)), 2)
    summary = run_curate(make_params(raw_params, weights=str(weights), epochs=0,
                                     screen_threshold=threshold), tmp_path)
    assert "trunk and heads" in summary.classifier_init and summary.train is None
    cur = tmp_path / "data" / "curated"
    held = {q["item_id"]: q for q in read_jsonl(cur / "quarantine.jsonl")}
    kept = {r["record"]["item_id"]: r for r in read_jsonl(cur / "curated.jsonl")}
    assert summary.n_screened == len(summary.screened) > 0 and summary.n_kept > 0
    for row in summary.screened.itertuples():
        entry = held[row.item_id]
        m = re.fullmatch(r"low classifier confidence \((\d\.\d\d) < (\d\.\d\d)\)", entry["reason"])
        assert m and float(m.group(2)) == threshold and row.confidence < threshold
        assert entry["file"] == f"screened/{row.item_id}.png" and (cur / entry["file"]).is_file()
        assert not (cur / "images" / f"{row.item_id}.png").exists()
        assert row.item_id not in kept
    assert all(r["confidence"] >= threshold for r in kept.values())


def test_no_labels_and_no_weights_skips_screening(tmp_path, raw_params):
    make_raw(tmp_path, labelled=False, corrupt=False)
    summary = run_curate(make_params(raw_params, screen_threshold=0.9), tmp_path)
    assert summary.screening_skipped and "no labelled items" in summary.screening_skipped
    assert summary.n_kept == N and summary.n_screened == 0 and summary.train is None
    assert all(math.isnan(a) for a in summary.accuracy.values())
    rows = list(read_jsonl(tmp_path / "data" / "curated" / "curated.jsonl"))
    assert all(r["predicted"] == {} and r["confidence"] is None for r in rows)
    metrics = json.loads((tmp_path / "reports" / "metrics" / "curate.json").read_text())
    assert metrics["heldout_accuracy"] == {"primary": None, "painting_type": None}


def test_stratified_holdout_is_deterministic_and_stratified():
    strata = ["a"] * 10 + ["b"] * 5 + ["c"]
    m1 = stratified_holdout(strata, 0.2, seed=7)
    assert (m1 == stratified_holdout(strata, 0.2, seed=7)).all()
    assert not (m1 == stratified_holdout(strata, 0.2, seed=8)).all()
    assert m1[:10].sum() == 2 and m1[10:15].sum() == 1 and not m1[15]

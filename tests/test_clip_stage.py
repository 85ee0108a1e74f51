"""The clip stage: trains a CLIP on the training split (or loads a local one) and reports recall."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inkgen import config
from inkgen.stages.clip import run as run_clip
from inkgen.data.records import sha256_file
from inkgen.models.clip import load_clip

COLOURS = {"red": (200, 30, 30), "green": (30, 160, 60), "blue": (40, 60, 200), "black": (10, 10, 10)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _project(tmp_path, raw_params):
    rows = []
    for i in range(40):
        name = list(COLOURS)[i % 4]
        path = tmp_path / "data" / "curated" / "images" / f"it-{i:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((32, 32, 3), COLOURS[name], np.uint8)).save(path)
        rows.append({"item_id": f"it-{i:02d}", "file": str(path.relative_to(tmp_path)), "sha256": sha256_file(path),
                     "split": "val" if i >= 32 else "train", "caption": f"a {name} painting",
                     "themes": "", "techniques": "", "elements": ""})
    (tmp_path / "data" / "dataset").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(tmp_path / "data" / "dataset" / "manifest.csv", index=False)
    raw = config.apply_overrides(raw_params, raw_params["profiles"]["smoke"], "profiles.smoke")
    raw["clip"].update(epochs=8, batch_size=8, lr=0.002, threads=1)
    return raw


def test_trains_from_scratch_reports_recall_and_saves(tmp_path, raw_params):
    params = config.parse(_project(tmp_path, raw_params))
    summary = run_clip(params, tmp_path)
    assert summary.source == "trained from scratch" and (summary.n_train, summary.n_val) == (32, 8)
    assert len(summary.loss_curve()) == 8
    assert summary.loss_curve()["loss"].iloc[-1] < summary.loss_curve()["loss"].iloc[0]
    # four distinct captions among eight validation images: recall@1 beats chance once it has learnt
    assert summary.recall.loc["recall@1", "validation split"] > summary.recall.loc["recall@1", "chance"]
    metrics = json.loads((tmp_path / "reports" / "metrics" / "clip.json").read_text())
    assert metrics["val_recall@5"] == summary.recall.loc["recall@5", "validation split"]
    assert load_clip(summary.checkpoint).config.embed_dim == params.clip.model.embed_dim


def test_loads_a_local_checkpoint_instead_of_training(tmp_path, raw_params):
    raw = _project(tmp_path, raw_params)
    first = run_clip(config.parse(raw), tmp_path)
    moved = tmp_path / "inputs" / "clip" / "mine.pt"
    moved.parent.mkdir(parents=True)
    first.checkpoint.rename(moved)
    raw["clip"]["pretrained"] = "inputs/clip/mine.pt"
    second = run_clip(config.parse(raw), tmp_path)
    assert second.source == "loaded from mine.pt" and second.report is None
    assert second.recall.equals(first.recall)


def test_the_judge_is_trained_separately_and_never_the_guide(tmp_path, raw_params):
    from inkgen.judge import JudgeError

    raw = _project(tmp_path, raw_params)
    raw["judge"].update(epochs=2, batch_size=8, threads=1)
    params = config.parse(raw)
    guide = run_clip(params, tmp_path)
    judge = run_clip(params, tmp_path, role="judge")
    assert judge.checkpoint.name == "clip_judge.pt" and judge.checkpoint != guide.checkpoint
    assert load_clip(judge.checkpoint).config.patch_size == params.judge.model.patch_size != params.clip.model.patch_size
    metrics = json.loads((tmp_path / "reports" / "metrics" / "judge.json").read_text())
    assert metrics["role"] == "judge" and metrics["guide_val_recall@1"] == guide.metrics["val_recall@1"]
    # a judge loaded from the guide's file, or from a copy of its bytes, is refused before any work
    copy = tmp_path / "inputs" / "clip" / "copy.pt"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(guide.checkpoint.read_bytes())
    for path in ("models/clip.pt", "inputs/clip/copy.pt"):
        bad = config.parse({**raw, "judge": {**raw["judge"], "pretrained": path}})
        with pytest.raises(JudgeError, match="judge.pretrained"):
            run_clip(bad, tmp_path, role="judge")
    same = {**raw, "clip": {**raw["clip"], "pretrained": "inputs/clip/copy.pt"},
            "judge": {**raw["judge"], "pretrained": "inputs/clip/copy.pt"}}
    with pytest.raises(config.ParamsError, match="judge.pretrained.*guide's file"):
        config.parse(same)
    with pytest.raises(config.ParamsError, match="judge.seed"):
        config.parse({**raw, "judge": {**raw["judge"], "seed": raw["clip"]["seed"]}})

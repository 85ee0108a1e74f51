"""Stage training_screen and the exclusion list every training run reads (paper section 6.2): a registered
protected work's copy in the training split is listed with its reason and kept out of training; a list made for
another registry or manifest, or missing while a registry is named, is refused before any training."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from PIL import ImageOps

from governance.calibration import procedural_work
from governance.phash import phash
from governance.registry import RegisteredWork, write_registry
from inkgen import config
from inkgen.data.exclusions import exclusions_path, read_exclusions
from inkgen.data.records import sha256_file
from inkgen.layout import Layout
from inkgen.stages import training_screen

N_TRAIN = 5


@pytest.fixture()
def project(tmp_path, raw_params):
    """A manifest of 5 training, 2 validation and 1 test image; item t2 is a mirrored copy of a protected work."""
    files = tmp_path / "data" / "curated"
    files.mkdir(parents=True)
    protected = procedural_work(7, 64)
    images = {f"t{i}": procedural_work(100 + i, 64) for i in range(N_TRAIN)} | {
        "v0": procedural_work(200, 64), "v1": procedural_work(201, 64), "x0": procedural_work(300, 64)}
    images["t2"] = ImageOps.mirror(protected)
    rows = []
    for item_id, image in images.items():
        image.resize((64, 64)).save(files / f"{item_id}.png")  # one size: the split is one array
        rows.append({"item_id": item_id, "file": f"data/curated/{item_id}.png",
                     "sha256": sha256_file(files / f"{item_id}.png"), "split": {"t": "train", "v": "val", "x": "test"}[item_id[0]],
                     "caption": f"a painting {item_id}", "themes": "", "techniques": "", "elements": ""})
    manifest = Layout(config.parse(raw_params), tmp_path).manifest
    manifest.parent.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(manifest, index=False)
    works = tmp_path / "inputs" / "governance"
    works.mkdir(parents=True)
    protected.save(works / "reg-1.png")
    write_registry(works / "registry.csv", [
        RegisteredWork("reg-1", "Estate of a Painter", "protected", phash(protected), "Protected Work", file="reg-1.png")])
    return tmp_path


def _params(raw_params, registry: str = "inputs/governance/registry.csv"):
    raw_params["governance"]["registry"] = registry
    return config.parse(raw_params)


def test_a_copy_of_a_protected_work_is_listed_with_its_reason_and_kept_out(project, raw_params):
    params = _params(raw_params)
    summary = training_screen.run(params, root=project)
    assert (summary["training_items_screened"], summary["excluded"]) == (N_TRAIN, 1)
    [item] = summary["excluded_items"]
    assert item["item_id"] == "t2" and "reg-1 (protected, Estate of a Painter)" in item["reason"]
    excluded = read_exclusions(params, project)
    assert list(excluded["item_id"]) == ["t2"]
    metrics = json.loads(Layout(params, project).stage_metrics("training_screen").read_text())
    assert metrics["excluded"] == 1 and metrics["registry"] == "inputs/governance/registry.csv"


def test_without_a_registry_nothing_is_screened_and_the_list_is_the_same_bytes_each_run(project, raw_params):
    params = _params(raw_params, "")
    assert read_exclusions(params, project).empty  # no list yet, no registry: nothing to keep out
    summary = training_screen.run(params, root=project)
    assert (summary["training_items_screened"], summary["excluded"], summary["registry"]) == (0, 0, None)
    first = exclusions_path(params, project).read_bytes()
    training_screen.run(params, root=project)
    assert exclusions_path(params, project).read_bytes() == first  # no timing in it: DVC re-trains nothing
    assert read_exclusions(params, project).empty


def test_a_missing_or_stale_list_is_refused_naming_what_changed(project, raw_params):
    params = _params(raw_params)
    with pytest.raises(ValueError, match="governance.registry: 'inputs/governance/registry.csv' is set but .* "
                                         "is missing; run stage training_screen"):
        read_exclusions(params, project)
    training_screen.run(params, root=project)
    with pytest.raises(ValueError, match="stale: it screened governance.registry 'inputs/governance/registry.csv', params name ''"):
        read_exclusions(_params(raw_params, ""), project)
    registry = project / "inputs/governance/registry.csv"
    registry.write_text(registry.read_text() + "\n")
    with pytest.raises(ValueError, match="stale: the registry file inputs/governance/registry.csv changed"):
        read_exclusions(params, project)
    training_screen.run(params, root=project)
    manifest = Layout(params, project).manifest
    manifest.write_text(manifest.read_text().replace("a painting t0", "a landscape t0"))
    with pytest.raises(ValueError, match="stale: the manifest .*manifest.csv changed"):
        read_exclusions(params, project)
    exclusions_path(params, project).write_text("{not json")
    with pytest.raises(ValueError, match="not a training screen"):
        read_exclusions(params, project)


def test_training_reads_the_split_without_the_listed_items_and_their_features(project, raw_params):
    from inkgen.stages import text_features
    from inkgen.training.runs import load_data

    params = _params(raw_params)
    training_screen.run(params, root=project)
    text_features.run(params, root=project)
    data = load_data(params, project)
    assert list(data.train.rows["item_id"]) == ["t0", "t1", "t3", "t4"] and len(data.train.images) == 4
    assert list(data.excluded["item_id"]) == ["t2"]
    assert data.train_text.pooled.shape[0] == 4  # the features of the kept captions, in order

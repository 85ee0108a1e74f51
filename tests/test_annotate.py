"""The annotate stage end to end on a synthetic curated folder: outputs, quarantine, kappa, failing stop."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inkgen.config import parse
from inkgen.stages.annotate import run as run_annotate
from inkgen.data.raw_store import QuarantineEntry
from inkgen.data.records import CuratedItem, Record, read_jsonl, sha256_file, write_jsonl
from inkgen.data.taxonomy import load_taxonomy
from inkgen.data.validate import ValidationFailed

TAX = load_taxonomy()
SIZE = 32


def _image(path: Path, seed: int) -> None:
    # smooth random blobs: distinct perceptual hashes for distinct seeds, like distinct paintings
    pixels = (np.random.default_rng(seed).random((6, 6, 3)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).resize((SIZE, SIZE), Image.BILINEAR).save(path)


def make_curated(root: Path, n_procedural: int = 40) -> list[CuratedItem]:
    """``data/curated`` under ``root``: procedural items across all strata, museum and folder items."""
    curated = root / "data" / "curated"
    secondaries = list(TAX.secondary)
    types = list(TAX.painting_types)
    elements = list(TAX.elements)
    items = []

    def add(item_id, seed, **fields):
        file = f"images/{item_id}.png"
        _image(curated / file, seed)
        rec = Record(item_id=item_id, file=file, sha256=sha256_file(curated / file), width=SIZE, height=SIZE,
                     license=fields.pop("license", "CC0-1.0"), **fields)
        items.append(CuratedItem(record=rec, raw_sha256="f" * 64, resize_branch="center_crop",
                                 predicted={"primary": "landscape", "primary_confidence": 0.6,
                                            "painting_type": "xieyi", "painting_type_confidence": 0.6},
                                 confidence=0.6))

    for i in range(n_procedural):
        secondary = secondaries[i % len(secondaries)]
        add(f"procedural-{i:06d}", i, source="procedural", period="qing", truth={
            "painting_type": types[i % 3], "primary": TAX.primary_of(secondary), "secondary": secondary,
            "elements": [elements[i % len(elements)], elements[(i * 7 + 3) % len(elements)]],
            "techniques": [list(TAX.techniques)[i % 18]], "period": "qing", "seed": i,
            "format": "album_leaf"})
    add("met-000001", 1001, source="met", title="Bamboo and Rock")
    add("met-000002", 1002, source="met", title="Untitled")
    add("folder-000001", 1003, source="folder", title="Scroll",
        truth={"origin": "metadata_csv", "painting_type": "gongbi"})
    write_jsonl(curated / "curated.jsonl", items)
    return items


@pytest.fixture()
def params(raw_params):
    return parse(raw_params)


def test_run_annotate_writes_a_validated_split_manifest(tmp_path, params):
    make_curated(tmp_path)
    summary = run_annotate(params, root=tmp_path)

    manifest = pd.read_csv(tmp_path / "data/dataset/manifest.csv")
    assert len(manifest) == 43 and manifest["item_id"].is_unique
    assert {"item_id", "file", "sha256", "width", "height", "source", "license", "split", "painting_type",
            "primary", "secondary", "period", "themes", "techniques", "elements", "caption", "label_origin",
            "phash", "near_dup_group"} <= set(manifest.columns)
    assert all((tmp_path / f).is_file() for f in manifest["file"])  # paths relative to the project root
    assert manifest["split"].value_counts().to_dict() == {"train": 32, "val": 4, "test": 4, "withheld": 3}
    # annotate.withheld_secondary's items are in no training split
    assert set(manifest.loc[manifest["split"] == "withheld", "secondary"]) == {"insects_fish"}
    assert "insects_fish" not in set(manifest.loc[manifest["split"] != "withheld", "secondary"])

    by_id = manifest.set_index("item_id")
    assert by_id.loc["procedural-000000", "label_origin"] == "truth"
    assert by_id.loc["met-000001", "label_origin"] == "classifier"
    assert by_id.loc["met-000001", "elements"] == "bamboo|rock"
    assert by_id.loc["folder-000001", "painting_type"] == "gongbi"  # metadata CSV over the classifier

    assert summary.validation.success
    saved = json.loads((tmp_path / "data/dataset/validation.json").read_text())
    assert saved["success"] is True
    metrics_text = (tmp_path / "reports/metrics/annotate.json").read_text()
    assert metrics_text.endswith("}\n")  # a text file: ends in a newline
    assert (tmp_path / "data/dataset/validation.json").read_text().endswith("}\n")
    metrics = json.loads(metrics_text)
    assert metrics["n_items"] == 43 and metrics["n_per_split"] == {"train": 32, "val": 4, "test": 4, "withheld": 3}
    assert sum(metrics["n_per_primary"].values()) == 43 and metrics["validation_success"] is True
    assert metrics["fleiss_kappa"] is None and "No human-annotation CSV" in summary.agreement_note

    assert summary.split_table.loc["total", "total"] == 43
    assert list(summary.split_table.columns) == ["train", "val", "test", "withheld", "total"]
    assert len(summary.examples) == len(TAX.primary)
    lines = (tmp_path / "data/dataset/captions.jsonl").read_text().splitlines()
    captions = [json.loads(line) for line in lines]
    assert len(captions) == 43 and captions[0]["adjectives"]


def test_the_same_inputs_give_the_same_manifest(tmp_path, params):
    make_curated(tmp_path)
    run_annotate(params, root=tmp_path)
    first = (tmp_path / "data/dataset/manifest.csv").read_bytes()
    run_annotate(params, root=tmp_path)
    assert (tmp_path / "data/dataset/manifest.csv").read_bytes() == first


def test_unusable_items_are_quarantined_like_in_the_other_stages(tmp_path, params):
    items = make_curated(tmp_path)
    missing, tampered = items[5].record, items[6].record
    (tmp_path / "data/curated" / missing.file).unlink()
    _image(tmp_path / "data/curated" / tampered.file, 999)
    summary = run_annotate(params, root=tmp_path)
    assert len(summary.manifest) == 41 and summary.metrics["n_quarantined"] == 2

    # the same shape as collect's and curate's quarantine lists: QuarantineEntry's fields, nothing else
    saved = {q["item_id"]: q for q in read_jsonl(tmp_path / "data/dataset/quarantine.jsonl")}
    assert set(saved) == {missing.item_id, tampered.item_id}
    assert all(QuarantineEntry(**q) for q in saved.values())
    assert list(summary.quarantine.columns) == ["item_id", "source", "reason", "file", "sha256", "context"]
    assert summary.quarantine.to_dict("records") == [saved[i] for i in summary.quarantine["item_id"]]

    gone, changed = saved[missing.item_id], saved[tampered.item_id]
    assert gone["source"] == missing.source == "procedural"
    assert "No such file" in gone["reason"] and str(tmp_path) not in gone["reason"]
    assert gone["file"] == f"data/curated/{missing.file}" and gone["sha256"] is None  # nothing to hash
    assert "SHA-256" in changed["reason"] and changed["file"] == f"data/curated/{tampered.file}"
    assert changed["sha256"] == sha256_file(tmp_path / changed["file"]) != tampered.sha256  # as found
    assert changed["context"] == {"curated_file": tampered.file, "curated_sha256": tampered.sha256}


def test_human_labels_win_and_kappa_is_reported(tmp_path, raw_params):
    make_curated(tmp_path)
    rows = []
    for i in range(12):  # three annotators agree on procedural items, so kappa is 1
        truth_type = list(TAX.painting_types)[i % 3]
        rows += [(f"procedural-{i:06d}", a, "painting_type", truth_type) for a in ("ann-a", "ann-b", "ann-c")]
    rows += [("met-000002", a, "primary", v) for a, v in (("ann-a", "figure"), ("ann-b", "figure"),
                                                          ("ann-c", "landscape"))]
    rows += [("met-000002", a, "painting_type", "baimiao") for a in ("ann-a", "ann-b")]
    # every period rating the same: chance agreement is 1, so kappa is undefined (NaN)
    rows += [(f"procedural-{i:06d}", a, "period", "qing") for i in (0, 1) for a in ("ann-a", "ann-b")]
    with open(tmp_path / "human.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("item_id", "annotator", "field", "value"), *rows])
    raw_params["annotate"]["human_annotations"] = "human.csv"
    summary = run_annotate(parse(raw_params), root=tmp_path)

    kappa = summary.agreement.set_index("field")
    assert kappa.loc["painting_type", "kappa"] == pytest.approx(1.0)
    assert kappa.loc["painting_type", "n_items"] == 12 and kappa.loc["painting_type", "n_annotators"] == 3
    met = summary.manifest.set_index("item_id").loc["met-000002"]
    # the annotators' majority (2 of 3) wins over the classifier's landscape / xieyi
    assert (met["primary"], met["painting_type"], met["label_origin"]) == ("figure", "baimiao", "human")
    assert summary.metrics["fleiss_kappa"]["painting_type"] == 1.0
    assert np.isnan(kappa.loc["period", "kappa"]) and summary.metrics["fleiss_kappa"]["period"] is None

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    saved = json.loads((tmp_path / "reports/metrics/annotate.json").read_text(), parse_constant=refuse)
    assert saved["fleiss_kappa"] == {"painting_type": 1.0, "period": None,
                                     "primary": summary.metrics["fleiss_kappa"]["primary"]}


def test_a_failing_validation_stops_the_stage_and_writes_no_manifest(tmp_path, params):
    make_curated(tmp_path, n_procedural=20)
    strict = dataclasses.replace(params,
                                 annotate=dataclasses.replace(params.annotate, min_image_size=SIZE + 1))
    with pytest.raises(ValidationFailed, match=r"width >= 33.*procedural-000000"):
        run_annotate(strict, root=tmp_path)
    assert not (tmp_path / "data/dataset/manifest.csv").exists()
    assert json.loads((tmp_path / "data/dataset/validation.json").read_text())["success"] is False

"""Provenance records, lineage, PNG provenance chunks, PROV-JSON export and `verify` under tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from governance.digest import sha256_file
from governance.ledger import Ledger, LedgerError
from governance.pngmeta import ImageMetadataError, read_provenance, save_with_provenance
from governance.prov_export import prov_json
from governance.provenance import (ProvenanceError, item_ids_from_csv, lineage, record_artifact,
                                   record_source_records, record_stage)
from governance.verify import verify


def _png(path: Path, seed: int, size: int = 24) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def _records(n: int) -> list[dict]:
    return [{"item_id": f"item-{i}", "license": "CC0" if i % 2 else "public domain", "sha256": f"{i:064x}",
             "url": f"https://museum.example/{i}", "source": "met"} for i in range(n)]


@pytest.fixture()
def study(tmp_path):
    """A small study: raw images, a manifest, a training stage writing a checkpoint."""
    ledger = Ledger(tmp_path / "governance" / "ledger.jsonl", root=tmp_path)
    raw = tmp_path / "data" / "raw"
    for i in range(4):
        _png(raw / f"item-{i}.png", i)
    record_source_records(ledger, _records(4))
    manifest = tmp_path / "data" / "manifest.csv"
    manifest.write_text("item_id,phash\n" + "".join(f"item-{i},{i:016x}\n" for i in range(4)), encoding="utf-8")
    man = record_artifact(ledger, manifest, "training_manifest", sources=item_ids_from_csv(manifest, "item_id"))
    ckpt = tmp_path / "models" / "model.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"weights" * 100)
    record_stage(ledger, "train", [manifest, raw], {"lr": 0.001, "epochs": 2}, [ckpt], roles={str(ckpt): "checkpoint"})
    return ledger, raw, manifest, ckpt, man


def test_artifacts_are_hashed_with_relative_paths(study, tmp_path):
    ledger, raw, manifest, ckpt, man = study
    assert man.payload["path"] == "data/manifest.csv"
    assert man.payload["sha256"] == sha256_file(manifest) and man.payload["size"] == manifest.stat().st_size
    assert man.payload["sources"] == [f"item-{i}" for i in range(4)]
    tree = next(e for e in ledger.find("artifact") if e.payload["path"] == "data/raw")
    assert tree.payload["type"] == "tree" and [f[0] for f in tree.payload["files"]] == [f"item-{i}.png" for i in range(4)]
    stage = ledger.find("stage")[0].payload
    assert stage["params"] == {"lr": 0.001, "epochs": 2} and len(stage["params_sha256"]) == 64
    assert [o["path"] for o in stage["outputs"]] == ["models/model.pt"]


def test_record_stage_does_not_re_record_unchanged_inputs(study):
    ledger, raw, manifest, ckpt, _ = study
    before = len(ledger.find("artifact"))
    record_stage(ledger, "train", [manifest, raw], {"lr": 0.001, "epochs": 2}, [ckpt])
    assert len(ledger.find("artifact")) == before
    ckpt.write_bytes(b"other weights")
    record_stage(ledger, "train", [manifest, raw], {"lr": 0.001, "epochs": 3}, [ckpt])
    assert len(ledger.find("artifact")) == before + 1


def test_bad_records_and_paths_are_refused_naming_them(study, tmp_path):
    ledger = study[0]
    n = len(list(ledger.entries()))
    with pytest.raises(ProvenanceError, match="item-9: missing license"):
        record_source_records(ledger, [{"item_id": "item-8", "license": "CC0", "sha256": "a" * 64},
                                       {"item_id": "item-9", "sha256": "b" * 64}])
    with pytest.raises(ProvenanceError, match="not a SHA-256"):
        record_source_records(ledger, [{"item_id": "x", "license": "CC0", "sha256": "abc"}])
    assert len(list(ledger.entries())) == n  # nothing from a bad batch was written
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("x")
    with pytest.raises(ProvenanceError, match="outside the ledger root"):
        record_artifact(ledger, outside, "input")
    with pytest.raises(ProvenanceError, match="no such file"):
        record_artifact(ledger, tmp_path / "nope.bin", "input")


def test_lineage_reaches_source_records_and_licences(study):
    ledger, raw, manifest, ckpt, _ = study
    ck = ledger.find("artifact", path="models/model.pt")[0]
    lin = lineage(ledger.entries(), ck.payload["sha256"])
    assert {a["path"] for a in lin.artifacts} == {"models/model.pt", "data/manifest.csv", "data/raw"}
    assert [s["name"] for s in lin.stages] == ["train"]
    assert [s["item_id"] for s in lin.sources] == [f"item-{i}" for i in range(4)]
    assert lin.licences == {"CC0": 2, "public domain": 2}
    with pytest.raises(LedgerError, match="not in the ledger"):
        lineage(ledger.entries(), "f" * 64)


def test_png_provenance_round_trip_and_damage(tmp_path):
    img = Image.new("RGB", (16, 16), (200, 10, 10))
    path = save_with_provenance(img, tmp_path / "out.png", provenance_id="gen-abc", ledger_head="a" * 64,
                                record={"prompt": "观音坐像"})
    meta = read_provenance(path)
    assert meta == {"provenance_id": "gen-abc", "ledger_head": "a" * 64, "record": {"prompt": "观音坐像"}}
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(img))  # pixels untouched
    assert read_provenance(_png(tmp_path / "plain.png", 1)) is None
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageMetadataError, match="bad.png: cannot read"):
        read_provenance(tmp_path / "bad.png")
    with pytest.raises(ImageMetadataError, match="not a SHA-256"):
        save_with_provenance(img, tmp_path / "x.png", provenance_id="gen-1", ledger_head="zz")


def test_prov_json_export_links_everything(study):
    ledger = study[0]
    doc = json.loads(prov_json(ledger.entries()))
    assert {"entity", "activity", "agent", "used", "wasGeneratedBy", "wasDerivedFrom", "wasAttributedTo"} <= set(doc)
    src = doc["entity"]["src:item-1"]
    assert src["ink:license"] == "CC0" and src["prov:location"] == "https://museum.example/1"
    ck = ledger.find("artifact", path="models/model.pt")[0].payload["sha256"]
    stage_id = next(k for k in doc["activity"] if k.startswith("ink:stage.train"))
    assert any(g["prov:entity"] == f"art:{ck}" and g["prov:activity"] == stage_id
               for g in doc["wasGeneratedBy"].values())
    man = ledger.find("artifact", path="data/manifest.csv")[0].payload["sha256"]
    assert any(d["prov:generatedEntity"] == f"art:{man}" and d["prov:usedEntity"] == "src:item-3"
               for d in doc["wasDerivedFrom"].values())


def _kinds(result) -> set[tuple[str, str]]:
    return {(p.item, p.problem) for p in result.problems}


def test_verify_passes_on_an_untouched_study(study):
    result = verify(study[0].path.parent)
    assert result.ok, [p.describe() for p in result.problems]
    assert result.files_checked == 6 and result.entries == len(list(study[0].entries()))


def test_verify_names_changed_missing_swapped_and_added_files(study, tmp_path):
    ledger, raw, manifest, ckpt, _ = study
    manifest.write_text(manifest.read_text() + "item-9,0000000000000009\n")
    ckpt.unlink()
    a, b = raw / "item-0.png", raw / "item-1.png"
    tmp = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(tmp)
    shutil.copy(raw / "item-2.png", raw / "item-extra.png")
    (raw / "item-3.png").unlink()
    found = _kinds(verify(ledger.path))
    assert {("data/manifest.csv", "changed"), ("models/model.pt", "missing"),
            ("data/raw/item-0.png", "swapped"), ("data/raw/item-1.png", "swapped"),
            ("data/raw/item-extra.png", "added"), ("data/raw/item-3.png", "missing")} == found


def test_verify_reports_swapped_files(study):
    ledger, raw, manifest, ckpt, _ = study
    m, c = manifest.read_bytes(), ckpt.read_bytes()
    manifest.write_bytes(c)
    ckpt.write_bytes(m)
    assert _kinds(verify(ledger.path)) == {("data/manifest.csv", "swapped"), ("models/model.pt", "swapped")}


def test_verify_reports_edited_deleted_inserted_reordered_entries(study):
    ledger = study[0]
    original = ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)

    def tampered(lines):
        ledger.path.write_text("".join(lines), encoding="utf-8")
        result = verify(ledger.path)
        ledger.path.write_text("".join(original), encoding="utf-8")
        return {p.problem for p in result.problems}, result

    edited = list(original)
    edited[2] = edited[2].replace("CC0", "CC-BY-NC")
    assert "edited" in tampered(edited)[0]
    assert "deleted_or_inserted" in tampered(original[:3] + original[4:])[0]
    assert "reordered" in tampered(original[:3] + [original[2]] + original[3:])[0]
    swapped = list(original)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    assert "reordered" in tampered(swapped)[0]
    problems, result = tampered(original[:-1])
    assert problems == {"truncated"} and not result.ok
    assert verify(ledger.path).ok

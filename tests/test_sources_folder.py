"""The local-folder source: deterministic walk, metadata CSV labels, licences, hostile names."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkgen.config import load
from inkgen.data.collect import not_collected_table, quarantine_table
from inkgen.stages.collect import run as run_collect
from inkgen.data.raw_store import RawStore, check_item_id
from inkgen.data.records import read_records
from inkgen.data.sources.folder import FolderMetadataError, FolderSource, item_id_for
from museum_server import ROOT, image_bytes


def folder_params(tmp_path: Path, *, csv: str = "", license: str = "", n_images: int = 100):
    params = load(ROOT / "params.yaml")
    collect = params.collect
    folder = dataclasses.replace(collect.folder, path="paintings", metadata_csv=csv, license=license)
    collect = dataclasses.replace(collect, source="folder", n_images=n_images, folder=folder)
    paths = dataclasses.replace(params.paths, raw="raw")
    return dataclasses.replace(params, collect=collect, paths=paths)


def make_folder(tmp_path: Path) -> Path:
    root = tmp_path / "paintings"
    (root / "山水" / "深处").mkdir(parents=True)
    (root / ".thumbs").mkdir()
    (root / "a.png").write_bytes(image_bytes(colour=(10, 10, 10)))
    (root / "山水" / "秋景 1.png").write_bytes(image_bytes(colour=(20, 20, 20)))
    (root / "山水" / "深处" / "b.jpg").write_bytes(image_bytes(fmt="JPEG"))
    (root / "notes.txt").write_text("bought at a fair", encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"\x00\x01")
    (root / ".thumbs" / "t.png").write_bytes(image_bytes())
    return root


def write_csv(tmp_path: Path, text: str) -> str:
    (tmp_path / "meta.csv").write_text(text, encoding="utf-8")
    return "meta.csv"


def test_folder_with_csv_labels_and_default_licence(tmp_path):
    make_folder(tmp_path)
    csv = write_csv(tmp_path, "file,title,date,period,license,painting_type,primary,secondary\n"
                              "a.png,Old pine,1720,qing,CC0-1.0,gongbi,,seasonal_landscape\n"
                              "山水/秋景 1.png,,,,,xieyi,,\n")
    summary = run_collect(folder_params(tmp_path, csv=csv, license="CC-BY-4.0 (own photo)"), root=tmp_path)
    records = {r.metadata["relative_path"]: r for r in read_records(tmp_path / "raw" / "records.jsonl")}
    assert sorted(records) == ["a.png", "山水/深处/b.jpg", "山水/秋景 1.png"]
    a = records["a.png"]
    assert a.truth == {"origin": "metadata_csv", "painting_type": "gongbi", "period": "qing",
                       "primary": "landscape", "secondary": "seasonal_landscape"}
    assert (a.title, a.date, a.period, a.license, a.source) == ("Old pine", "1720", "qing", "CC0-1.0", "folder")
    autumn = records["山水/秋景 1.png"]
    assert autumn.truth == {"origin": "metadata_csv", "painting_type": "xieyi"}
    assert autumn.license == "CC-BY-4.0 (own photo)" and autumn.title == "秋景 1" and autumn.period is None
    assert (a.period_source, autumn.period_source) == ("metadata_csv", None)
    assert records["山水/深处/b.jpg"].truth is None
    assert tuple(np.asarray(Image.open(tmp_path / "raw" / a.file))[0, 0]) == (10, 10, 10)
    # notes.txt is refused, not lost; hidden files and folders are not collected at all
    assert summary.kept == 3 and dict(summary.reasons) == {"not_an_image": 1}
    table = quarantine_table(tmp_path / "raw")
    assert table.relative_path.tolist() == ["notes.txt"]
    assert (tmp_path / "raw" / table.file[0]).read_text() == "bought at a fair"


def test_item_ids_are_safe_distinct_and_stable(tmp_path):
    names = ["山水.png", "花鸟.png", "../../etc/passwd", "a b/c.png", "a-b/c.png", "ｆｕｌｌ.png", "x" * 300]
    ids = [item_id_for(name) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(check_item_id(i) == i for i in ids)
    assert item_id_for("ｆｕｌｌ.png").startswith("folder-full-png-")
    assert ids == [item_id_for(name) for name in names]


def test_rerun_writes_identical_records(tmp_path):
    make_folder(tmp_path)
    params = folder_params(tmp_path, license="CC0-1.0")
    run_collect(params, root=tmp_path)
    first = (tmp_path / "raw" / "records.jsonl").read_bytes()
    run_collect(params, root=tmp_path)
    assert (tmp_path / "raw" / "records.jsonl").read_bytes() == first


def test_no_licence_and_bad_labels_are_quarantined_with_the_line(tmp_path):
    make_folder(tmp_path)
    csv = write_csv(tmp_path, "file,period,primary,secondary\n"
                              "a.png,tang,,\n"
                              "山水/秋景 1.png,,figure,seasonal_landscape\n")
    store = RawStore(tmp_path / "raw")
    FolderSource(folder_params(tmp_path, csv=csv).collect, tmp_path).collect(store)
    reasons = {q.context["relative_path"]: q.reason for q in store.quarantined.values()}
    assert reasons["a.png"].startswith("bad_metadata: meta.csv:2: period 'tang' is not one of")
    assert reasons["山水/秋景 1.png"] == ("bad_metadata: meta.csv:3: secondary 'seasonal_landscape' belongs "
                                          "to primary 'landscape', not 'figure'")
    assert reasons["山水/深处/b.jpg"].startswith("no_license: ")
    assert not store.records
    assert all(q.file for q in store.quarantined.values())  # the bytes are kept


@pytest.mark.parametrize("text, message", [
    ("file,licence\na.png,CC0\n", r"meta.csv:1: .*unknown column\(s\) \['licence'\]"),
    ("title\nx\n", "meta.csv:1: the header must have 'file'"),
    ("file\n../outside.png\n", "meta.csv:2: file '../outside.png' must be a path inside the folder"),
    ("file\n/etc/hostname\n", "meta.csv:2: file '/etc/hostname' must be a path inside the folder"),
    ("file\nmissing.png\n", "meta.csv:2: file 'missing.png' is not a file in"),
    ("file\na.png\na.png\n", "meta.csv:3: 'a.png' is already described on line 2"),
    ("file\na.png\n.DS_Store\n", r"meta.csv:3: file '.DS_Store' is hidden"),
    ("file\n.thumbs/t.png\n", r"meta.csv:2: file '.thumbs/t.png' is hidden"),
])
def test_csv_that_does_not_match_the_folder_is_an_error(tmp_path, text, message):
    make_folder(tmp_path)
    (tmp_path / "outside.png").write_bytes(image_bytes())
    csv = write_csv(tmp_path, text)
    with pytest.raises(FolderMetadataError, match=message):
        FolderSource(folder_params(tmp_path, csv=csv, license="CC0-1.0").collect, tmp_path).collect(
            RawStore(tmp_path / "raw"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_links_out_of_the_folder_are_not_followed(tmp_path):
    root = make_folder(tmp_path)
    secret = tmp_path / "secret.png"
    secret.write_bytes(image_bytes(colour=(1, 2, 3)))
    (root / "escape.png").symlink_to(secret)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.png").write_bytes(image_bytes())
    (root / "linked_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    store = RawStore(tmp_path / "raw")
    FolderSource(folder_params(tmp_path, license="CC0-1.0").collect, tmp_path).collect(store)
    escaped = store.quarantined[item_id_for("escape.png")]
    assert escaped.reason.startswith("outside_folder:") and escaped.file is None
    assert not any("linked_dir" in r.metadata["relative_path"] for r in store.records.values())


def test_csv_row_for_a_file_the_walk_skips_is_an_error(tmp_path):
    root = make_folder(tmp_path)
    (root / "meta.csv").write_text("file\nmeta.csv\n", encoding="utf-8")  # the CSV describing itself
    params = folder_params(tmp_path, csv="paintings/meta.csv", license="CC0-1.0")
    with pytest.raises(FolderMetadataError, match=r"meta.csv:2: file 'meta.csv' is not one the folder walk"):
        FolderSource(params.collect, tmp_path).collect(RawStore(tmp_path / "raw"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_csv_row_inside_a_linked_folder_is_an_error(tmp_path):
    root = make_folder(tmp_path)
    (root / "alias").symlink_to(root / "山水", target_is_directory=True)  # stays inside, but not walked
    csv = write_csv(tmp_path, "file\nalias/秋景 1.png\n")
    with pytest.raises(FolderMetadataError, match=r"meta.csv:2: file 'alias/秋景 1.png' is not one the folder"):
        FolderSource(folder_params(tmp_path, csv=csv, license="CC0-1.0").collect, tmp_path).collect(
            RawStore(tmp_path / "raw"))


def test_multi_frame_file_keeps_its_first_frame_and_says_so(tmp_path):
    root = tmp_path / "paintings"
    root.mkdir()
    frames = [Image.new("RGB", (8, 6), c) for c in ((200, 10, 10), (10, 200, 10), (10, 10, 200))]
    frames[0].save(root / "scroll.gif", save_all=True, append_images=frames[1:])
    (root / "still.png").write_bytes(image_bytes())
    run_collect(folder_params(tmp_path, license="CC0-1.0"), root=tmp_path)
    records = {r.metadata["relative_path"]: r for r in read_records(tmp_path / "raw" / "records.jsonl")}
    assert records["scroll.gif"].metadata["frames"] == 3 and "frames" not in records["still.png"].metadata
    first = np.asarray(Image.open(tmp_path / "raw" / records["scroll.gif"].file))
    assert tuple(first[0, 0]) == (200, 10, 10)


def test_stops_at_n_images_and_lists_the_rest_and_needs_a_folder(tmp_path):
    make_folder(tmp_path)
    summary = run_collect(folder_params(tmp_path, license="CC0-1.0", n_images=2), root=tmp_path)
    records = read_records(tmp_path / "raw" / "records.jsonl")
    assert sorted(r.metadata["relative_path"] for r in records) == ["a.png", "山水/深处/b.jpg"]
    # notes.txt was quarantined on the way; the one file after the limit is listed, not dropped
    assert summary.kept == 2 and summary.quarantined == 1 and summary.not_collected_over_limit == 1
    left_out = not_collected_table(tmp_path / "raw")
    assert left_out.relative_path.tolist() == ["山水/秋景 1.png"]
    assert left_out.kind.tolist() == ["over_limit"] and "over collect.n_images limit" in left_out.reason[0]
    assert left_out.item_id.tolist() == [item_id_for("山水/秋景 1.png")]
    with pytest.raises(FolderMetadataError, match="is not a folder"):
        FolderSource(folder_params(tmp_path / "nowhere").collect, tmp_path / "nowhere")

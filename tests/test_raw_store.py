"""RawStore: one state per item id, safe file names, and sorted, always-present output lists."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from inkgen.data.raw_store import RawStore, check_item_id, is_safe_item_id

IMAGE = Image.new("RGB", (4, 3), (10, 20, 30))


def test_an_id_is_quarantined_at_most_once(tmp_path):
    store = RawStore(tmp_path / "raw")
    store.quarantine("met-1", "met", "image_http_404: gone", data=b"first")
    with pytest.raises(ValueError, match="'met-1' is already quarantined"):
        store.quarantine("met-1", "met", "not_an_image: html", data=b"second")
    assert store.quarantined["met-1"].reason == "image_http_404: gone"  # the first entry is not overwritten
    assert (tmp_path / "raw" / "quarantine" / "met-1.bin").read_bytes() == b"first"


def test_an_id_is_never_both_kept_and_quarantined(tmp_path):
    store = RawStore(tmp_path / "raw")
    store.add_image("met-1", IMAGE, source="met", license="CC0")
    with pytest.raises(ValueError, match="'met-1' is already kept"):
        store.quarantine("met-1", "met", "corrupt: x")
    store.quarantine("met-2", "met", "corrupt: x")
    with pytest.raises(ValueError, match="'met-2' is already quarantined"):
        store.add_image("met-2", IMAGE, source="met", license="CC0")
    with pytest.raises(ValueError, match="'met-1' collected twice"):
        store.add_image("met-1", IMAGE, source="met", license="CC0")
    assert sorted(store.records) == ["met-1"] and sorted(store.quarantined) == ["met-2"]


def test_not_collected_ids_conflict_with_the_other_lists(tmp_path):
    store = RawStore(tmp_path / "raw")
    store.skip("met-3", "met", "not_public_domain: no", object_url="https://example.org/3")
    for action in (lambda: store.skip("met-3", "met", "again"),
                   lambda: store.quarantine("met-3", "met", "corrupt: x"),
                   lambda: store.add_image("met-3", IMAGE, source="met", license="CC0")):
        with pytest.raises(ValueError, match="'met-3' is already not collected"):
            action()
    store.add_image("met-4", IMAGE, source="met", license="CC0")
    with pytest.raises(ValueError, match="'met-4' is already kept"):
        store.skip("met-4", "met", "not_public_domain: no")


def test_lists_are_written_sorted_and_always_present(tmp_path):
    store = RawStore(tmp_path / "raw")
    assert store.close() == (0, 0)
    for name in ("records.jsonl", "quarantine.jsonl", "not_collected.jsonl"):
        assert (tmp_path / "raw" / name).read_text() == ""
    store = RawStore(tmp_path / "raw")
    store.skip("folder-b", "folder", "over_limit: over collect.n_images limit (1 kept)", relative_path="b.png")
    store.skip("folder-a", "folder", "over_limit: over collect.n_images limit (1 kept)", relative_path="a.png")
    store.add_image("folder-c", IMAGE, source="folder", license="CC0")
    store.close()
    rows = [json.loads(line) for line in (tmp_path / "raw" / "not_collected.jsonl").read_text().splitlines()]
    assert [r["item_id"] for r in rows] == ["folder-a", "folder-b"]
    assert rows[0] == {"item_id": "folder-a", "source": "folder", "object_url": None,
                       "reason": "over_limit: over collect.n_images limit (1 kept)",
                       "context": {"relative_path": "a.png"}}


def test_one_safe_id_rule_for_names_and_quarantine_files(tmp_path):
    for good in ("met-1", "folder-a-png-0123456789", "A.b_c-d"):
        assert is_safe_item_id(good) and check_item_id(good) == good
    for bad in ("", "../x", "a/b", "-x", "a..b", "x" * 129, "met-1\n", "ｆｕｌｌ"):
        assert not is_safe_item_id(bad)
        with pytest.raises(ValueError, match="not a safe file name"):
            check_item_id(bad)
    store = RawStore(tmp_path / "raw")
    entry = store.quarantine("../../etc/passwd", "folder", "outside_folder: x", data=b"x")
    assert entry.item_id == "../../etc/passwd" and entry.file.startswith("quarantine/unsafe-")
    assert (tmp_path / "raw" / entry.file).read_bytes() == b"x"
    with pytest.raises(ValueError, match="already quarantined"):
        store.quarantine("../../etc/passwd", "folder", "outside_folder: x")

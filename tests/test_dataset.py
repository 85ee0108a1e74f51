"""Loading a split of the manifest: images checked against their SHA-256, captions in the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inkgen.data.dataset import load_split, read_manifest
from inkgen.data.records import sha256_file


def _manifest(tmp_path, n=6, size=8):
    rows = []
    for i in range(n):
        path = tmp_path / "data" / f"img{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((size, size, 3), i * 20, np.uint8)).save(path)
        rows.append({"item_id": f"it-{i}", "file": f"data/img{i}.png", "sha256": sha256_file(path),
                     "split": "train" if i < 4 else "val", "caption": f"caption {i}",
                     "themes": "ink_wash|figures", "techniques": "", "elements": "pine"})
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def test_split_loads_images_and_captions_in_item_order(tmp_path):
    split = load_split(_manifest(tmp_path), "train", tmp_path)
    assert len(split) == 4 and split.images.shape == (4, 8, 8, 3)
    assert split.captions == [f"caption {i}" for i in range(4)]
    assert [int(im[0, 0, 0]) for im in split.images] == [0, 20, 40, 60]
    x = split.as_float_tensor()
    assert tuple(x.shape) == (4, 3, 8, 8) and float(x.min()) == -1.0


def test_list_columns_come_back_as_tuples(tmp_path):
    frame = read_manifest(_manifest(tmp_path))
    assert frame.loc[0, "themes"] == ("ink_wash", "figures")
    assert frame.loc[0, "techniques"] == ()


def test_changed_image_is_an_error_naming_the_item(tmp_path):
    manifest = _manifest(tmp_path)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8) + 7).save(tmp_path / "data" / "img5.png")
    with pytest.raises(ValueError, match=r"it-5: .*changed since annotation"):
        load_split(manifest, "val", tmp_path)


def test_unknown_or_empty_split_is_refused(tmp_path):
    manifest = _manifest(tmp_path)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_split(manifest, "dev", tmp_path)
    with pytest.raises(ValueError, match="split 'test' has no items"):
        load_split(manifest, "test", tmp_path)

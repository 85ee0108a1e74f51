"""The annotated dataset as training material: one split of ``manifest.csv`` as tensors and captions.

The annotate stage writes the manifest (paper section 2.1: image-text pairs, 8:1:1 split). Training and
evaluation read a split through :func:`load_split`, which checks every image against the SHA-256 the
manifest recorded — a changed file is an error naming the item, never silently used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from inkgen.data.records import sha256_file

SPLITS = ("train", "val", "test", "withheld")  # "withheld": annotate.withheld_secondary, never trained on
LIST_COLUMNS = ("themes", "techniques", "elements")  # "|"-joined in the CSV


@dataclass(frozen=True)
class Split:
    """One split: ``images`` uint8 ``(N, H, W, 3)``, ``captions`` and the manifest rows in the same order."""

    name: str
    images: np.ndarray
    captions: list[str]
    rows: pd.DataFrame

    def __len__(self) -> int:
        return len(self.captions)

    def as_float_tensor(self):
        """Images as a float tensor ``(N, 3, H, W)`` in [-1, 1], the generator's range."""
        import torch  # reading a manifest needs no torch; only this conversion does

        x = torch.from_numpy(self.images).permute(0, 3, 1, 2).float()  # (N,H,W,3) -> (N,3,H,W)
        return x / 127.5 - 1.0


def read_manifest(path: str | Path) -> pd.DataFrame:
    """The manifest with list columns split back into tuples; a missing column is an error naming it."""
    frame = pd.read_csv(path, dtype={"phash": str}, keep_default_na=False, na_values=[""])
    missing = [c for c in ("item_id", "file", "sha256", "split", "caption", *LIST_COLUMNS) if c not in frame]
    if missing:
        raise ValueError(f"{path}: manifest lacks column(s) {missing}")
    for column in LIST_COLUMNS:
        frame[column] = [tuple(v.split("|")) if isinstance(v, str) and v else () for v in frame[column]]
    return frame


def load_split(manifest: str | Path, split: str, root: str | Path, limit: int | None = None) -> Split:
    """Load the images and captions of ``split`` (sorted by item_id); ``root`` is the project root."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    frame = read_manifest(manifest)
    rows = frame[frame["split"] == split].sort_values("item_id").reset_index(drop=True)
    if limit is not None:
        rows = rows.head(limit)
    if rows.empty:
        raise ValueError(f"{manifest}: split {split!r} has no items")
    images = []
    for row in rows.itertuples():
        path = Path(root) / row.file
        if not path.is_file():
            raise FileNotFoundError(f"{row.item_id}: image {path} is missing")
        if sha256_file(path) != row.sha256:
            raise ValueError(f"{row.item_id}: {path} changed since annotation (SHA-256 differs)")
        with Image.open(path) as img:
            images.append(np.asarray(img.convert("RGB")))
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise ValueError(f"{manifest}: split {split!r} mixes image sizes {sorted(shapes)}")
    return Split(split, np.stack(images), list(rows["caption"]), rows)

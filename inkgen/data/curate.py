"""The curation library of the curate stage (paper section 2.1; the stage is :mod:`inkgen.stages.curate`):
every raw image resized by eq. 2-5 while its two classifier views are spooled, the classifier's held-out
scores and its verdicts, the stratified hold-out."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.metrics import confusion_matrix

from inkgen.config import CurateParams
from inkgen.data.image_spool import ImageSpool
from inkgen.data.raw_store import QuarantineEntry, encode_png
from inkgen.data.records import Record, sha256_bytes, sha256_file
from inkgen.data.subject_resize import letterbox, subject_resize
from inkgen.models.classifier import HEADS, PaintingClassifier, predict

log = logging.getLogger(__name__)
SCREENED_COLUMNS = ["item_id", "confidence", "predicted_primary", "predicted_painting_type", "true_primary",
                    "true_painting_type", "reason"]


# ------------------------------------------------------------------------------------------- helpers
def stratified_holdout(strata: list[str], fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of held-out positions: ``round(fraction * n)`` of each stratum, chosen by ``seed``.

    Positions are shuffled within each stratum by one seeded generator visiting strata in sorted order,
    so the split depends only on the items' order and labels. A stratum of one item stays in training.
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(len(strata), bool)
    labels = np.asarray(strata, dtype=object)
    for stratum in sorted(set(strata)):
        idx = np.flatnonzero(labels == stratum)
        k = min(len(idx) - 1, round(fraction * len(idx)))
        if k > 0:
            held[rng.permutation(idx)[:k]] = True
    return held


def labels_of(record: Record, classes: dict[str, list[str]]) -> dict[str, str | None]:
    """The record's known label per head, or None (no truth, or a name outside the taxonomy)."""
    truth = record.truth or {}
    return {h: truth.get(h) if truth.get(h) in classes[h] else None for h in HEADS}


def _load_rgb(path: Path, expected_sha256: str) -> np.ndarray:
    """The raw image as (H, W, 3) uint8; raises with the reason when it is missing, altered or broken."""
    if not path.is_file():
        raise FileNotFoundError(f"raw image {path} is missing")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ValueError(f"raw image changed since collect (sha256 {actual[:12]} != {expected_sha256[:12]})")
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _confusion(true: list[str], pred: list[str], classes: list[str]) -> pd.DataFrame:
    # sklearn refuses empty input; no held-out item is an all-zero matrix.
    cm = confusion_matrix(true, pred, labels=classes) if true else np.zeros((len(classes),) * 2, int)
    return pd.DataFrame(cm, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))


def json_number(x: float) -> float | None:
    """JSON has no NaN: an unmeasured number is written as null."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def reason_kind(reason: str) -> str:
    """A centre-crop reason without its numbers ("largest contour covers 0.0012 ..." -> "small subject")."""
    return "small subject" if reason.startswith("largest contour covers") else reason


# ----------------------------------------------------------------------------------------------- steps
@dataclass
class _Resized:
    """What eq. 2-5 left of one item in memory: its record, branch, reason and curated PNG's hash."""

    rec: Record
    branch: str
    reason: str
    sha256: str


def resize_all(records: list[Record], raw_dir: Path, out_dir: Path, cp: CurateParams, crops: ImageSpool,
                wholes: ImageSpool) -> tuple[list[_Resized], list[QuarantineEntry]]:
    """Eq. 2-5 on every readable raw image, one at a time: the curated PNG is written to ``images/``
    (moved to ``screened/`` later if screened out), the crop and the whole-painting view at the
    classifier's input size are appended to the spools; each unreadable image becomes a quarantine
    entry with its reason."""
    items, unreadable = [], []
    subject = dataclasses.asdict(cp.subject)
    for rec in records:
        try:
            rgb = _load_rgb(raw_dir / rec.file, rec.sha256)
        except Exception as exc:  # any load failure is this item's, recorded with its reason
            # Paths relative to the raw folder, so that the quarantine list does not depend on the machine.
            detail = str(exc).replace(f"{raw_dir}{os.sep}", "")
            reason = f"unreadable raw image: {type(exc).__name__}: {detail}"
            log.warning("%s: %s", rec.item_id, reason)
            unreadable.append(QuarantineEntry(rec.item_id, rec.source, reason, None, None,
                                              {"raw_file": rec.file, "raw_sha256": rec.sha256}))
            continue
        out, res = subject_resize(rgb, cp.target_size, **subject)
        png = encode_png(Image.fromarray(out))
        (out_dir / "images" / f"{rec.item_id}.png").write_bytes(png)
        crops.append(out)
        wholes.append(letterbox(rgb, cp.classifier.input_size, cp.subject.pad_value))
        items.append(_Resized(rec, res.branch, res.reason, sha256_bytes(png)))
    return items, unreadable


def heldout_scores(model: PaintingClassifier, labels: list[dict[str, str | None]],
                    preds: Mapping[int, dict[str, Any]] | list[dict[str, Any]], held_idx: list[int]
                    ) -> tuple[dict[str, float], dict[str, pd.DataFrame], dict[str, int]]:
    """Per head: held-out accuracy (NaN when unmeasurable), confusion matrix, number of items scored."""
    accuracy, confusion, n_held = {}, {}, {}
    for h in HEADS:
        pairs = [(labels[i][h], preds[i][h]) for i in held_idx
                 if labels[i][h] is not None and h in model.trained_heads]
        n_held[h] = len(pairs)
        accuracy[h] = float(np.mean([t == p for t, p in pairs])) if pairs else math.nan
        confusion[h] = _confusion([t for t, _ in pairs], [p for _, p in pairs], model.classes[h])
    return accuracy, confusion, n_held


def judge_items(model: PaintingClassifier, images: list[np.ndarray]) -> list[dict[str, Any]]:
    """Predictions restricted to the heads that learnt something (none: empty dicts, nothing judged)."""
    if not model.trained_heads:
        return [{} for _ in images]
    return [{k: v for k, v in p.items() if k.removesuffix("_confidence") in model.trained_heads}
            for p in predict(model, images)]

"""Stage curate (notebook 02_curate): screen with the eq. 1 classifier, resize with eq. 2-5 (paper section 2.1).

Reads the collect stage's ``records.jsonl`` and writes, under ``paths.curated``::

    images/<item_id>.png     kept items, resized to target_size x target_size by eq. 2-5
    screened/<item_id>.png   items the classifier was unsure of (confidence < screen_threshold)
    curated.jsonl            one CuratedItem per kept item, sorted by item_id
    quarantine.jsonl         one row per refused item (unreadable raw image, or screened), with reason

plus ``<paths.models>/classifier.pt`` and ``<paths.metrics>/curate.json``.

The paper screens and classifies its crawled images with a ResNet-50 (eq. 1) and only then crops them
(eq. 2-5), so the classifier judges the *whole* painting, scaled and padded to its input size (eq. 3-4
without the crop): on the procedural corpus this is worth ~12 points of primary-category accuracy over
judging the subject crop, which loses the context (a crane's pine, a figure's landscape). Because later
stages reuse the classifier to judge generated images, which look like the curated crops, training draws
either view of an item at random, and the held-out accuracy is reported for both views.

**Streaming.** No stage step holds the corpus: each raw image is read, resized and its curated PNG
written before the next is read; the two small views the classifier needs (the crop and the whole
painting at its input size) go to disk-backed spools (:mod:`inkgen.data.image_spool`) that training and
judging read batch by batch. What stays in memory per item is its record and verdict (a few hundred
bytes), so peak memory is flat in the number of images (``benchmarks/bench_curate_memory.py``).
``curate.json`` counts the items per eq. 2-5 branch (``branch_counts``) and why detection failed for
the centre-cropped ones (``center_crop_reasons``); each curated record says its branch and reason.

The classifier is trained on the items that carry labels (the procedural corpus knows its truth; a
folder's metadata CSV may give some), evaluated on a held-out share stratified by primary category, and
then asked about every item. An item's confidence is the smaller of the two heads' top probabilities, so
an item is kept only if the classifier is sure of both its category and its painting type (a head that
had no labels to learn from, and no trained weights, has no say). Items it was trained on are judged too,
so their confidence is optimistic; the held-out accuracy is the honest number.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from inkgen.config import Params, project_root
from inkgen.data.image_spool import ImageSpool
from inkgen.data.raw_store import QuarantineEntry
from inkgen.data.records import CuratedItem, Record, read_records, write_jsonl
from inkgen.data.subject_resize import BRANCHES
from inkgen.data.curate import (heldout_scores, json_number, judge_items, labels_of, reason_kind, resize_all,
                                stratified_holdout)
from inkgen.layout import Layout, write_metrics
from inkgen.models.classifier import (HEADS, TrainReport, build_classifier, load_initial_weights, save_classifier,
                                      train_classifier)

log = logging.getLogger(__name__)
SCREENED_COLUMNS = ["item_id", "confidence", "predicted_primary", "predicted_painting_type", "true_primary",
                    "true_painting_type", "reason"]


@dataclass
class CurateSummary:
    """What the curate notebook shows: counts, held-out accuracy, confusion matrices, screening, examples.

    ``accuracy`` and ``confusion`` are keyed by head (``primary``, ``painting_type``) and measure the
    screening view (whole painting); ``accuracy_curated`` the same held-out items seen as curated crops. A
    confusion matrix is a DataFrame with ``true`` rows and ``predicted`` columns. ``examples`` holds (raw
    path, curated path, branch) for up to two items per branch. ``screening_skipped`` says why no item was
    screened, when none could be.
    """

    n_raw: int
    n_kept: int
    n_screened: int
    n_unreadable: int
    branch_counts: dict[str, int]
    n_labelled: int
    n_train: int
    n_holdout: int
    accuracy: dict[str, float]
    accuracy_curated: dict[str, float]
    confusion: dict[str, pd.DataFrame]
    screened: pd.DataFrame
    unreadable: pd.DataFrame
    examples: list[tuple[Path, Path, str]]
    classifier_init: str
    screening_skipped: str | None
    train: TrainReport | None
    resize_seconds: float
    predict_images_per_second: float
    classifier_path: Path
    metrics_path: Path
    metrics: dict[str, Any] = field(default_factory=dict)



def run(params: Params, root: str | Path | None = None) -> CurateSummary:
    """Run the curate stage (eq. 1-5) with paths relative to ``root`` (default: the project root)."""
    root = Path(root) if root is not None else project_root()
    cp, cls_p = params.curate, params.curate.classifier
    raw_dir, out_dir = root / params.paths.raw, root / params.paths.curated
    if out_dir.exists():
        shutil.rmtree(out_dir)  # the stage's own output: rebuilt whole so stale items cannot linger
    (out_dir / "images").mkdir(parents=True)
    (out_dir / "screened").mkdir()
    records = sorted(read_records(raw_dir / "records.jsonl"), key=lambda r: r.item_id)
    size, side = cls_p.input_size, cp.target_size
    with tempfile.TemporaryDirectory(prefix="inkgen-curate-") as spool_dir:
        crops = ImageSpool(Path(spool_dir) / "crops.u8", (side, side, 3))
        wholes = ImageSpool(Path(spool_dir) / "wholes.u8", (size, size, 3))
        try:
            return _curate(params, root, records, raw_dir, out_dir, crops, wholes)
        finally:
            crops.close()
            wholes.close()


@dataclass
class _Trained:
    """The eq. 1 classifier after training, with the labels and the held-out split it was trained with."""

    model: Any
    init: str                  # how it started (fresh, or which local weights)
    labels: list[dict]         # per item, per head: the true label or None
    labelled: list[int]        # items with any label
    train_idx: list[int]
    held_idx: list[int]
    report: TrainReport | None  # None: nothing to train on


@dataclass
class _Judged:
    """The classifier's verdicts on every item and its held-out scores on both views."""

    heads: list[str]           # the heads that may judge (trained ones)
    screening_skipped: str | None
    preds: list[dict]
    predict_rate: float        # images per second, whole views
    accuracy: dict
    confusion: Any
    n_held: int
    accuracy_curated: dict     # held-out accuracy on the curated crops


def _train_classifier(params: Params, root: Path, items: list, crops: ImageSpool, wholes: ImageSpool) -> _Trained:
    """Eq. 1: start the classifier (fresh or from local weights) and train it on the labelled items, a
    stratified share held out."""
    cls_p = params.curate.classifier
    model = build_classifier(cls_p.arch, cls_p.input_size, seed=cls_p.seed)
    init = "random initialisation (trained from scratch)"
    if cls_p.weights:
        weights = Path(cls_p.weights)
        init = load_initial_weights(model, weights if weights.is_absolute() else root / weights)
        log.info("classifier: %s", init)
    labels = [labels_of(it.rec, model.classes) for it in items]
    labelled = [i for i, lab in enumerate(labels) if any(v is not None for v in lab.values())]
    held_mask = stratified_holdout([labels[i]["primary"] or "" for i in labelled],
                                   cls_p.holdout_fraction, cls_p.seed)
    train_idx = [i for i, h in zip(labelled, held_mask) if not h]
    held_idx = [i for i, h in zip(labelled, held_mask) if h]
    report = None
    if train_idx and cls_p.epochs > 0:
        report = train_classifier(
            model, wholes.subset(train_idx), {h: [labels[i][h] for i in train_idx] for h in HEADS},
            epochs=cls_p.epochs, batch_size=cls_p.batch_size, lr=cls_p.lr,
            weight_decay=cls_p.weight_decay, seed=cls_p.seed, threads=cls_p.threads,
            alt_images=crops.subset(train_idx))
        log.info("classifier: trained on %d items in %.1f s (%.1f images/s)", report.n_train,
                 report.seconds, report.images_per_second)
    return _Trained(model, init, labels, labelled, train_idx, held_idx, report)


def _judge(trained: _Trained, crops: ImageSpool, wholes: ImageSpool) -> _Judged:
    """Every item judged on its whole view; the held-out items scored on both views."""
    model, held_idx = trained.model, trained.held_idx
    # Only heads that learnt something may judge: a head without labels or trained weights is random.
    heads = model.trained_heads
    screening_skipped = None
    if not heads:
        screening_skipped = ("no labelled items to train on and no trained classifier weights given: "
                             "screening skipped, every readable item kept")
        log.warning(screening_skipped)
    t1 = time.perf_counter()
    preds = judge_items(model, wholes)
    predict_rate = len(wholes) / (time.perf_counter() - t1) if heads and wholes else math.nan
    accuracy, confusion, n_held = heldout_scores(model, trained.labels, preds, held_idx)
    crop_preds = dict(zip(held_idx, judge_items(model, crops.subset(held_idx))))
    accuracy_curated = heldout_scores(model, trained.labels, crop_preds, held_idx)[0]
    return _Judged(heads, screening_skipped, preds, predict_rate, accuracy, confusion, n_held, accuracy_curated)


def _screen(items: list, preds: list[dict], labels: list[dict], heads: list[str], cp: Any, out_dir: Path
            ) -> tuple[list[CuratedItem], list[QuarantineEntry], list[dict[str, Any]]]:
    """Screening: an item whose confidence (the min of the judging heads' top probabilities) is below
    ``curate.screen_threshold`` moves to ``screened/`` and is quarantined with the reason; the rest is kept."""
    kept: list[CuratedItem] = []
    screened_entries: list[QuarantineEntry] = []
    screened_rows = []
    for it, pred, lab in zip(items, preds, labels):
        rec = it.rec
        conf = min(pred[f"{h}_confidence"] for h in heads) if heads else math.nan
        if conf < cp.screen_threshold:  # NaN (no screening) compares False: kept
            rel = f"screened/{rec.item_id}.png"
            (out_dir / f"images/{rec.item_id}.png").rename(out_dir / rel)
            reason = f"low classifier confidence ({conf:.2f} < {cp.screen_threshold:.2f})"
            screened_entries.append(QuarantineEntry(rec.item_id, rec.source, reason, rel, it.sha256,
                                                    {"predicted": pred, "raw_sha256": rec.sha256}))
            screened_rows.append({"item_id": rec.item_id, "confidence": conf,
                                  **{f"predicted_{h}": pred.get(h) for h in HEADS},
                                  **{f"true_{h}": lab[h] for h in HEADS}, "reason": reason})
        else:
            curated = dataclasses.replace(rec, file=f"images/{rec.item_id}.png", sha256=it.sha256,
                                          width=cp.target_size, height=cp.target_size)
            kept.append(CuratedItem(curated, rec.sha256, it.branch, pred, conf, resize_reason=it.reason))
    return kept, screened_entries, screened_rows


def _curate(params: Params, root: Path, records: list[Record], raw_dir: Path, out_dir: Path,
            crops: ImageSpool, wholes: ImageSpool) -> CurateSummary:
    cp = params.curate
    # eq. 2-5: every readable image to target_size x target_size
    t0 = time.perf_counter()
    items, unreadable = resize_all(records, raw_dir, out_dir, cp, crops, wholes)
    resize_seconds = time.perf_counter() - t0

    trained = _train_classifier(params, root, items, crops, wholes)
    judged = _judge(trained, crops, wholes)
    kept, screened_entries, screened_rows = _screen(items, judged.preds, trained.labels, judged.heads, cp, out_dir)
    write_jsonl(out_dir / "curated.jsonl", kept)  # records are sorted by item_id, so are these lists
    write_jsonl(out_dir / "quarantine.jsonl",
                sorted(unreadable + screened_entries, key=lambda q: q.item_id))

    metrics = _metrics(params, records, items, unreadable, kept, screened_entries, trained, judged)
    # The checkpoint keeps the deterministic numbers only, so that equal params give equal bytes.
    classifier_path = save_classifier(trained.model, Layout(params, root).classifier,
                                      params_hash=params.section_hash("curate"), metrics=metrics)
    metrics.update({
        "train_seconds": trained.report.seconds if trained.report else 0.0,
        "train_images_per_second": trained.report.images_per_second if trained.report else None,
        "resize_seconds": resize_seconds,
        "resize_images_per_second": len(items) / resize_seconds if items else None,
        "predict_images_per_second": json_number(judged.predict_rate),
    })
    metrics_path = write_metrics(Layout(params, root).stage_metrics("curate"), metrics)

    screened_ids = {q.item_id for q in screened_entries}
    examples = [(raw_dir / it.rec.file, out_dir / f"{'screened' if it.rec.item_id in screened_ids else 'images'}"
                 / f"{it.rec.item_id}.png", b)
                for b in BRANCHES for it in [it for it in items if it.branch == b][:2]]
    return CurateSummary(
        n_raw=len(records), n_kept=len(kept), n_screened=len(screened_entries), n_unreadable=len(unreadable),
        branch_counts=metrics["branch_counts"], n_labelled=len(trained.labelled), n_train=len(trained.train_idx),
        n_holdout=len(trained.held_idx), accuracy=judged.accuracy, accuracy_curated=judged.accuracy_curated,
        confusion=judged.confusion, screened=pd.DataFrame(screened_rows, columns=SCREENED_COLUMNS),
        unreadable=pd.DataFrame([{"item_id": q.item_id, "reason": q.reason} for q in unreadable],
                                columns=["item_id", "reason"]),
        examples=examples, classifier_init=trained.init, screening_skipped=judged.screening_skipped,
        train=trained.report, resize_seconds=resize_seconds, predict_images_per_second=judged.predict_rate,
        classifier_path=classifier_path, metrics_path=metrics_path, metrics=metrics)


def _metrics(params: Params, records: list[Record], items: list, unreadable: list, kept: list, screened: list,
             trained: _Trained, judged: _Judged) -> dict[str, Any]:
    """``curate.json``'s deterministic part (the classifier's checkpoint keeps it too; timings are added after)."""
    cp, cls_p = params.curate, params.curate.classifier
    center_crop_reasons = Counter(reason_kind(it.reason) for it in items if it.branch == "center_crop")
    return {
        "n_raw": len(records),
        "n_unreadable": len(unreadable),
        "n_kept": len(kept),
        "n_screened": len(screened),
        "branch_counts": {b: sum(it.branch == b for it in items) for b in BRANCHES},
        "center_crop_reasons": dict(sorted(center_crop_reasons.items())),
        "n_labelled": len(trained.labelled),
        "n_train": len(trained.train_idx),
        "n_holdout": judged.n_held,
        "heldout_accuracy": {h: json_number(a) for h, a in judged.accuracy.items()},
        "heldout_accuracy_curated": {h: json_number(a) for h, a in judged.accuracy_curated.items()},
        "screen_threshold": cp.screen_threshold,
        "screening_skipped": judged.screening_skipped,
        "screening_heads": list(judged.heads),
        "classifier": {"arch": cls_p.arch, "input_size": cls_p.input_size, "epochs": cls_p.epochs,
                       "init": trained.init},
    }

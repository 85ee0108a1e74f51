"""Stage annotate (notebook 03_annotate): curated images -> captioned, split, validated dataset manifest (paper section 2.1).

Reads the curate stage's ``curated.jsonl``; for each item computes its perceptual hash and its structured
three-dimensional caption (:mod:`inkgen.data.captions`, the paper's Figure 2), using the majority label of
human annotators where an annotation CSV is given (:mod:`inkgen.data.agreement`, with Fleiss' kappa);
splits 8:1:1 (:mod:`inkgen.data.split`); validates the manifest with Great Expectations
(:mod:`inkgen.data.validate`) and only then writes it. A failed validation raises, so ``dvc repro`` stops
here instead of training on a bad dataset. Items that cannot be annotated (unreadable image, checksum
mismatch, no label to caption from) are quarantined with the reason, never dropped silently, as
:class:`~inkgen.data.raw_store.QuarantineEntry` rows like the other stages' (``file`` relative to the project
root, ``sha256`` of the curated file as found, ``context`` with the curated record's file and digest).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from inkgen.config import Params, project_root
from inkgen.data.annotate import (CAPTIONS_FILE, CURATED_FILE, MANIFEST_FILE, QUARANTINE_COLUMNS, QUARANTINE_FILE,
                                   VALIDATION_FILE, agreement_labels, annotate_items, manifest_metrics, split_table)
from inkgen.data.records import CuratedItem, read_jsonl, write_jsonl
from inkgen.data.split import hash_array, split_with_withheld
from inkgen.data.taxonomy import load_taxonomy
from inkgen.data.validate import MANIFEST_COLUMNS, ValidationReport, json_ready, validate_manifest


@dataclass(frozen=True)
class AnnotateSummary:
    """What the annotate notebook shows: the manifest and the tables a reader checks it by."""

    manifest: pd.DataFrame
    split_table: pd.DataFrame  # items per primary category (rows) and split (columns), with totals
    examples: pd.DataFrame  # one captioned item per primary category
    validation: ValidationReport
    agreement: pd.DataFrame | None  # Fleiss' kappa per field, None without multi-annotator labels
    agreement_note: str
    quarantine: pd.DataFrame  # QuarantineEntry fields: item_id, source, reason, file, sha256, context
    metrics: dict[str, Any]
    outputs: dict[str, Path] = field(default_factory=dict)



def run(params: Params, root: str | Path | None = None) -> AnnotateSummary:
    """Run the annotate stage; raise :class:`~inkgen.data.validate.ValidationFailed` on a bad manifest.

    ``root`` is the project root that ``params.paths`` are relative to (default: where params.yaml is).
    Writes ``manifest.csv``, ``captions.jsonl``, ``validation.json`` and ``quarantine.jsonl`` under
    ``paths.dataset`` and ``annotate.json`` under ``paths.metrics``.
    """
    root = Path(root) if root is not None else project_root()
    tax = load_taxonomy()
    curated_dir = root / params.paths.curated
    dataset_dir = root / params.paths.dataset
    items = [CuratedItem.from_dict(row) for row in read_jsonl(curated_dir / CURATED_FILE)]

    human, kappa, note = agreement_labels(params, root, tax)
    rows, captions, quarantine = annotate_items(items, curated_dir, root, params.annotate, human, tax)
    if not rows:
        raise ValueError(f"{curated_dir / CURATED_FILE}: no item could be annotated "
                         f"({len(quarantine)} quarantined, see the reasons there)")

    manifest = pd.DataFrame(rows).sort_values("item_id", kind="stable").reset_index(drop=True)
    split = split_with_withheld(manifest["item_id"], manifest["primary"] + "|" + manifest["painting_type"],
                                manifest["secondary"], hash_array(manifest["phash"]), params.annotate.split,
                                params.annotate.withheld_secondary)
    manifest["split"] = split["split"].to_numpy()
    manifest["near_dup_group"] = split["near_dup_group"].to_numpy()
    manifest = manifest[list(MANIFEST_COLUMNS)]

    outputs = {"validation": dataset_dir / VALIDATION_FILE, "manifest": dataset_dir / MANIFEST_FILE,
               "captions": dataset_dir / CAPTIONS_FILE, "quarantine": dataset_dir / QUARANTINE_FILE,
               "metrics": root / params.paths.metrics / "annotate.json"}
    dataset_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("manifest", "captions", "metrics"):  # a failed run must leave no older valid-looking one
        outputs[stale].unlink(missing_ok=True)
    write_jsonl(outputs["quarantine"], quarantine)
    report = validate_manifest(manifest, params.annotate, tax, results_path=outputs["validation"])

    manifest.to_csv(outputs["manifest"], index=False)
    write_jsonl(outputs["captions"], (asdict(c) for c in captions))
    corpus_ids = {item.record.item_id for item in items}
    metrics = manifest_metrics(manifest, report, kappa, len(quarantine), len(set(human) - corpus_ids))
    outputs["metrics"].parent.mkdir(parents=True, exist_ok=True)
    metrics = json_ready(metrics)
    outputs["metrics"].write_text(json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n",
                                  encoding="utf-8")

    examples = (manifest.groupby("primary", sort=True).head(1)
                [["item_id", "file", "split", "label_origin", "caption"]].reset_index(drop=True))
    return AnnotateSummary(
        manifest=manifest, split_table=split_table(manifest), examples=examples, validation=report,
        agreement=kappa, agreement_note=note,
        # object columns keep a missing sha256 as None, as in quarantine.jsonl
        quarantine=pd.DataFrame([asdict(q) for q in quarantine], columns=list(QUARANTINE_COLUMNS),
                                dtype=object),
        metrics=metrics,
        outputs=outputs,
    )

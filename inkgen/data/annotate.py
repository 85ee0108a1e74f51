"""The annotation library of the annotate stage (paper section 2.1; the stage is :mod:`inkgen.stages.annotate`):
each curated item captioned (:mod:`inkgen.data.captions`) with the human annotators' majority labels where
given (:mod:`inkgen.data.agreement`), or quarantined with its reason; the manifest's counts."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from PIL import Image

from inkgen.config import AnnotateParams, Params
from inkgen.data.agreement import fleiss_by_field, majority_labels, read_annotations
from inkgen.data.captions import Caption, CaptionError, build_caption
from inkgen.data.raw_store import QuarantineEntry
from inkgen.data.records import CuratedItem, sha256_file
from inkgen.data.split import SPLITS, WITHHELD, phash
from inkgen.data.taxonomy import Taxonomy
from inkgen.data.validate import ValidationReport

CURATED_FILE = "curated.jsonl"
MANIFEST_FILE = "manifest.csv"
CAPTIONS_FILE = "captions.jsonl"
VALIDATION_FILE = "validation.json"
QUARANTINE_FILE = "quarantine.jsonl"
QUARANTINE_COLUMNS = tuple(f.name for f in fields(QuarantineEntry))


def split_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Item counts by primary category x split, with row and column totals."""
    table = pd.crosstab(manifest["primary"], manifest["split"], margins=True, margins_name="total")
    return table.reindex(columns=[*(s for s in (*SPLITS, WITHHELD) if s in table.columns), "total"])


def _manifest_row(item: CuratedItem, caption: Caption, file: str, width: int, height: int,
                  hash_hex: str) -> dict[str, Any]:
    rec = item.record
    return {
        "item_id": rec.item_id, "file": file, "sha256": rec.sha256, "width": width, "height": height,
        "source": rec.source, "license": rec.license, "painting_type": caption.painting_type,
        "primary": caption.primary, "secondary": caption.secondary, "period": caption.period,
        "themes": "|".join(caption.themes), "techniques": "|".join(caption.techniques),
        # no elements known (a museum item labelled by the classifier alone) is a null, not an empty key list
        "elements": "|".join(caption.elements) or None,
        "caption": caption.text, "label_origin": caption.label_origin, "phash": hash_hex,
    }


def _quarantine_entry(item: CuratedItem, file: str, found_sha256: str | None, reason: str
                      ) -> QuarantineEntry:
    """An item annotate refuses, shaped as the other stages' quarantine: ``file`` relative to the project
    root, ``sha256`` of that file as found (None when unreadable), the curated record's file and digest in
    ``context``."""
    rec = item.record
    return QuarantineEntry(item_id=rec.item_id, source=rec.source, reason=reason, file=file,
                           sha256=found_sha256,
                           context={"curated_file": rec.file, "curated_sha256": rec.sha256})


def annotate_items(items: list[CuratedItem], curated_dir: Path, root: Path, params: AnnotateParams,
                   human: Mapping[str, Mapping[str, str]], taxonomy: Taxonomy
                   ) -> tuple[list[dict[str, Any]], list[Caption], list[QuarantineEntry]]:
    """Manifest rows (without split) and captions of the items that can be annotated; quarantine entries."""
    rows, captions, quarantine = [], [], []
    for item in items:
        rec = item.record
        path = curated_dir / rec.file
        file = Path(os.path.relpath(path, root)).as_posix()  # manifest paths are relative to the project root
        found_sha256 = None  # stays None when the file cannot be read
        try:
            found_sha256 = sha256_file(path)
            if found_sha256 != rec.sha256:
                # changed since curation: its labels and provenance no longer describe it
                quarantine.append(_quarantine_entry(item, file, found_sha256,
                                                    f"SHA-256 of {file} does not match the curated record"))
                continue
            with Image.open(path) as img:
                width, height = img.size
            hash_hex = f"{phash(path):016x}"
            caption = build_caption(item, params.seed, human.get(rec.item_id), taxonomy,
                                    params.caption_max_elements, params.caption_max_techniques)
        except (OSError, CaptionError) as exc:  # OSError covers missing and unreadable images
            # the project-relative path in the reason, so that the list does not depend on the machine
            quarantine.append(_quarantine_entry(item, file, found_sha256, str(exc).replace(str(path), file)))
            continue
        rows.append(_manifest_row(item, caption, file, width, height, hash_hex))
        captions.append(caption)
    return rows, captions, quarantine


def agreement_labels(params: Params, root: Path, taxonomy: Taxonomy
               ) -> tuple[dict[str, dict[str, str]], pd.DataFrame | None, str]:
    source = params.annotate.human_annotations
    if not source:
        return {}, None, "No human-annotation CSV was given (annotate.human_annotations is empty): labels " \
                         "come from the renderer's truth, metadata CSVs and the curation classifier."
    path = Path(source) if Path(source).is_absolute() else root / source
    annotations = read_annotations(path, taxonomy)
    kappa = fleiss_by_field(annotations, taxonomy)
    note = (f"{len(annotations)} human labels by {annotations['annotator'].nunique()} annotator(s) on "
            f"{annotations['item_id'].nunique()} item(s) from {source}; captions use each item's majority "
            "label.")
    if kappa.empty:
        note += " No item was labelled by several annotators, so there is no Fleiss' kappa."
        return majority_labels(annotations, taxonomy), None, note
    return majority_labels(annotations, taxonomy), kappa, note


def manifest_metrics(manifest: pd.DataFrame, report: ValidationReport, kappa: pd.DataFrame | None,
             n_quarantined: int, n_human_unmatched: int) -> dict[str, Any]:
    group_sizes = manifest["near_dup_group"].value_counts()
    n = len(manifest)
    per_split = manifest["split"].value_counts().reindex([*SPLITS, WITHHELD], fill_value=0)
    n_split = n - int(per_split[WITHHELD])  # the 8:1:1 shares are of the items not withheld
    return {
        "n_items": n,
        "n_quarantined": n_quarantined,
        "n_per_split": {s: int(per_split[s]) for s in (*SPLITS, WITHHELD)},
        "share_per_split": {s: round(per_split[s] / n_split, 4) if n_split else 0.0 for s in SPLITS},
        "withheld_secondary": sorted(manifest.loc[manifest["split"] == WITHHELD, "secondary"].dropna().unique()),
        "n_per_primary": {k: int(v) for k, v in manifest["primary"].value_counts().sort_index().items()},
        "n_per_painting_type": {k: int(v) for k, v in
                                manifest["painting_type"].value_counts().sort_index().items()},
        "n_per_label_origin": {k: int(v) for k, v in
                               manifest["label_origin"].value_counts().sort_index().items()},
        "near_duplicate_groups": int((group_sizes > 1).sum()),
        "largest_near_duplicate_group": int(group_sizes.max()) if n else 0,
        "validation_success": report.success,
        "n_expectations": len(report.table),
        "n_expectations_failed": len(report.failures),
        "fleiss_kappa": None if kappa is None else {
            r.field: round(float(r.kappa), 4) for r in kappa.itertuples()},  # NaN -> null by json_ready
        "n_human_labelled_items_not_in_corpus": n_human_unmatched,
    }

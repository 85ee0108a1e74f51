"""The annotate stage: curated images -> captioned, split, validated dataset manifest (paper section 2.1).

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
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from PIL import Image

from inkgen.config import AnnotateParams, Params, project_root
from inkgen.data.agreement import fleiss_by_field, majority_labels, read_annotations
from inkgen.data.captions import Caption, CaptionError, build_caption
from inkgen.data.raw_store import QuarantineEntry
from inkgen.data.records import CuratedItem, read_jsonl, sha256_file, write_jsonl
from inkgen.data.split import SPLITS, WITHHELD, hash_array, phash, split_with_withheld
from inkgen.data.taxonomy import Taxonomy, load_taxonomy
from inkgen.data.validate import MANIFEST_COLUMNS, ValidationReport, json_ready, validate_manifest

CURATED_FILE = "curated.jsonl"
MANIFEST_FILE = "manifest.csv"
CAPTIONS_FILE = "captions.jsonl"
VALIDATION_FILE = "validation.json"
QUARANTINE_FILE = "quarantine.jsonl"
QUARANTINE_COLUMNS = tuple(f.name for f in fields(QuarantineEntry))


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


def _agreement(params: Params, root: Path, taxonomy: Taxonomy
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


def _metrics(manifest: pd.DataFrame, report: ValidationReport, kappa: pd.DataFrame | None,
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


def run_annotate(params: Params, root: str | Path | None = None) -> AnnotateSummary:
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

    human, kappa, note = _agreement(params, root, tax)
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
    metrics = _metrics(manifest, report, kappa, len(quarantine), len(set(human) - corpus_ids))
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

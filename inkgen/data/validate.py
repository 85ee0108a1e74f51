"""Great Expectations checks on the annotated manifest before it becomes the dataset (paper section 2.1).

The paper's dataset is only as good as its labels and its 8:1:1 split. This suite states, as Great
Expectations 1.x expectations run in an ephemeral context, what the manifest must satisfy:

- every required column exists and has no nulls; licences are present and not blank;
- labels lie in the taxonomy's lexicons (painting type, primary, secondary, period; themes, techniques and
  elements as ``|``-joined keys), the label origin is a known one, each caption names its painting type
  and at least one technique;
- images are at least ``min_image_size`` on each side; no two items share a SHA-256;
- the split is 8:1:1 within ``tolerance``;
- the split is stratified: every stratum (primary category x painting type) of at least
  :data:`STRATUM_MIN_ITEMS` items has a train share within ``max(tolerance, STRATUM_TOLERANCE)`` of the
  train target (see :data:`STRATUM_TOLERANCE` for why that bound);
- no item has a near-duplicate in another split: recomputed here from the ``phash`` column alone (all
  pairs within ``near_duplicate_distance`` Hamming bits), so that a grouping bug in :mod:`inkgen.data.split`
  cannot hide behind the ``near_dup_group`` column it wrote; that column is checked for consistency too.

The split checks are properties of the whole table, so they are checked through computed per-row columns
(each row's split share deviation, its stratum's train share deviation, its near-duplicates in other
splits, the number of splits its near-duplicate group spans): a failure then names the offending items.
Results use ``result_format="COMPLETE"`` with ``item_id`` as the index column.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                         ProgressBarsConfig)

from inkgen.config import AnnotateParams
from inkgen.data.captions import ORIGINS
from inkgen.data.split import SPLITS, WITHHELD, hash_array
from inkgen.data.taxonomy import Taxonomy, load_taxonomy

MANIFEST_COLUMNS = ("item_id", "file", "sha256", "width", "height", "source", "license", "split",
                    "painting_type", "primary", "secondary", "period", "themes", "techniques", "elements",
                    "caption", "label_origin", "phash", "near_dup_group")
# Museum items have no secondary category or drawn elements when only the classifier labelled them, and
# many works have no known period.
NULLABLE = ("secondary", "period", "elements")
MAX_LISTED_ITEMS = 5  # in the message; validation.json lists them all
# Stratification: strata smaller than this are not checked (at 8:1:1 a stratum of 20 expects 2 val and
# 2 test items; below that, one item more or less is already a large share).
STRATUM_MIN_ITEMS = 20
# A checked stratum's train share may miss the target by this much (or by ``split.tolerance`` if larger):
# two items in a stratum of 20. The splitter keeps near-duplicate groups whole and files each group under
# its majority stratum, so a stratum's share legitimately moves by rounding and by the minority members of
# groups that span strata (0.032 on the 1,981-item procedural corpus, where one 44-item group spans two
# painting types). A stratum left out of val and test (share 1.0) or starved of training items fails.
STRATUM_TOLERANCE = 0.1
_PHASH = r"^[0-9a-f]{16}$"


class ValidationFailed(RuntimeError):
    """The manifest broke expectations; the message is a table of which ones, on which items."""

    def __init__(self, message: str, report: "ValidationReport") -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ValidationReport:
    """``table``: one row per expectation (check, expectation, column, success, unexpected, items, detail);
    ``results``: Great Expectations' own result, as JSON-ready data."""

    success: bool
    table: pd.DataFrame
    results: dict[str, Any]

    @property
    def failures(self) -> pd.DataFrame:
        return self.table[~self.table["success"]].reset_index(drop=True)


def _keys_regex(keys) -> str:
    """``key`` or ``key|key|...`` over the given keys, nothing else."""
    alt = "(?:" + "|".join(sorted(keys, key=len, reverse=True)) + ")"
    return rf"^{alt}(?:\|{alt})*$"


def near_duplicates_in_other_splits(phash: pd.Series, split: pd.Series, max_distance: int,
                                    block: int = 512) -> pd.Series:
    """Per row: how many rows in a *different* split have a perceptual hash within ``max_distance`` bits.

    Computed from the hashes alone (pairwise Hamming distances with ``numpy.bitwise_count``, upper triangle
    only, ``block`` rows at a time, so 15,000 rows take well under a second and ``block * n`` bytes).
    Rows with no valid 16-digit hex hash or no split are null: the phash and split checks report those.
    """
    valid = (phash.astype("string").str.fullmatch(_PHASH[1:-1]).fillna(False).to_numpy(bool)
             & split.notna().to_numpy())
    hashes = hash_array(phash[valid])
    codes = pd.factorize(split[valid])[0]
    n = len(hashes)
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, n, block):
        rows = slice(start, start + block)
        dist = np.bitwise_count(hashes[rows, None] ^ hashes[None, start:])
        i, j = np.nonzero((dist <= max_distance) & (codes[rows, None] != codes[None, start:]))
        keep = j > i  # each pair once: j is a column offset from `start`, as i is a row offset
        counts += np.bincount(i[keep] + start, minlength=n) + np.bincount(j[keep] + start, minlength=n)
    out = pd.Series(pd.NA, index=phash.index, dtype="Int64")
    out[valid] = counts
    return out


def stratum_train_share_deviation(df: pd.DataFrame, target: float) -> pd.Series:
    """Per row: |train share of its stratum (primary x painting type) - ``target``|; null for strata of
    fewer than :data:`STRATUM_MIN_ITEMS` items and for rows without a stratum."""
    stratum = df["primary"].astype("string") + "|" + df["painting_type"].astype("string")
    stratum = stratum.where(df["split"] != WITHHELD)  # withheld items are in no stratum's 8:1:1
    is_train = (df["split"] == "train").astype(float)
    size = stratum.map(stratum.value_counts())
    share = is_train.groupby(stratum).transform("mean")
    return (share - target).abs().where(size >= STRATUM_MIN_ITEMS).astype(float)


def computed_columns(df: pd.DataFrame, params: AnnotateParams, taxonomy: Taxonomy | None = None
                     ) -> pd.DataFrame:
    """The manifest plus the per-row columns that carry table-level checks.

    ``split_share_deviation``: |share of the row's split - its target|, 1.0 for a split that is no split.
    ``stratum_train_share_deviation``: |train share of the row's stratum - the train target| (null for a
    stratum of fewer than :data:`STRATUM_MIN_ITEMS` items).
    ``near_duplicates_in_other_splits``: rows in another split whose phash is within
    ``split.near_duplicate_distance`` bits of this row's (must be 0).
    ``near_dup_group_splits``: how many splits the row's ``near_dup_group`` spans (must be 1).
    ``caption_names_type_and_technique``: the caption contains the painting type's label and at least one
    of the row's technique labels (the paper's captions state category and technique).
    """
    tax = taxonomy or load_taxonomy()
    out = df.copy()
    if "split" in out:
        targets = dict(zip(SPLITS, (params.split.train, params.split.val, params.split.test)))
        split_rows = out["split"][out["split"] != WITHHELD]  # shares of the items not withheld
        share = out["split"].map(split_rows.value_counts(normalize=True))
        deviation = (share - out["split"].map(targets)).abs().fillna(1.0)
        out["split_share_deviation"] = deviation.mask(out["split"] == WITHHELD, 0.0)
    if {"split", "primary", "painting_type"} <= set(out):
        out["stratum_train_share_deviation"] = stratum_train_share_deviation(out, params.split.train)
    if {"split", "phash"} <= set(out):
        out["near_duplicates_in_other_splits"] = near_duplicates_in_other_splits(
            out["phash"], out["split"], params.split.near_duplicate_distance)
    if {"split", "near_dup_group"} <= set(out):
        spans = out.groupby("near_dup_group")["split"].nunique()
        out["near_dup_group_splits"] = out["near_dup_group"].map(spans).fillna(0).astype(int)
    if {"caption", "painting_type", "techniques"} <= set(out):
        def names_both(row) -> bool:
            caption, ptype, techs = row["caption"], row["painting_type"], row["techniques"]
            if not isinstance(caption, str) or ptype not in tax.painting_types or not isinstance(techs, str):
                return False
            labels = [tax.techniques[t].label for t in techs.split("|") if t in tax.techniques]
            return tax.painting_types[ptype].label in caption and any(label in caption for label in labels)
        out["caption_names_type_and_technique"] = out.apply(names_both, axis=1).astype(bool)
    return out


def build_expectations(params: AnnotateParams, taxonomy: Taxonomy | None = None) -> list:
    """The suite's expectations, each with a ``meta["check"]`` saying in words what it guards."""
    tax = taxonomy or load_taxonomy()
    stratum_tolerance = max(params.split.tolerance, STRATUM_TOLERANCE)
    expectations: list = [gxe.ExpectTableColumnsToMatchSet(
        column_set=list(MANIFEST_COLUMNS), exact_match=False, meta={"check": "required columns exist"})]
    expectations += [gxe.ExpectColumnValuesToNotBeNull(column=c, meta={"check": f"{c} present"})
          for c in MANIFEST_COLUMNS if c not in NULLABLE]
    # Value-set and regex expectations skip nulls: the not-null checks above cover the required columns.
    for column, values in (("painting_type", tax.painting_types), ("primary", tax.primary),
                           ("secondary", tax.secondary), ("period", tax.periods), ("split", (*SPLITS, WITHHELD)),
                           ("label_origin", ORIGINS)):
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values),
                                                 meta={"check": f"{column} in the taxonomy"}))
    for column, lexicon in (("themes", tax.themes), ("techniques", tax.techniques),
                            ("elements", tax.elements)):
        expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=_keys_regex(lexicon),
                                                    meta={"check": f"{column} are taxonomy keys"}))
    expectations += [
        gxe.ExpectColumnValuesToMatchRegex(column="license", regex=r"\S",
                                           meta={"check": "licence not blank"}),
        gxe.ExpectColumnValuesToMatchRegex(column="caption", regex=r"\S",
                                           meta={"check": "caption not blank"}),
        gxe.ExpectColumnValuesToMatchRegex(column="sha256", regex=r"^[0-9a-f]{64}$",
                                           meta={"check": "sha256 is a SHA-256 digest"}),
        gxe.ExpectColumnValuesToMatchRegex(column="phash", regex=_PHASH,
                                           meta={"check": "phash is a 64-bit hash"}),
        gxe.ExpectColumnValuesToBeBetween(column="width", min_value=params.min_image_size,
                                          meta={"check": f"width >= {params.min_image_size}"}),
        gxe.ExpectColumnValuesToBeBetween(column="height", min_value=params.min_image_size,
                                          meta={"check": f"height >= {params.min_image_size}"}),
        gxe.ExpectColumnValuesToBeUnique(column="item_id", meta={"check": "item ids unique"}),
        gxe.ExpectColumnValuesToBeUnique(column="sha256", meta={"check": "no duplicate images (sha256)"}),
        gxe.ExpectColumnValuesToBeBetween(
            column="split_share_deviation", min_value=0.0, max_value=params.split.tolerance,
            meta={"check": f"split {params.split.train:g}:{params.split.val:g}:{params.split.test:g} "
                           f"within {params.split.tolerance:g}"}),
        gxe.ExpectColumnValuesToBeBetween(
            column="stratum_train_share_deviation", min_value=0.0, max_value=stratum_tolerance,
            meta={"check": f"train share {params.split.train:g} within {stratum_tolerance:g} in every "
                           f"stratum of >= {STRATUM_MIN_ITEMS} items"}),
        gxe.ExpectColumnValuesToBeInSet(
            column="near_duplicates_in_other_splits", value_set=[0],
            meta={"check": f"no near-duplicate (phash within {params.split.near_duplicate_distance} bits) "
                           "in another split"}),
        gxe.ExpectColumnValuesToBeInSet(column="near_dup_group_splits", value_set=[1],
                                        meta={"check": "near_dup_group within one split"}),
        gxe.ExpectColumnValuesToBeInSet(column="caption_names_type_and_technique", value_set=[True],
                                        meta={"check": "caption names painting type and a technique"}),
    ]
    return expectations


def json_ready(value: Any) -> Any:
    """Data that strict JSON (``allow_nan=False``) can hold: NaN, infinities and pandas' NA -> null;
    numpy scalars and arrays -> Python; mapping keys -> str; anything else -> its str. GX results carry all
    of these, and so do the stage metrics (an unmeasurable kappa is NaN)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# What GX stamps on each run (clock times, uuids): dropped so that a re-run on the same manifest writes the same
# bytes. validation.json lives in the dataset folder, whose hash every training stage depends on.
VOLATILE_META = ("run_id", "validation_id", "validation_time")
VOLATILE_BATCH_MARKERS = ("ge_load_time",)


def reproducible(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` (GX's ``to_json_dict()``, JSON-ready) without the run's clock times and uuids."""
    meta = {k: v for k, v in results.get("meta", {}).items() if k not in VOLATILE_META}
    if isinstance(meta.get("batch_markers"), dict):
        meta["batch_markers"] = {k: v for k, v in meta["batch_markers"].items()
                                 if k not in VOLATILE_BATCH_MARKERS}
    checks = [{**r, "expectation_config": {k: v for k, v in r["expectation_config"].items() if k != "id"}}
              for r in results.get("results", [])]
    return {**results, "meta": meta, "results": checks}


def _exception_message(info: dict[str, Any]) -> str:
    """Last line of the exception GX caught; its info is flat or keyed by metric, depending on where."""
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        message = (entry.get("exception_message") or "").strip()
        if message:
            return message.splitlines()[-1]
    return ""


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _row(result: dict[str, Any]) -> dict[str, Any]:
    config, res = result["expectation_config"], result.get("result") or {}
    index = res.get("unexpected_index_list") or []
    items = [r["item_id"] if isinstance(r, dict) else r for r in index]
    shown = ", ".join(str(i) for i in items[:MAX_LISTED_ITEMS])
    if len(items) > MAX_LISTED_ITEMS:
        shown += f", ... (+{len(items) - MAX_LISTED_ITEMS})"
    detail = ""
    if not result["success"]:
        if "details" in res:  # table-level: the required columns that are missing
            detail = "missing: " + ", ".join(res["details"].get("mismatched", {}).get("missing", []))
        elif res.get("unexpected_list"):
            detail = "values: " + ", ".join(sorted({_value(v) for v in res["unexpected_list"]}))
        else:
            detail = _exception_message(result.get("exception_info") or {})
    return {"check": config.get("meta", {}).get("check", ""), "expectation": config["type"],
            "column": config["kwargs"].get("column", ""), "success": bool(result["success"]),
            "unexpected": int(res.get("unexpected_count") or 0), "items": shown, "detail": detail[:100]}


def format_failures(failures: pd.DataFrame) -> str:
    """The failed checks as a left-aligned text table: check, expectation, column, count, items, detail."""
    columns = ["check", "expectation", "column", "unexpected", "items", "detail"]
    cells = [columns] + [[str(v) for v in row] for row in failures[columns].itertuples(index=False)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def validate_manifest(df: pd.DataFrame, params: AnnotateParams, taxonomy: Taxonomy | None = None,
                      results_path: str | Path | None = None, raise_on_failure: bool = True
                      ) -> ValidationReport:
    """Run the suite on ``df``; write the results JSON to ``results_path`` if given (also on failure).

    On failure raise :class:`ValidationFailed` (unless ``raise_on_failure`` is false) with a table of the
    failed checks and the item ids they failed on.
    """
    tax = taxonomy or load_taxonomy()
    checked = computed_columns(df, params, tax)
    # Ephemeral and in memory: nothing is written under the project, no analytics, no progress bars.
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)))
    batch = (context.data_sources.add_pandas("inkgen").add_dataframe_asset("manifest")
             .add_batch_definition_whole_dataframe("whole manifest"))
    # Built whole, then added once: suite.add_expectation re-serialises the stored suite on every call.
    suite = context.suites.add(gx.ExpectationSuite(name="inkgen_manifest",
                                                   expectations=build_expectations(params, tax)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="inkgen_manifest", data=batch, suite=suite))
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if "item_id" in checked:
        result_format["unexpected_index_column_names"] = ["item_id"]
    result = definition.run(batch_parameters={"dataframe": checked}, result_format=result_format)

    results = reproducible(json_ready(result.to_json_dict()))
    table = pd.DataFrame([_row(r) for r in results["results"]])
    report = ValidationReport(success=bool(result.success), table=table, results=results)
    if results_path is not None:
        Path(results_path).parent.mkdir(parents=True, exist_ok=True)
        Path(results_path).write_text(json.dumps(results, indent=1, sort_keys=True, allow_nan=False) + "\n",
                                      encoding="utf-8")
    if not report.success and raise_on_failure:
        raise ValidationFailed(f"manifest validation failed: {len(report.failures)} of {len(table)} "
                               f"expectations\n{format_failures(report.failures)}", report)
    return report

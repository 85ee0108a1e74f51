"""Great Expectations checks on the annotated manifest before it becomes the dataset (paper section 2.1).

The paper's dataset is only as good as its labels and its 8:1:1 split. This suite states, as Great
Expectations 1.x expectations run in an ephemeral context, what the manifest must satisfy:

- every required column exists and has no nulls; licences are present and not blank;
- labels lie in the taxonomy's lexicons (painting type, primary, secondary, period; themes, techniques and
  elements as ``|``-joined keys), the label origin is a known one, each caption names its painting type
  and at least one technique;
- images are at least ``min_image_size`` on each side; no two items share a SHA-256;
- the split is 8:1:1 within ``tolerance`` and no near-duplicate group straddles two splits.

The last two are properties of the whole table, so they are checked through computed per-row columns
(each row's split share deviation; the number of splits its near-duplicate group spans): a failure then
names the offending items. Results use ``result_format="COMPLETE"`` with ``item_id`` as the index column.
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
from inkgen.data.split import SPLITS
from inkgen.data.taxonomy import Taxonomy, load_taxonomy

MANIFEST_COLUMNS = ("item_id", "file", "sha256", "width", "height", "source", "license", "split",
                    "painting_type", "primary", "secondary", "period", "themes", "techniques", "elements",
                    "caption", "label_origin", "phash", "near_dup_group")
# Museum items have no secondary category or drawn elements when only the classifier labelled them, and
# many works have no known period.
NULLABLE = ("secondary", "period", "elements")
MAX_LISTED_ITEMS = 5  # in the message; validation.json lists them all


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


def computed_columns(df: pd.DataFrame, params: AnnotateParams, taxonomy: Taxonomy | None = None
                     ) -> pd.DataFrame:
    """The manifest plus the per-row columns that carry table-level checks.

    ``split_share_deviation``: |share of the row's split - its target|, 1.0 for a split that is no split.
    ``near_dup_group_splits``: how many splits the row's near-duplicate group spans (must be 1).
    ``caption_names_type_and_technique``: the caption contains the painting type's label and at least one
    of the row's technique labels (the paper's captions state category and technique).
    """
    tax = taxonomy or load_taxonomy()
    out = df.copy()
    if "split" in out:
        targets = dict(zip(SPLITS, (params.split.train, params.split.val, params.split.test)))
        share = out["split"].map(out["split"].value_counts(normalize=True))
        out["split_share_deviation"] = (share - out["split"].map(targets)).abs().fillna(1.0)
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
    expectations: list = [gxe.ExpectTableColumnsToMatchSet(
        column_set=list(MANIFEST_COLUMNS), exact_match=False, meta={"check": "required columns exist"})]
    expectations += [gxe.ExpectColumnValuesToNotBeNull(column=c, meta={"check": f"{c} present"})
          for c in MANIFEST_COLUMNS if c not in NULLABLE]
    # Value-set and regex expectations skip nulls: the not-null checks above cover the required columns.
    for column, values in (("painting_type", tax.painting_types), ("primary", tax.primary),
                           ("secondary", tax.secondary), ("period", tax.periods), ("split", SPLITS),
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
        gxe.ExpectColumnValuesToMatchRegex(column="phash", regex=r"^[0-9a-f]{16}$",
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
        gxe.ExpectColumnValuesToBeInSet(column="near_dup_group_splits", value_set=[1],
                                        meta={"check": "near-duplicate group in one split"}),
        gxe.ExpectColumnValuesToBeInSet(column="caption_names_type_and_technique", value_set=[True],
                                        meta={"check": "caption names painting type and a technique"}),
    ]
    return expectations


def _json_ready(value: Any) -> Any:
    """Strict-JSON data: NaN -> null, numpy scalars -> Python (GX results carry both)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


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

    results = _json_ready(result.to_json_dict())
    table = pd.DataFrame([_row(r) for r in results["results"]])
    report = ValidationReport(success=bool(result.success), table=table, results=results)
    if results_path is not None:
        Path(results_path).parent.mkdir(parents=True, exist_ok=True)
        Path(results_path).write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    if not report.success and raise_on_failure:
        raise ValidationFailed(f"manifest validation failed: {len(report.failures)} of {len(table)} "
                               f"expectations\n{format_failures(report.failures)}", report)
    return report

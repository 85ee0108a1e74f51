"""Human annotations and inter-annotator agreement (paper section 3.1: Fleiss' kappa 0.82, 2,000 entries).

The paper checks annotation consistency with Fleiss' kappa across annotators. Here human labels arrive as
a long CSV, one label per row: ``item_id, annotator, field, value``, where ``field`` is one of the
category labels of :data:`inkgen.data.captions.LABEL_FIELDS` and ``value`` a key of that field's lexicon
in ``taxonomy.yaml``. Where several annotators labelled the same items, Fleiss' kappa is computed per field
with ``statsmodels.stats.inter_rater`` (``aggregate_raters`` + ``fleiss_kappa``; Fleiss 1971); each item's
majority label is what the captions use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from inkgen.data.captions import LABEL_FIELDS
from inkgen.data.taxonomy import Taxonomy, load_taxonomy

COLUMNS = ("item_id", "annotator", "field", "value")
MAX_LISTED_ERRORS = 20


class AnnotationError(ValueError):
    """A human-annotation file that cannot be used; the message names the file, line and reason."""


def field_values(field: str, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """The allowed values of an annotation field, in taxonomy order (which also breaks majority ties)."""
    tax = taxonomy or load_taxonomy()
    lexicons = {"painting_type": tax.painting_types, "primary": tax.primary, "secondary": tax.secondary,
                "period": tax.periods}
    return tuple(lexicons[field])


def read_annotations(path: str | Path, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Read and check a human-annotation CSV; return its rows with a ``line`` column (1 = header).

    Every bad row is reported (up to :data:`MAX_LISTED_ERRORS`), each with its line: an empty cell, an
    unknown field, a value outside the taxonomy, or a second label by one annotator for one item and field.
    """
    tax = taxonomy or load_taxonomy()
    path = Path(path)
    # keep_default_na=False: an empty cell stays "" so it is reported, not silently turned into NaN
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}, "
                              f"found {list(df.columns)}")
    df = df[list(COLUMNS)].apply(lambda col: col.str.strip())
    df.insert(0, "line", np.arange(2, len(df) + 2))

    errors = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in df.itertuples(index=False):
        empty = [c for c in COLUMNS if not getattr(row, c)]
        if empty:
            errors.append(f"line {row.line}: empty {', '.join(empty)}")
        elif row.field not in LABEL_FIELDS:
            errors.append(f"line {row.line}: unknown field {row.field!r} (expected one of "
                          f"{list(LABEL_FIELDS)})")
        elif row.value not in field_values(row.field, tax):
            errors.append(f"line {row.line}: {row.value!r} is not a {row.field} in the taxonomy "
                          f"(expected one of {list(field_values(row.field, tax))})")
        else:
            key = (row.item_id, row.annotator, row.field)
            if key in seen:
                errors.append(f"line {row.line}: annotator {row.annotator!r} already labelled {row.field} of "
                              f"{row.item_id!r} on line {seen[key]}")
            seen[key] = row.line
    if errors:
        shown = "\n  ".join(errors[:MAX_LISTED_ERRORS])
        extra = len(errors) - MAX_LISTED_ERRORS
        more = f"\n  ... and {extra} more" if extra > 0 else ""
        raise AnnotationError(f"{path}: {len(errors)} bad row(s):\n  {shown}{more}")
    return df


def fleiss_by_field(annotations: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Fleiss' kappa per field over the items that several annotators labelled.

    Fleiss' kappa assumes every item has the same number of ratings (statsmodels asserts it), so each
    field uses the items with the most common number of annotators (at least two); the others are counted
    in ``n_items_excluded``. Columns: field, kappa, n_items, n_annotators, raters_per_item, n_items_excluded.
    ``kappa`` is NaN when chance agreement is already 1 (every rating the same category).
    """
    tax = taxonomy or load_taxonomy()
    rows = []
    for field, sub in annotations.groupby("field", sort=True):
        per_item = sub.groupby("item_id")["annotator"].nunique()
        multi = per_item[per_item >= 2]
        if multi.empty:
            continue
        counts = multi.value_counts()
        raters = int(max(counts[counts == counts.max()].index))  # most common count; ties -> more raters
        items = sorted(multi.index[multi == raters])
        values = field_values(field, tax)
        codes = {v: i for i, v in enumerate(values)}
        wide = (sub[sub["item_id"].isin(items)].pivot(index="item_id", columns="annotator", values="value"))
        # one row per item: its `raters` labels, whichever annotators gave them; shape (items, raters)
        ratings = np.array([[codes[v] for v in r[~pd.isna(r)]] for r in wide.loc[items].to_numpy()])
        table, _ = aggregate_raters(ratings, n_cat=len(values))  # (items, categories) counts
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = float(fleiss_kappa(table, method="fleiss"))
        rows.append({"field": field, "kappa": kappa, "n_items": len(items),
                     "n_annotators": int(sub.loc[sub["item_id"].isin(items), "annotator"].nunique()),
                     "raters_per_item": raters, "n_items_excluded": int(len(multi) - len(items))})
    return pd.DataFrame(rows, columns=["field", "kappa", "n_items", "n_annotators", "raters_per_item",
                                       "n_items_excluded"])


def majority_labels(annotations: pd.DataFrame, taxonomy: Taxonomy | None = None) -> dict[str, dict[str, str]]:
    """Each item's majority label per field: ``{item_id: {field: value}}``.

    A tie goes to the value that comes first in the taxonomy, so the outcome does not depend on row order.
    """
    tax = taxonomy or load_taxonomy()
    out: dict[str, dict[str, str]] = {}
    counts = annotations.groupby(["item_id", "field", "value"]).size()
    for (item_id, field), votes in counts.groupby(level=[0, 1]):
        order = field_values(field, tax)
        tally: Mapping[str, int] = {value: int(n) for (_, _, value), n in votes.items()}
        out.setdefault(item_id, {})[field] = max(tally, key=lambda v: (tally[v], -order.index(v)))
    return out

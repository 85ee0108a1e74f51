"""Tables the data-stage notebooks show: records as a DataFrame, category shares beside the paper's, examples.

The paper's shares (section 3.1) come from the taxonomy file, labelled as reported by the paper; the
observed shares are counted here from the records a stage actually wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from inkgen.data.records import Record
from inkgen.data.taxonomy import load_taxonomy

_TRUTH_COLUMNS = ("painting_type", "primary", "secondary", "period", "format")


def records_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One row per record; the truth fields (when present) become columns, lists joined by ', '."""
    rows = []
    for r in records:
        truth = r.truth or {}
        row = {"item_id": r.item_id, "source": r.source, "file": r.file, "width": r.width,
               "height": r.height, "license": r.license, "title": r.title, "period": r.period}
        for key in _TRUTH_COLUMNS:
            row[key] = truth.get(key, row.get(key))
        row["elements"] = ", ".join(truth.get("elements", []))
        row["techniques"] = ", ".join(truth.get("techniques", []))
        rows.append(row)
    return pd.DataFrame(rows)


def category_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Observed share of each primary and landscape sub-category beside the share the paper reports."""
    tax = load_taxonomy()
    n = len(frame)
    rows = []
    for key, primary in tax.primary.items():
        count = int((frame["primary"] == key).sum()) if n else 0
        rows.append({"level": "primary", "category": primary.label, "count": count,
                     "observed share": count / n if n else float("nan"),
                     "reported by the paper": primary.share})
    landscapes = frame[frame["primary"] == "landscape"] if n else frame
    for key, sub in tax.primary["landscape"].secondary.items():
        count = int((landscapes["secondary"] == key).sum()) if len(landscapes) else 0
        rows.append({"level": "landscape sub-category", "category": sub.label, "count": count,
                     "observed share": count / len(landscapes) if len(landscapes) else float("nan"),
                     "reported by the paper": sub.share})
    for key, period in tax.periods.items():
        count = int((frame["period"] == key).sum()) if n else 0
        rows.append({"level": "period", "category": period.label, "count": count,
                     "observed share": count / n if n else float("nan"),
                     "reported by the paper": period.share})
    return pd.DataFrame(rows)


def pick_examples(frame: pd.DataFrame, by: Sequence[str], per_group: int = 1) -> pd.DataFrame:
    """The first ``per_group`` rows (by item_id) of every combination of ``by``: a deterministic gallery."""
    if frame.empty:
        return frame
    ordered = frame.sort_values([*by, "item_id"])  # grouped rows stay together in the gallery
    return ordered.groupby(list(by), sort=True, dropna=False).head(per_group).reset_index(drop=True)


def example_paths(frame: pd.DataFrame, root: str | Path) -> list[Path]:
    return [Path(root) / f for f in frame["file"]]

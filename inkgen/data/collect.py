"""What the collect stage did not keep, as tables for its notebook (:func:`quarantine_table`,
:func:`not_collected_table`), and the kind of a quarantine reason (:func:`reason_kind`). The stage itself is
:mod:`inkgen.stages.collect`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inkgen.data.raw_store import NOT_COLLECTED_FILE
from inkgen.data.records import read_jsonl

QUARANTINE_COLUMNS = ["item_id", "source", "kind", "reason", "file", "sha256"]
NOT_COLLECTED_COLUMNS = ["item_id", "source", "kind", "reason", "object_url"]


def reason_kind(reason: str) -> str:
    """The short kind of a quarantine reason written ``"<kind>: <detail>"`` (``image_http_404``, ...)."""
    return reason.split(":", 1)[0].strip() or "unknown"


def _entry_table(path: Path, columns: list[str], fields: tuple[str, ...]) -> pd.DataFrame:
    """Rows of a JSON-lines list of items (quarantined or not collected) as a DataFrame.

    ``columns`` come first (``kind`` is derived from the reason), then each row's context, flattened.
    """
    rows = []
    if path.exists():
        for entry in read_jsonl(path):
            row = {"item_id": entry["item_id"], "source": entry["source"],
                   "kind": reason_kind(entry["reason"]), "reason": entry["reason"]}
            row.update({name: entry.get(name) for name in fields})
            row.update({k: v for k, v in sorted((entry.get("context") or {}).items()) if k not in row})
            rows.append(row)
    table = pd.DataFrame(rows)
    for column in columns:
        if column not in table.columns:
            table[column] = pd.Series(dtype=object)
    extra = sorted(c for c in table.columns if c not in columns)
    return table[columns + extra]


def quarantine_table(raw_root: str | Path) -> pd.DataFrame:
    """The quarantine list as a DataFrame: one row per refused item, its reason kind and context."""
    return _entry_table(Path(raw_root) / "quarantine.jsonl", QUARANTINE_COLUMNS, ("file", "sha256"))


def not_collected_table(raw_root: str | Path) -> pd.DataFrame:
    """The items deliberately not collected (``not_collected.jsonl``) as a DataFrame, one row per item.

    Columns: item_id, source, kind (``not_public_domain``, ``over_limit``, ``not_chinese``,
    ``not_a_painting``, ``bad_field``, ``unparseable_date``), reason, object_url, then the row's context
    (e.g. ``relative_path`` for the folder source, the refused fields for a museum item).
    """
    return _entry_table(Path(raw_root) / NOT_COLLECTED_FILE, NOT_COLLECTED_COLUMNS, ("object_url",))

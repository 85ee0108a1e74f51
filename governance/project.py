"""The project's ledgers, found from ``params.yaml`` so that a reviewer in the project root needs no paths.

``governance verify``, ``review list`` and ``report`` without a ledger argument look here. ``governance``
never imports ``inkgen``, so it reads ``params.yaml`` itself, for two values only:

- ``paths.governance`` → ``<it>/ledger.jsonl``: the governance stage's ledger, anchored by the head the
  stage wrote to ``<paths.metrics>/governance_anchor.json``, committed with the results
  (:mod:`governance.anchor`);
- ``governance.ledger``: the long-lived ledger of ``inkgen generate``.

Without a ``params.yaml`` the folder itself is searched (:func:`governance.verify.find_ledger`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from governance.ledger import LedgerError
from governance.verify import LEDGER_NAME, find_ledger

ANCHOR = "governance_anchor.json"


@dataclass(frozen=True)
class ProjectLedger:
    label: str
    path: Path
    anchor: Path | None  # the committed head, when the project keeps one


def project_ledgers(root: str | os.PathLike[str] = ".") -> list[ProjectLedger]:
    """The ledgers of the project at ``root`` that exist, each with its label (and anchor file)."""
    root = Path(root)
    params = root / "params.yaml"
    if not params.is_file():
        return [ProjectLedger("ledger", find_ledger(root), None)]
    try:
        data = yaml.load(params.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        paths, gov = data.get("paths") or {}, data.get("governance") or {}
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise LedgerError(f"{params}: cannot read the ledgers' locations ({exc})") from None
    found = []
    if isinstance(paths.get("governance"), str):
        metrics = root / str(paths.get("metrics", "reports/metrics")) / ANCHOR
        found.append(ProjectLedger("governance stage ledger", root / paths["governance"] / LEDGER_NAME,
                                   metrics if metrics.is_file() else None))
    if isinstance(gov.get("ledger"), str) and gov["ledger"]:
        found.append(ProjectLedger("inkgen generate ledger", root / gov["ledger"], None))
    present = [f for f in found if f.path.is_file()]
    if not present:
        raise LedgerError(f"{root.resolve()}: no ledger yet (looked for "
                          + ", ".join(str(f.path) for f in found) + "); run the study or `inkgen generate` first")
    return present

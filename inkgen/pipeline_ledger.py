"""The study's pipeline in the provenance ledger (paper section 6.2): every stage ``dvc.lock`` records,
with the SHA-256 of its inputs, params and outputs, entered by the governance stage (``stage_name``), except
the stages downstream of it, whose files are not final when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from governance.ledger import Ledger
from governance.provenance import record_stage


def _expand(root: Path, rel: str) -> list[str]:
    """A lock path as the files to hash: a code folder is listed file by file without ``__pycache__``
    (Python rewrites bytecode at will; a verification must not call that a change)."""
    path = root / rel
    if path.is_dir() and any(p.name == "__pycache__" for p in path.rglob("__pycache__")):
        return sorted(p.relative_to(root).as_posix() for p in path.rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return [rel]


def _under(path: str, prefixes: set[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") or p.startswith(path.rstrip("/") + "/")
               for p in prefixes)


def downstream_stages(lock: dict[str, Any], own_outputs: set[str], stage_name: str = "governance") -> set[str]:
    """The stages of ``dvc.lock`` that depend, directly or through others, on this stage's outputs: they
    run after it (or an experiment re-runs them later), so their files are not final when it runs."""
    stages = lock.get("stages") or {}
    produced = set(own_outputs)
    later: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, stage in stages.items():
            if name == stage_name or name in later:
                continue
            if any(_under(d["path"], produced) for d in stage.get("deps") or []):
                later.add(name)
                produced.update(o["path"] for o in stage.get("outs") or [])
                changed = True
    return later


def defined_stages(root: Path) -> set[str]:
    """The stage names ``dvc.yaml`` defines, ``foreach``/``matrix`` members expanded as DVC names them
    (``prior@full-2026``), read by DVC itself so that the interpolation from params is DVC's."""
    from dvc.repo import Repo  # ~1-3 s of imports, paid by the governance stage only

    with Repo(str(root)) as repo:
        return {stage.name for stage in repo.index.stages if getattr(stage, "name", None)}


def record_pipeline(ledger: Ledger, root: Path, lock_file: Path, own_outputs: set[str] | None = None,
                    stage_name: str = "governance", defined: set[str] | None = None) -> pd.DataFrame:
    """Enter every stage ``dvc.lock`` records that runs before this one, with its inputs, params and
    outputs. Stages downstream of ``own_outputs`` (e.g. ``study``) are left out: this ledger must stay
    valid when they re-run. With ``defined`` (:func:`defined_stages`), a lock entry of a stage that
    ``dvc.yaml`` no longer defines is not entered - DVC keeps such entries after a stage is renamed or
    removed - but listed with ``recorded`` False, so a reader sees what was left out and why."""
    columns = ["stage", "recorded", "inputs", "outputs", "missing", "params_sha256"]
    if not lock_file.is_file():
        return pd.DataFrame(columns=columns)
    lock = yaml.load(lock_file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    later = downstream_stages(lock, own_outputs or set(), stage_name)
    rows = []
    for name, stage in (lock.get("stages") or {}).items():
        if name == stage_name or name in later:
            continue
        if defined is not None and name not in defined:
            rows.append({"stage": name, "recorded": False, "inputs": 0, "outputs": 0,
                         "missing": "a stale dvc.lock entry: dvc.yaml defines no such stage", "params_sha256": ""})
            continue
        params = {f"{f}:{k}": v for f, values in (stage.get("params") or {}).items() for k, v in values.items()}
        found: dict[str, list[str]] = {"deps": [], "outs": []}
        missing = []
        for side in found:
            for item in stage.get(side) or []:
                for rel in _expand(root, item["path"]):
                    (found[side] if (root / rel).exists() else missing).append(rel)
        entry = record_stage(ledger, name, [str(root / p) for p in found["deps"]], params,
                             [str(root / p) for p in found["outs"]])
        rows.append({"stage": name, "recorded": True, "inputs": len(found["deps"]), "outputs": len(found["outs"]),
                     "missing": ", ".join(missing), "params_sha256": entry.payload["params_sha256"][:12]})
    return pd.DataFrame(rows, columns=columns)

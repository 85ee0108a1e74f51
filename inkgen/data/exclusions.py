"""The training items kept out of training (paper section 6.2, ownership attribution): stage training_screen
(:mod:`inkgen.stages.training_screen`) writes the list, every training run reads it
(:func:`inkgen.training.runs.load_data`) and refuses one made for another registry or manifest.

Its own small module, not the training package's: the screen stage imports it without importing torch and the
models, so that editing them does not re-run the screen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from inkgen.data.records import sha256_file
from inkgen.layout import Layout

FILE = "training_screen.json"  # under paths.models: dvc.yaml names it too


def exclusions_path(params: Any, root: Path) -> Path:
    """``<paths.models>/training_screen.json``."""
    return Layout(params, root).models / FILE


def write_exclusions(params: Any, root: Path, excluded: list[dict[str, str]], *, registry_sha256: str,
                     manifest_sha256: str) -> Path:
    """Stage training_screen's output: the training items kept out (``item_id``, ``reason``), the registry
    screened against (its params path and SHA-256; "" without one) and the manifest screened. No timing: the
    file's bytes change only when what training reads changes, so DVC re-trains only then."""
    path = exclusions_path(params, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"registry": params.governance.registry, "registry_sha256": registry_sha256,
              "manifest_sha256": manifest_sha256, "excluded": excluded}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_exclusions(params: Any, root: Path) -> pd.DataFrame:
    """Paper section 6.2 (ownership attribution): the training items stage training_screen keeps out, as
    ``item_id``, ``reason``. Without a rights registry (``governance.registry``) nothing is screened and the
    file may be absent; with one it must exist, and it must have screened this registry and this manifest: a
    ValueError otherwise, before any training (run stage training_screen)."""
    columns = ["item_id", "reason"]
    path, registry = exclusions_path(params, root), params.governance.registry
    if not path.is_file():
        if registry:
            raise ValueError(f"governance.registry: {registry!r} is set but {path} is missing; run stage "
                             "training_screen (dvc repro training_screen) before training")
        return pd.DataFrame(columns=columns)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        excluded = pd.DataFrame(record["excluded"], columns=columns)
        screened = (record["registry"], record["registry_sha256"], record["manifest_sha256"])
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not this record
        raise ValueError(f"{path}: not a training screen ({type(exc).__name__}: {exc}); run stage "
                         "training_screen again") from None
    manifest = Layout(params, root).manifest
    stale = [why for why, now, then in (
        (f"it screened governance.registry {screened[0]!r}, params name {registry!r}", registry, screened[0]),
        (f"the registry file {registry} changed since", sha256_file(root / registry) if registry else "", screened[1]),
        (f"the manifest {manifest} changed since", sha256_file(manifest), screened[2])) if now != then]
    if stale:
        raise ValueError(f"{path} is stale: {stale[0]}; run stage training_screen again")
    return excluded

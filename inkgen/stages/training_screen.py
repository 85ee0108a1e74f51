"""Stage training_screen (notebook 04_training_screen): paper section 6.2 (ownership attribution) before any
training. With a rights registry (``governance.registry``), every training item is matched against it
(:func:`governance.copyright.screen_training_items`: pHash candidates, then verification) and the items that
match a work whose status the policy blocks (``copyright.training_block_statuses``) are listed with the reason,
in ``<paths.models>/training_screen.json``; every training run keeps them out
(:func:`inkgen.training.runs.load_data`). Without a registry nothing is screened and the file says so (stage
governance shows the screen on a labelled demonstration registry instead).

A stage of its own so that editing the governance code or policy re-runs this screen only: DVC re-runs the
training stages when the list it writes changes, not when a guardrail rule does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from inkgen.config import Params, project_root
from inkgen.data.dataset import load_split
from inkgen.data.exclusions import write_exclusions
from inkgen.data.records import sha256_file
from inkgen.layout import Layout, write_metrics


def run(params: Params, root: str | Path | None = None) -> dict[str, Any]:
    """Screen the training split; write the exclusion list and ``<paths.metrics>/training_screen.json``."""
    root = Path(root) if root is not None else project_root()
    layout = Layout(params, root)
    start = time.perf_counter()
    g = params.governance
    excluded: list[dict[str, str]] = []
    registry_sha256, screened = "", 0
    if g.registry:  # without one nothing is screened, and no image need be read
        train = load_split(layout.manifest, "train", root)  # checks every image against its manifest SHA-256
        screened = len(train)
        # imported only with a registry: the matcher's imports (OpenCV, numba) cost the notebook seconds otherwise
        from governance.copyright import screen_training_items
        from governance.policy import load_policy
        from governance.registry import load_registry

        policy = load_policy(root / g.policy_file if g.policy_file else None, overrides=g.policy_overrides(),
                             check_sacred_ids=False)  # copyright rules only: the guardrails are not read
        registry = load_registry(root / g.registry, policy.copyright.registry_statuses)
        screen = screen_training_items([(r.item_id, root / r.file) for r in train.rows.itertuples()], registry,
                                       policy.copyright)
        excluded = [{"item_id": v.item_id, "reason": "; ".join(v.reasons)}
                    for v in sorted(screen.flagged, key=lambda v: v.item_id)]
        registry_sha256 = sha256_file(root / g.registry)
    path = write_exclusions(params, root, excluded, registry_sha256=registry_sha256,
                            manifest_sha256=sha256_file(layout.manifest))
    summary = {"path": str(path.relative_to(root)), "registry": g.registry or None,
               "training_items_screened": screened, "excluded": len(excluded),
               "wall_seconds": time.perf_counter() - start}
    write_metrics(layout.stage_metrics("training_screen"), summary)
    return {**summary, "excluded_items": excluded}

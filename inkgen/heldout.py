"""Held-out captions painted and judged: the test-split prompts a trained model paints (a seeded draw
stratified by category) and the curation classifier's (eq. 1) labels of the paintings beside what each
prompt requested. Used by stage prior (each variant and seed) and stage evaluate (recognition in Table 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from inkgen.data.dataset import Split
from inkgen.models.classifier import predict


def held_out_prompts(test: Split, n: int, seed: int) -> pd.DataFrame:
    """``n`` test-split rows, a seeded draw stratified by primary category (round robin over categories)."""
    rng = np.random.default_rng(seed)
    groups = {k: list(rng.permutation(g.index.to_numpy())) for k, g in test.rows.groupby("primary", sort=True)}
    picked: list[int] = []
    while len(picked) < min(n, len(test.rows)):
        for k in sorted(groups):
            if groups[k] and len(picked) < n:
                picked.append(int(groups[k].pop()))
    return test.rows.loc[picked].reset_index()


def judge(classifier, images: torch.Tensor, requested: pd.DataFrame) -> pd.DataFrame:
    """The curation classifier's labels of generated ``images`` beside the ``requested`` primary category
    and painting type (one row per image, same order)."""
    pixels = ((images.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    judged = pd.DataFrame(predict(classifier, list(pixels)))
    out = requested[["item_id", "caption", "primary", "painting_type"]].reset_index(drop=True)
    out = out.rename(columns={"primary": "requested_primary", "painting_type": "requested_type"})
    out["judged_primary"] = judged["primary"]
    out["judged_type"] = judged["painting_type"]
    out["primary_ok"] = out["requested_primary"] == out["judged_primary"]
    out["type_ok"] = out["requested_type"] == out["judged_type"]
    return out

"""Where the study puts what people ask for by name (one place, so that a change of layout is one edit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def default_checkpoint(params: Any, root: str | Path = ".") -> Path:
    """The study's full model, what ``inkgen generate`` paints with unless ``--checkpoint`` says otherwise.

    With a seed matrix (``train.seeds``, a list), the full variant's checkpoint of the first seed
    (``<paths.models>/train/full/seed-<S>/prior-last.pt``); otherwise ``<paths.models>/train/full/prior-last.pt``.
    """
    folder = Path(root) / params.paths.models / "train" / "full"
    seeds = getattr(params.train, "seeds", None)
    if seeds:
        folder = folder / f"seed-{list(seeds)[0]}"
    return folder / "prior-last.pt"

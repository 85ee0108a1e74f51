"""The governance cache folder: derived files a cold process loads instead of recomputing (the compiled
guardrail lexicon, :mod:`governance.lexicon_cache`; reference images' keypoints, :mod:`governance.keypoint_store`).
Every file there is keyed by what it derives from and digest-checked on load, so the folder holds nothing
that must be trusted more than the user's own files."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """Where cache files live, or None when ``GOVERNANCE_CACHE_DIR=off``."""
    env = os.environ.get("GOVERNANCE_CACHE_DIR")
    if env:
        return None if env.lower() in ("off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "governance"

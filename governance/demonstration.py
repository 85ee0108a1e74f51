"""A demonstration rights registry: what the governance stage audits against when no real registry is given.

Paper section 6.2 cross-references training samples against a national copyright database; none is
reachable from an offline study. So that the mechanism is still shown end to end, a few of the corpus's own
test-split images are registered under a fictitious holder and titled as demonstrations; every table and the
report say so (``registry_demonstration``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from governance.phash import hash_file
from governance.registry import RegisteredWork, RegistryError, write_registry

DEMO_HOLDER = "Demonstration Rights Holder (fictitious; not a real registration)"


def demonstration_registry(test_items: Sequence[tuple[str, str | os.PathLike[str]]], out: str | os.PathLike[str],
                           n_protected: int, n_licensed: int, seed: int) -> Path:
    """``n_protected`` + ``n_licensed`` of the test split's images ``(item_id, file)``, drawn with ``seed``,
    registered under :data:`DEMO_HOLDER` as demonstrations, written as a registry CSV at ``out``."""
    out = Path(out)
    items = sorted(test_items, key=lambda item: item[0])
    n = n_protected + n_licensed
    if len(items) < n:
        raise RegistryError(f"governance.demo_protected + demo_licensed = {n}, but the test split has {len(items)} "
                            "items")
    picked = [items[i] for i in np.sort(np.random.default_rng(seed).choice(len(items), size=n, replace=False))]
    works = [RegisteredWork(f"demo-{item_id}", DEMO_HOLDER, "protected" if i < n_protected else "licensed",
                            hash_file(file, ("original",))["original"],
                            title=f"DEMONSTRATION ONLY: corpus test image {item_id}",
                            file=Path(os.path.relpath(file, out.parent)).as_posix())
             for i, (item_id, file) in enumerate(picked)]
    write_registry(out, works)
    return out

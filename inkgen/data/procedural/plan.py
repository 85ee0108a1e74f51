"""Corpus planning: which painting each index of the procedural corpus will be.

Primary categories get exact quotas from the taxonomy shares (largest-remainder rounding, ties broken
by taxonomy order), and so do the secondary categories within each primary. Painting type (uniform over
the three types), period (by its shares) and format are drawn from a PRNG seeded by the collect seed;
a seeded permutation then shuffles the items, and each index gets its own seed from (collect seed,
index), so that an item renders the same whether the corpus is rendered in one process or many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkgen.data.procedural.noise import item_seed, make_rng
from inkgen.data.taxonomy import load_taxonomy

# Aspect ratio (width / height) of each mounting format.
FORMATS: dict[str, float] = {"hanging_scroll": 0.5, "handscroll": 2.5, "album_leaf": 1.0}

# How often each format is used per primary category (heritage reproductions are mostly handscrolls).
_FORMAT_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "landscape": (0.5, 0.25, 0.25),
    "figure": (0.45, 0.2, 0.35),
    "flowers_plants": (0.45, 0.1, 0.45),
    "birds_animals": (0.45, 0.1, 0.45),
    "heritage_reproduction": (0.15, 0.75, 0.1),
}

_PLAN_STREAM = 0x504C414E  # "PLAN": keeps the planning draws apart from any other use of the seed


@dataclass(frozen=True)
class PaintingSpec:
    """Everything needed to render one painting; rendering adds nothing random beyond ``seed``."""

    index: int
    seed: int
    primary: str
    secondary: str
    painting_type: str
    period: str
    format: str


def quotas(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder apportionment of ``n`` items to keys by share (exactly ``n`` in total)."""
    total = sum(shares.values())
    exact = {k: n * s / total for k, s in shares.items()}
    out = {k: int(np.floor(v)) for k, v in exact.items()}
    order = sorted(shares, key=lambda k: (-(exact[k] - out[k]), list(shares).index(k)))
    for k in order[: n - sum(out.values())]:
        out[k] += 1
    return out


def plan_corpus(n: int, seed: int) -> list[PaintingSpec]:
    """The ``n`` paintings of the corpus for ``seed``, in their (shuffled) index order."""
    if n < 0:
        raise ValueError("n must be non-negative")
    tax = load_taxonomy()
    cells: list[tuple[str, str]] = []
    for pkey, count in quotas(n, {k: p.share for k, p in tax.primary.items()}).items():
        sec = quotas(count, {k: s.share for k, s in tax.primary[pkey].secondary.items()})
        for skey, scount in sec.items():
            cells.extend([(pkey, skey)] * scount)
    rng = make_rng(seed, _PLAN_STREAM)
    types = list(tax.painting_types)
    periods = list(tax.periods)
    period_p = np.array([tax.periods[k].share for k in periods])
    period_p /= period_p.sum()
    formats = list(FORMATS)
    drawn = []
    for pkey, skey in cells:
        weights = np.array(_FORMAT_WEIGHTS.get(skey, _FORMAT_WEIGHTS[pkey]))
        drawn.append((pkey, skey, types[int(rng.integers(len(types)))],
                      periods[int(rng.choice(len(periods), p=period_p))],
                      formats[int(rng.choice(len(formats), p=weights / weights.sum()))]))
    order = rng.permutation(len(drawn))
    return [PaintingSpec(index=i, seed=item_seed(seed, i), primary=drawn[j][0], secondary=drawn[j][1],
                         painting_type=drawn[j][2], period=drawn[j][3], format=drawn[j][4])
            for i, j in enumerate(order)]


def canvas_size(fmt: str, long_side: int) -> tuple[int, int]:
    """(width, height) of a format whose long side is ``long_side`` pixels."""
    aspect = FORMATS[fmt]
    if aspect >= 1:
        return long_side, max(int(round(long_side / aspect)), 16)
    return max(int(round(long_side * aspect)), 16), long_side

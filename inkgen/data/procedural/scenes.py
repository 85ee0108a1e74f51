"""Flower-and-bird and animal compositions: the flowers_plants and birds_animals sub-categories.

Kept apart from the motif modules (``flora``, ``fauna``) because these scenes combine both: birds perch
on plum branches and bamboo, cranes stand under pines, carp swim among waterweed. Compositions follow
the usual conventions: a branch enters diagonally from an edge (zhezhi, "broken branch"), the subject
sits off-centre, and much of the ground is left empty.
"""

from __future__ import annotations

import numpy as np

from inkgen.data.procedural import fauna, flora, landscape
from inkgen.data.procedural.brush import Painter

_BIRDS = {0: "", 1: " with a bird", 2: " with two birds"}


def _perch(p: Painter, perches: list[np.ndarray], count: int, size: float) -> int:
    """Seat ``count`` birds on distinct perch points (facing alternately); returns how many sat."""
    chosen = p.rng.choice(len(perches), size=min(count, len(perches)), replace=False)
    for k, i in enumerate(sorted(chosen)):
        fauna.bird(p, perches[i][0], perches[i][1], size, facing=1 if k % 2 == 0 else -1)
    return len(chosen)


def _diagonal(p: Painter) -> tuple[np.ndarray, float]:
    """A branch's entry point on the left or right edge and its heading into the picture."""
    left = p.rng.random() < 0.5
    start = np.array([0.0 if left else p.W, p.H * p.rng.uniform(0.55, 0.9)])
    # head for the far upper third of the picture, so the branch crosses it instead of leaving it
    target = np.array([p.W * (0.75 if left else 0.25), p.H * p.rng.uniform(0.2, 0.4)])
    d = target - start
    return start, float(np.arctan2(d[1], d[0]))


# ------------------------------------------------------------------------------------------- flowers_plants
def branch_ornament(p: Painter) -> str:
    """A flowering plum branch entering from an edge, often with one or two perched birds."""
    rng = p.rng
    start, angle = _diagonal(p)
    role = "petal_pink" if rng.random() < 0.6 else "petal_white"
    perches = flora.plum_branch(p, start, angle, min(p.W, p.H) * 0.3 + max(p.W, p.H) * 0.35, role)
    n = _perch(p, perches, int(rng.choice([0, 1, 2], p=[0.2, 0.45, 0.35])), min(p.W, p.H) * 0.2)
    colour = "" if p.kind == "baimiao" else ("red " if role == "petal_pink" else "white ")
    return f"{colour}plum branch{_BIRDS[n]}"


def vegetables_fruits(p: Painter) -> str:
    """A still life of garden produce: cabbage and radish, persimmons, or cabbage with persimmons."""
    rng = p.rng
    choice = int(rng.integers(3))
    s = min(p.W, p.H)
    ground = p.H * 0.75
    if choice in (0, 2):
        flora.cabbage(p, p.W * 0.2, ground, min(p.W * 0.7, s * 0.9), angle=-0.35)
    if choice == 0:
        flora.radish(p, p.W * 0.55, ground - s * 0.05, s * 0.45, angle=0.5)
        return "cabbage and radish"
    n = int(rng.integers(3, 6)) if choice == 1 else 2
    r = s * (0.12 if choice == 1 else 0.1)
    for k in range(n):
        cx = p.W * (0.6 if choice == 2 else 0.5) + (k - (n - 1) / 2) * r * 1.7
        flora.persimmon(p, cx, ground + r * 0.15 * (k % 2), r)
    return f"{n} persimmons" if choice == 1 else "cabbage and persimmons"


def seasonal_flowers(p: Painter) -> str:
    """A flower of one season: lotus (summer), peony (spring), chrysanthemum (autumn) or bamboo."""
    rng = p.rng
    choice = str(rng.choice(["lotus", "peony", "chrysanthemum", "bamboo"]))
    s = min(p.W, p.H)
    if choice == "lotus":
        water_y = p.H * 0.85
        landscape.water(p, water_y, p.H)
        flora.lotus(p, p.W * 0.45, water_y, p.H * 0.7)
        if p.W > p.H * 1.3:
            flora.lotus(p, p.W * 0.75, water_y, p.H * 0.55)
        return "lotus in a summer pond"
    if choice == "bamboo":
        for k in range(int(rng.integers(2, 4))):
            flora.bamboo(p, p.W * rng.uniform(0.25, 0.75), p.H, p.H * rng.uniform(0.7, 0.95), rng.normal(0, 0.08))
        return "bamboo in the wind"
    landscape.rock(p, p.W * rng.uniform(0.3, 0.7), p.H, p.W * 0.6, p.H * 0.25)
    if choice == "peony":
        start, angle = _diagonal(p)
        perches = flora.plum_branch(p, start, angle, np.hypot(p.W, p.H) * 0.45, "petal_white")
        flora.peony(p, p.W * 0.5, p.H * 0.55, s * 0.2, "petal" if rng.random() < 0.5 else "petal_pink")
        _perch(p, perches, 1, s * 0.18)
        return "peony beside a rock with a bird on a blossoming branch"
    for k in range(int(rng.integers(2, 4))):
        flora.chrysanthemum(p, p.W * rng.uniform(0.25, 0.75), p.H * rng.uniform(0.4, 0.7), s * 0.13)
    return "chrysanthemums by a rock"


# ------------------------------------------------------------------------------------------- birds_animals
def auspicious_beasts(p: Painter) -> str:
    """Cranes under a pine, or a deer by a pine (emblems of longevity and fortune)."""
    rng = p.rng
    side = 1 if rng.random() < 0.5 else -1
    ground = p.H * 0.9
    landscape.pine(p, p.W * (0.5 + side * 0.28), ground, p.H * 0.75)
    landscape.rock(p, p.W * (0.5 + side * 0.3), ground + p.H * 0.05, p.W * 0.35, p.H * 0.1)
    h = min(p.H * 0.5, p.W * 0.8)
    if rng.random() < 0.5:
        fauna.crane(p, p.W * (0.5 - side * 0.12), ground, h, facing=side)
        if rng.random() < 0.5:
            fauna.crane(p, p.W * (0.5 - side * 0.3), p.H * 0.2, h * 0.6, facing=side, flying=True)
            return "two cranes beneath a pine"
        return "crane beneath a pine"
    fauna.deer(p, p.W * (0.5 - side * 0.1), ground, min(p.W * 0.45, p.H * 0.45), facing=side)
    return "sika deer beneath a pine"


def insects_fish(p: Painter) -> str:
    """Carp among waterweed, or a dragonfly hovering over a lotus leaf and grasses."""
    rng = p.rng
    s = min(p.W, p.H)
    if rng.random() < 0.6:
        for k in range(4):
            flora.waterweed(p, p.W * (k + 0.5) / 4 + rng.normal(0, p.u * 2), p.H, p.H * rng.uniform(0.4, 0.8))
        n = int(rng.integers(1, 4))
        for k in range(n):
            fauna.carp(p, p.W * rng.uniform(0.3, 0.7), p.H * (k + 0.6) / (n + 0.5), s * 0.45,
                       rng.choice([0.0, np.pi]) + rng.normal(0, 0.3))
        return f"{n} carp among waterweed"
    flora.lotus(p, p.W * 0.5, p.H, p.H * 0.6)
    fauna.dragonfly(p, p.W * rng.uniform(0.3, 0.7), p.H * 0.22, s * 0.35, rng.normal(0, 0.4))
    return "dragonfly over a lotus"


def literati_symbols(p: Painter) -> str:
    """The scholar's emblems: bamboo and rock, crane and pine, or a bird on a bamboo stalk."""
    rng = p.rng
    choice = int(rng.integers(3))
    if choice == 0:
        landscape.rock(p, p.W * 0.35, p.H, p.W * 0.55, p.H * 0.35)
        for k in range(2):
            flora.bamboo(p, p.W * (0.55 + 0.15 * k), p.H, p.H * 0.85, rng.normal(0, 0.06))
        return "bamboo and rock"
    if choice == 1:
        landscape.pine(p, p.W * 0.3, p.H * 0.95, p.H * 0.8)
        fauna.crane(p, p.W * 0.62, p.H * 0.93, min(p.H * 0.5, p.W * 0.8), facing=-1)
        return "crane and pine"
    perches = flora.bamboo(p, p.W * 0.45, p.H, p.H * 0.95, rng.normal(0, 0.05))
    _perch(p, perches, 1, min(p.W, p.H) * 0.22)
    return "bird on a bamboo stalk"

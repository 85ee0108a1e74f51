"""Figure painting: robed figures, auspicious clouds, and the three figure compositions.

A figure is a head (skin, topknot), a robe widening to the hem with hanging sleeves, and the robe's
fold lines: in gongbi and baimiao the folds are the drawing (long even lines, as in figure painting's
"iron-wire" and "floating silk" line types); in xieyi the robe is a few broad wet strokes over a wash.
Scenes reuse the landscape motifs (pines, rocks, boats) and the crane of ``fauna``.
"""

from __future__ import annotations

import numpy as np

from inkgen.data.procedural import fauna, landscape
from inkgen.data.procedural.brush import Painter, bent, ellipse

ROBES = ("robe_a", "robe_b", "robe_c", "robe_d")


def figure(p: Painter, x: float, y: float, h: float, robe: str, facing: int = 1,
           seated: bool = False, ribbons: bool = False) -> None:
    """A standing (or seated) robed figure whose feet rest at (x, y), ``h`` tall."""
    rng = p.rng
    if seated:
        h *= 0.7
    r = h * 0.075
    head = np.array([x + facing * r * 0.3, y - h + r])
    sh_y = y - h + 2.3 * r
    hem_w = h * (0.5 if seated else 0.36)
    shoulder = h * 0.11
    robe_pts = np.vstack([
        bent([x - shoulder, sh_y], [x - hem_w / 2, y], -0.06 * facing, 8),
        [[x - hem_w / 2, y], [x + hem_w / 2, y]],
        bent([x + hem_w / 2, y], [x + shoulder, sh_y], -0.06 * facing, 8),
    ])
    p.shape(robe_pts, robe)
    # sleeves: long hanging cuffs, the figure-painting signature
    for side in (-1, 1):
        top = np.array([x + side * shoulder, sh_y + r * 0.2])
        cuff = np.array([x + side * shoulder * 1.9, sh_y + h * 0.32])
        sleeve = np.vstack([bent(top, cuff, 0.15 * side, 8), bent(cuff - [side * shoulder * 1.1, 0], top, 0.1, 8)])
        p.shape(sleeve, robe, line_scale=0.9)
    # robe folds: long gently curved lines down the body
    for k in range(4 if p.kind != "xieyi" else 2):
        fx = x + (k - 1.5) * hem_w * 0.18
        p.line(bent([fx * 0.5 + x * 0.5, sh_y + h * 0.25], [fx, y - h * 0.02], rng.normal(0, 0.06), 8),
               scale=0.8, share=1.0)
    p.line(np.array([[x - shoulder * 0.9, sh_y + h * 0.2], [x + shoulder * 0.9, sh_y + h * 0.2]]), scale=0.8,
           share=1.0)  # sash
    p.shape(ellipse(head[0], head[1], r, r * 1.15, 0, 18), "skin", line_scale=0.8)
    p.shape(ellipse(head[0] - facing * r * 0.3, head[1] - r * 1.1, r * 0.45, r * 0.4, 0, 12), "hair")
    p.polygon(ellipse(head[0] + facing * r * 0.45, head[1] - r * 0.1, r * 0.13, r * 0.13, 0, 6), p.style.ink, 0.9)
    if ribbons:  # an immortal's floating scarves, streaming behind
        for side in (-1, 1):
            a = np.array([x + side * shoulder, sh_y])
            pts = a + np.cumsum(np.column_stack([-facing * np.full(8, h * 0.07),
                                                 np.sin(np.arange(8) * 0.9 + side) * h * 0.05]), axis=0)
            p.line(np.vstack([a, pts]), scale=1.2, share=1.0)
    p.mark("figure")


def cloud(p: Painter, x: float, y: float, s: float) -> None:
    """An auspicious cloud (xiangyun): overlapping lobes with curling spiral tips."""
    rng = p.rng
    lobes = [(x + dx * s, y + dy * s, rr * s) for dx, dy, rr in
             ((-0.35, 0.05, 0.22), (0.0, -0.05, 0.28), (0.35, 0.04, 0.22), (0.15, 0.12, 0.2), (-0.15, 0.12, 0.2))]
    for cx, cy, rr in lobes:
        p.shape(ellipse(cx, cy, rr, rr * 0.7, 0, 20), "cloud", line_scale=0.9)
    for cx, cy, rr in lobes[:3]:  # spiral curl inside each upper lobe
        t = np.linspace(0, 3.5 * np.pi, 30)
        rad = rr * 0.55 * (1 - t / (4 * np.pi))
        p.line(np.column_stack([cx + rad * np.cos(t), cy + rad * 0.7 * np.sin(t)]), scale=0.7, share=1.0)
    tail = bent([x + 0.5 * s, y + 0.15 * s], [x + (0.9 + rng.uniform(0, 0.3)) * s, y + 0.3 * s], 0.2, 10)
    p.line(tail, scale=1.0, share=1.0)
    p.mark("cloud")


# ------------------------------------------------------------------------------------------- compositions
def historical_allusion(p: Painter) -> str:
    """A scholar with an attendant (or two scholars meeting) beneath a pine by a rock."""
    rng = p.rng
    ground = p.H * 0.86
    side = 1 if rng.random() < 0.5 else -1
    landscape.rock(p, p.W * (0.5 + side * 0.3), ground + p.H * 0.04, p.W * 0.5, p.H * 0.12)
    landscape.pine(p, p.W * (0.5 + side * 0.3), ground, p.H * 0.6)
    h = min(p.H * 0.42, p.W * 0.7)
    robes = rng.permutation(ROBES)
    if rng.random() < 0.5:
        figure(p, p.W * (0.5 - side * 0.08), ground, h, robes[0], facing=side)
        figure(p, p.W * (0.5 - side * 0.3), ground, h * 0.65, robes[1], facing=side)
        subject = "scholar and attendant beneath a pine"
    else:
        figure(p, p.W * (0.5 - side * 0.22), ground, h, robes[0], facing=side)
        figure(p, p.W * (0.5 + side * 0.02), ground, h * 0.95, robes[1], facing=-side)
        subject = "two scholars meeting beneath a pine"
    p.line(np.array([[0, ground], [p.W, ground]]) + rng.normal(0, p.u * 0.3, (2, 2)), scale=0.8, alpha=0.6,
           share=1.0)
    return subject


def myth_legend(p: Painter) -> str:
    """An immortal with floating scarves riding the clouds, with the moon or a crane in the sky."""
    rng = p.rng
    h = min(p.H * 0.5, p.W * 0.8)
    x, y = p.W * rng.uniform(0.4, 0.6), p.H * 0.72
    if rng.random() < 0.5:
        landscape.moon(p, p.W * rng.uniform(0.2, 0.8), p.H * 0.14, min(p.W, p.H) * 0.09)
        extra = "under the moon"
    else:
        fauna.crane(p, p.W * rng.uniform(0.15, 0.3), p.H * 0.45, min(p.H * 0.3, p.W * 0.5), flying=True)
        extra = "with a crane"
    figure(p, x, y, h, str(rng.choice(ROBES)), facing=1 if rng.random() < 0.5 else -1, ribbons=True)
    cloud(p, x, y + h * 0.05, h * 0.6)
    cloud(p, p.W * rng.uniform(0.1, 0.9), p.H * 0.9, h * 0.4)
    return f"immortal riding the clouds {extra}"


def folk_custom(p: Painter) -> str:
    """Villagers gathered under a willow, or fishermen's boats on a river."""
    rng = p.rng
    if rng.random() < 0.5:
        ground = p.H * 0.85
        landscape.tree(p, p.W * rng.uniform(0.15, 0.85), ground, p.H * 0.55, "dots")
        n = int(rng.integers(3, 6))
        h = min(p.H * 0.35, p.W * 1.4 / n)
        for k in range(n):
            figure(p, p.W * (k + 0.5) / n + rng.normal(0, p.u), ground + rng.uniform(-0.03, 0.03) * p.H,
                   h * rng.uniform(0.7, 1.0), ROBES[k % 4], facing=1 if k < n / 2 else -1,
                   seated=rng.random() < 0.3)
        p.line(np.array([[0, ground + p.H * 0.03], [p.W, ground + p.H * 0.03]]), scale=0.8, alpha=0.6, share=1.0)
        return f"{n} villagers gathered under a tree"
    landscape.distant_range(p, p.H * 0.45, p.H * 0.12)
    landscape.water(p, p.H * 0.45, p.H)
    for k in range(2):
        landscape.boat(p, p.W * (0.3 + 0.4 * k), p.H * (0.65 + 0.2 * k), min(p.W * 0.45, p.H * 0.5))
    figure(p, p.W * 0.15, p.H * 0.48, p.H * 0.25, "robe_d")
    return "fishermen's boats on the river"

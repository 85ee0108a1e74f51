"""Plant motifs: plum branch, bamboo, lotus, peony, chrysanthemum, cabbage, radish, persimmon, waterweed.

Branches are angular polylines thinning to the tip (plum wood grows in zig-zags), drawn by
``Painter.limb``: dry flying-white ink in xieyi, an outlined filled body in gongbi and baimiao. Petals
and leaves are closed shapes, so the painting type decides between boneless wash, outline-and-colour and
pure outline. Functions return the points where a bird may perch, where that makes sense.
"""

from __future__ import annotations

import numpy as np

from inkgen.data.procedural.brush import Painter, bent, ellipse, leaf


def _angular(p: Painter, start, angle: float, length: float, segments: int) -> np.ndarray:
    """A zig-zag limb: segments bend alternately off the heading, as plum wood grows, but keep course."""
    pts = [np.asarray(start, dtype=np.float64)]
    for k in range(segments):
        a = angle + (0.3 if k % 2 else -0.3) + p.rng.normal(0, 0.15)
        pts.append(pts[-1] + length / segments * np.array([np.cos(a), np.sin(a)]))
    return np.array(pts)


def blossom(p: Painter, x: float, y: float, r: float, role: str = "petal_pink") -> None:
    """A five-petal plum blossom with stamens."""
    rng = p.rng
    rot = rng.uniform(0, 2 * np.pi)
    for k in range(5):
        a = rot + k * 2 * np.pi / 5
        p.shape(ellipse(x + np.cos(a) * r * 0.55, y + np.sin(a) * r * 0.55, r * 0.5, r * 0.45, a, 12), role,
                outline=p.kind != "xieyi" or role == "petal_white", line_scale=0.6)
    for k in range(6):
        a = rot + k * np.pi / 3
        tip = np.array([x + np.cos(a) * r * 0.6, y + np.sin(a) * r * 0.6])
        p.stroke(np.array([[x, y], tip]), 1.0, p.style.ink, 0.7, noise=0.2)
        p.polygon(ellipse(tip[0], tip[1], r * 0.1, r * 0.1, 0, 6), p.style.ink, 0.8)
    p.mark("flower")


def plum_branch(p: Painter, start, angle: float, length: float, role: str = "petal_pink") -> list[np.ndarray]:
    """A plum branch with twigs, blossoms and buds; returns perch points along the main limb."""
    rng = p.rng
    main = _angular(p, start, angle, length, 6)
    p.limb(main, max(length * 0.05, 2.0))
    twigs = []
    for i in range(1, len(main) - 1):
        side = 1 if i % 2 else -1
        twig = _angular(p, main[i], angle + side * rng.uniform(0.5, 1.0), length * rng.uniform(0.2, 0.4), 3)
        p.limb(twig, max(length * 0.018, 1.2))
        twigs.append(twig)
    r = max(length * 0.045, p.u * 1.5)
    for twig in twigs + [main]:
        for q in twig[1:]:
            if rng.random() < 0.75:
                blossom(p, q[0] + rng.normal(0, r * 0.5), q[1] + rng.normal(0, r * 0.5), r, role)
            else:  # a bud: a dark dot with a calyx
                p.polygon(ellipse(q[0], q[1], r * 0.3, r * 0.3, 0, 8), p.style.ink, 0.9)
    p.mark("plum_branch")
    return [main[i] for i in (2, 3, 4)]


def bamboo(p: Painter, x: float, y: float, h: float, lean: float = 0.0) -> list[np.ndarray]:
    """A bamboo stalk of nodes and segments with clusters of knife-shaped leaves; returns perch points."""
    rng = p.rng
    n_seg = 5
    top = np.array([x + lean * h, y - h])
    nodes = [np.array([x, y]) + (top - [x, y]) * k / n_seg for k in range(n_seg + 1)]
    w = max(h * 0.035, 2.0)
    for a, b in zip(nodes[:-1], nodes[1:]):
        gap = (b - a) * 0.04
        p.limb(np.array([a + gap, b - gap]), w, "leaf_light")
        p.line(np.array([b - [w * 0.7, 0], b + [w * 0.7, 0]]), scale=1.0, share=1.0)  # node ring
    for node in nodes[2:]:
        side = 1 if rng.random() < 0.5 else -1
        twig_end = node + [side * h * 0.12, -h * 0.05]
        p.stroke(np.array([node, twig_end]), max(w * 0.3, 1.0), p.style.ink, 0.85, noise=0.3)
        for k in range(int(rng.integers(2, 5))):
            ang = np.pi / 2 + side * rng.uniform(0.3, 1.3) + (0.8 if k % 2 else 0)
            tip = twig_end + h * rng.uniform(0.12, 0.2) * np.array([np.cos(ang), np.sin(ang)])
            if p.kind == "xieyi":  # one pressed-and-lifted stroke per leaf
                p.stroke(np.array([twig_end, tip]), h * 0.045, p.style.ink, 0.9, taper="head", noise=0.3)
                p.use("coarse_brush", "thick_ink")
            else:
                p.shape(leaf(twig_end, tip, h * 0.045, 10), "leaf", line_scale=0.7)
                p.line(np.array([twig_end, twig_end + (tip - twig_end) * 0.8]), scale=0.5, share=1.0)
    p.mark("bamboo")
    return nodes[2:5]


def lotus(p: Painter, x: float, y: float, h: float) -> None:
    """A lotus standing from water at y: a broad veined leaf and a cupped pink flower on long stems."""
    rng = p.rng
    side = 1 if rng.random() < 0.5 else -1
    leaf_c = np.array([x + side * h * 0.25, y - h * 0.45])
    flower_c = np.array([x - side * h * 0.1, y - h * 0.85])
    for tip in (leaf_c, flower_c):
        p.limb(bent([x, y], tip, 0.05, 10), max(h * 0.02, 1.5), "leaf_light")
    rx, ry = h * 0.32, h * 0.12
    p.shape(ellipse(leaf_c[0], leaf_c[1], rx, ry, rng.normal(0, 0.1), 30), "leaf")
    for a in np.linspace(0, 2 * np.pi, 9, endpoint=False):  # radial veins
        p.line(np.array([leaf_c, leaf_c + [np.cos(a) * rx * 0.8, np.sin(a) * ry * 0.8]]), scale=0.5, share=1.0)
    for a in np.linspace(-0.9, 0.9, 5):  # petals fanned into a cup, the outer ones first
        base = flower_c + [a * h * 0.03, h * 0.05]
        tip = flower_c + [np.sin(a) * h * 0.22, -np.cos(a) * h * 0.2]
        p.shape(leaf(base, tip, h * 0.13, 12), "petal_pink", outline=p.kind != "xieyi", line_scale=0.7)
    if p.kind == "xieyi":
        p.line(ellipse(flower_c[0], flower_c[1] - h * 0.08, h * 0.12, h * 0.12, 0, 20), scale=0.6, closed=True)
    p.mark("lotus")


def peony(p: Painter, x: float, y: float, r: float, role: str = "petal") -> None:
    """A peony head: rings of ruffled petals, large outside, small and dense inside, with leaves."""
    rng = p.rng
    for k in range(3):  # three-lobed leaves below the flower
        a = np.pi / 2 + (k - 1) * 0.9
        p.shape(leaf([x, y + r * 0.3], [x + np.cos(a) * r * 2.0, y + np.sin(a) * r * 1.5], r * 0.6, 12), "leaf")
    for ring, (rad, n) in enumerate(((0.75, 7), (0.5, 6), (0.28, 5))):
        rot = rng.uniform(0, np.pi)
        for k in range(n):
            a = rot + k * 2 * np.pi / n
            t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
            ruffle = 1 + 0.12 * np.sin(t * 5)
            cx, cy = x + np.cos(a) * r * rad * 0.6, y + np.sin(a) * r * rad * 0.5
            pts = np.column_stack([cx + np.cos(t) * r * rad * 0.6 * ruffle, cy + np.sin(t) * r * rad * 0.5 * ruffle])
            p.shape(pts, role, outline=p.kind != "xieyi", line_scale=0.6, alpha=0.7 + 0.15 * ring)
    p.dots(np.array([[x, y]]) + rng.normal(0, r * 0.08, (5, 2)), r * 0.05, (214, 170, 50), 0.9)
    p.mark("flower")


def chrysanthemum(p: Painter, x: float, y: float, r: float) -> None:
    """A chrysanthemum head of many thin curved petals around a dense centre."""
    rng = p.rng
    for a in rng.uniform(0, 2 * np.pi, 4):
        p.shape(leaf([x, y], [x + np.cos(a) * r * 1.8, y + abs(np.sin(a)) * r * 1.6], r * 0.5, 10), "leaf")
    for ring in (1.0, 0.7):
        for a in np.linspace(0, 2 * np.pi, 16, endpoint=False) + ring:
            tip = np.array([x + np.cos(a) * r * ring, y + np.sin(a) * r * ring * 0.8])
            p.shape(leaf([x, y], tip, r * 0.14, 8), "petal_yellow", outline=p.kind != "xieyi", line_scale=0.5)
    p.shape(ellipse(x, y, r * 0.18, r * 0.15, 0, 12), "stamen", line_scale=0.6)
    p.mark("flower")


def cabbage(p: Painter, x: float, y: float, s: float, angle: float = -0.3) -> None:
    """A Chinese cabbage lying on its side: pale ribbed stalks and a dark leafy top."""
    d = np.array([np.cos(angle), np.sin(angle)])
    nrm = np.array([-d[1], d[0]])
    base = np.array([x, y])
    for k in (-1, 0, 1):
        p.shape(leaf(base + nrm * k * s * 0.05, base + d * s * 0.7 + nrm * k * s * 0.12, s * 0.2, 12), "cabbage")
    for k in (-1, 0, 1):
        c = base + d * s * 0.75 + nrm * k * s * 0.15
        blade = ellipse(c[0], c[1], s * 0.3, s * 0.2, angle + k * 0.4, 40)
        ruffle = 1.0 + 0.06 * np.sin(np.linspace(0, 2 * np.pi * 9, 40, endpoint=False))  # crinkled edge
        p.shape(c + (blade - c) * ruffle[:, None], "leaf")
        p.line(np.array([c - d * s * 0.2, c + d * s * 0.2]), scale=0.6, share=1.0)  # midrib
    p.mark("vegetable")


def radish(p: Painter, x: float, y: float, s: float, angle: float = 0.4) -> None:
    """A radish: a long tapering root, red at the shoulder, with a tuft of leaves."""
    d = np.array([np.cos(angle), np.sin(angle)])
    top = np.array([x, y])
    for a in (-0.5, 0.0, 0.5):
        ang = angle + np.pi + a
        p.shape(leaf(top, top + s * 0.45 * np.array([np.cos(ang), np.sin(ang)]), s * 0.14, 10), "leaf")
    p.shape(leaf(top, top + d * s, s * 0.28, 16), "radish")
    p.shape(leaf(top, top + d * s * 0.3, s * 0.26, 10), "radish_red", line_scale=0.6)
    for t in (0.45, 0.6, 0.75):  # fine root hair rings
        q = top + d * s * t
        p.line(np.array([q - np.array([-d[1], d[0]]) * s * 0.06, q + np.array([-d[1], d[0]]) * s * 0.04]),
               scale=0.5, share=1.0)
    p.mark("vegetable")


def persimmon(p: Painter, x: float, y: float, r: float) -> None:
    """A persimmon: a flattened orange sphere with a dark four-lobed calyx and stem."""
    p.shape(ellipse(x, y, r, r * 0.85, 0, 28), "fruit")
    for k in range(4):
        a = k * np.pi / 2 + 0.4
        p.shape(leaf([x, y - r * 0.75], [x + np.cos(a) * r * 0.45, y - r * 0.75 + np.sin(a) * r * 0.25], r * 0.2, 8),
                "leaf", line_scale=0.6)
    p.stroke(np.array([[x, y - r * 0.75], [x + r * 0.05, y - r * 0.95]]), max(r * 0.08, 1.0), p.style.ink, 0.9)
    p.mark("fruit")


def waterweed(p: Painter, x: float, y: float, h: float) -> None:
    """Swaying waterweed: a wavy stem with short leaf flicks, rising from y."""
    rng = p.rng
    t = np.linspace(0, 1, 14)
    phase = rng.uniform(0, 6)
    stem = np.column_stack([x + np.sin(t * 5 + phase) * h * 0.06, y - t * h])
    p.stroke(stem, max(p.style.line_width * p.u, 1.0), p.style.ink, 0.7, noise=0.4)
    for i in range(2, 13, 2):
        side = 1 if i % 4 else -1
        tip = stem[i] + [side * h * 0.08, -h * 0.05]
        p.shape(leaf(stem[i], tip, h * 0.03, 6), "leaf_light", line_scale=0.5)
    p.mark("waterweed")

"""Landscape (shanshui) motifs and the three landscape compositions.

Mountains follow shan-shui-inf's ``mountain()``: a few nested contours, each a cosine envelope times
Perlin noise shrinking towards the base; the outer contour is filled white first so a nearer mountain
hides a farther one, then filled (wash / mineral colour / nothing) and outlined, and ``texture()`` lays
low-alpha texture strokes (cun) that run from one contour down towards the next. Trees, pines, rocks,
pavilions, bridges, boats, water, waterfalls, mist, moon and snow complete the scene; the composers place
them far to near, like shan-shui-inf's planner, and return a short subject phrase for the title.
"""

from __future__ import annotations

import numpy as np

from inkgen.data.procedural.brush import WHITE, Painter, bent, ellipse
from inkgen.data.procedural.style import INK


# ------------------------------------------------------------------------------------------- mountains
def mountain(p: Painter, cx: float, base: float, width: float, height: float, *, near: float = 1.0,
             snow: bool = False, texture: int = 40) -> np.ndarray:
    """One mountain of nested noisy cosine contours; ``near`` (0..1) darkens nearer ranges."""
    rng = p.rng
    n, layers = 36, 4
    x = np.linspace(-1.0, 1.0, n)
    env = np.cos(x * np.pi / 2) ** 1.3
    off = rng.uniform(0, 100)
    contours = []
    for j in range(layers):
        shrink = 1.0 - j / layers
        ns = p.noise.fbm(off + j * 3.1 + x * 2.2, octaves=3)
        y = base - height * shrink * env * (0.45 + 0.75 * ns)
        contours.append(np.column_stack([cx + x * width / 2 * (1 - 0.12 * j), y]))
    outer = contours[0]
    poly = np.vstack([outer, [[cx + width / 2, base + 1], [cx - width / 2, base + 1]]])
    p.occlude(poly)
    if p.kind == "gongbi":
        p.fill(poly, "mountain_foot")
        top = np.vstack([outer, contours[1][::-1]])
        p.fill(top, "mountain" if not snow else "cloud")
    elif p.kind == "xieyi":
        p.fill(poly, "mountain", alpha=(0.35 + 0.6 * near) * (0.4 if snow else 1.0), uneven=0.55)
        if near > 0.5 and not snow:  # a second, darker wash into the first: broken ink (pomo)
            inner = np.vstack([contours[1], contours[2][::-1]])
            p.wash(inner, INK, 0.35, p.style.wash_blur * p.u * 1.5, uneven=0.6)
            p.use("broken_ink", "splashed_ink")
    _texture(p, contours, texture)
    p.line(outer, scale=1.2 if near > 0.5 else 0.8, share=1.0 if p.kind != "xieyi" else 0.6)
    if p.kind == "xieyi" and near > 0.3:  # moss dots along the ridge
        idx = rng.choice(np.arange(3, n - 3), size=6, replace=False)
        p.dots(outer[np.sort(idx)] + [0, p.u], p.u * 0.9, INK, 0.85)
    p.mark("mountain")
    return outer


def _texture(p: Painter, contours: list[np.ndarray], count: int) -> None:
    """shan-shui-inf's texture(): short low-alpha strokes from one contour down towards the next."""
    rng = p.rng
    if count <= 0:
        return
    n = len(contours[0])
    width = {"xieyi": 1.3, "gongbi": 0.35, "baimiao": 0.45}[p.kind] * p.u
    for _ in range(count):
        j = int(rng.integers(0, len(contours) - 1))
        i = int(rng.integers(2, n - 2))
        a = contours[j][i]
        b = contours[j + 1][min(max(i + int(rng.integers(-1, 2)), 0), n - 1)]
        frac = rng.uniform(0.4, 0.9)
        end = a + (b - a) * frac
        mid = (a + end) / 2 + rng.normal(0, p.u * 0.6, 2)
        p.stroke(np.array([a, mid, end]), max(width, 1.0), p.style.ink,
                 p.style.texture_alpha * rng.uniform(0.5, 1.0), noise=0.5)
    p.use("texture_strokes")


def distant_range(p: Painter, base: float, height: float) -> None:
    """Far hills: one flat noisy profile in pale wash, azurite, or a single thin line."""
    x = np.linspace(0, p.W, 40)
    y = base - height * (0.3 + 0.7 * p.noise.fbm(p.rng.uniform(0, 100) + x / p.W * 5))
    poly = np.vstack([np.column_stack([x, y]), [[p.W, base], [0, base]]])
    if p.kind == "xieyi":
        p.wash(poly, INK, 0.18, p.u * 1.5, uneven=0.5)
        p.use("light_ink", "wash_gradation")
    elif p.kind == "gongbi":
        p.fill(poly, "mountain", alpha=0.45)
        p.line(np.column_stack([x, y]), scale=0.8, alpha=0.6)
    else:
        p.line(np.column_stack([x, y]), scale=0.8, alpha=0.7)
    p.mark("mountain")


# ------------------------------------------------------------------------------------------- trees
def tree(p: Painter, x: float, y: float, h: float, foliage: str = "dots") -> None:
    """A trunk with branches and foliage: dot clusters, blossoms, autumn colour, or bare twigs."""
    rng = p.rng
    lean = rng.normal(0, 0.15) * h
    top = np.array([x + lean, y - h])
    trunk_w = h * 0.07
    left = bent([x - trunk_w, y], top - [trunk_w * 0.3, 0], 0.05)
    right = bent(top + [trunk_w * 0.3, 0], [x + trunk_w, y], 0.05)
    p.shape(np.vstack([left, right]), "wood", line_scale=0.8)
    tips = []
    for k in range(int(rng.integers(3, 6))):
        t = rng.uniform(0.35, 0.95)
        start = np.array([x, y]) + (top - [x, y]) * t
        side = -1 if k % 2 else 1
        end = start + [side * h * rng.uniform(0.2, 0.4), -h * rng.uniform(0.05, 0.25)]
        p.stroke(bent(start, end, 0.1 * side, 8), max(trunk_w * 0.5, 1.0), p.style.ink, 0.85,
                 noise=p.style.line_noise)
        tips.append(end)
    tips.append(top)
    colour, alpha, r = {"dots": (INK, 0.75, 0.9), "blossom": ((214, 104, 124), 0.7, 0.8),
                        "autumn": ((196, 78, 40), 0.7, 0.9), "bare": (INK, 0.0, 0)}[foliage]
    if p.kind == "baimiao" and foliage != "bare":
        colour, alpha = INK, 0.9
    for tip in tips:
        if foliage == "bare":
            for _ in range(3):
                end = tip + rng.normal(0, h * 0.08, 2) - [0, h * 0.05]
                p.stroke(np.array([tip, end]), 1.0, p.style.ink, 0.8, noise=0.4)
            continue
        if p.kind == "gongbi" and foliage == "dots":
            p.shape(ellipse(tip[0], tip[1], h * 0.16, h * 0.1, rng.uniform(-0.3, 0.3), 16), "leaf")
        if p.kind == "baimiao":  # baimiao foliage: small outlined leaf rings, not blots
            for c in tip + rng.normal(0, h * 0.08, (6, 2)):
                p.line(ellipse(c[0], c[1], h * 0.035, h * 0.025, 0, 8), scale=0.8, closed=True)
            continue
        cloud = tip + rng.normal(0, h * 0.09, (14, 2))
        p.dots(cloud, max(p.u * r * (1.6 if p.kind == "xieyi" else 1.0), 1.0), colour, alpha)
        if colour != INK and p.kind == "xieyi":
            p.use("light_colour")
    p.mark("tree")


def pine(p: Painter, x: float, y: float, h: float) -> None:
    """A pine: leaning scaly trunk and flat tiers of needle clusters."""
    rng = p.rng
    top = np.array([x + rng.normal(0, 0.2) * h, y - h])
    tw = h * 0.06
    left = bent([x - tw, y], top - [tw * 0.4, 0], 0.08)
    right = bent(top + [tw * 0.4, 0], [x + tw, y], -0.08)
    p.shape(np.vstack([left, right]), "wood")
    for t in rng.uniform(0.15, 0.9, 4):  # bark scales
        c = np.array([x, y]) + (top - [x, y]) * t
        p.line(bent(c - [tw * 0.6, 0], c + [tw * 0.6, 0], 0.3, 5), scale=0.6, share=1.0)
    for k in range(5):
        t = 0.45 + 0.55 * k / 4
        c = np.array([x, y]) + (top - [x, y]) * t + [((-1) ** k) * h * rng.uniform(0.08, 0.25), 0]
        rx, ry = h * rng.uniform(0.16, 0.24), h * 0.07
        base = np.array([x, y]) + (top - [x, y]) * t
        p.stroke(np.array([base, c]), max(tw * 0.5, 1.0), p.style.ink, 0.85, noise=0.3)
        blob = ellipse(c[0], c[1], rx, ry, rng.normal(0, 0.1), 18)
        if p.kind == "xieyi":
            p.wash(blob, INK, 0.75, p.style.wash_blur * p.u, uneven=0.5)
            p.use("thick_ink", "wet_brush")
        else:
            p.fill(blob, "leaf")
        # needles: fans of short strokes radiating from the cluster's centre
        for ang in np.linspace(np.pi * 1.05, np.pi * 1.95, 7):
            end = c + [np.cos(ang) * rx, np.sin(ang) * ry * 1.6]
            p.stroke(np.array([c + [0, ry * 0.4], end]), max(p.style.line_width * p.u * 0.8, 1.0),
                     p.style.ink, 0.8, taper="sin", noise=0.2)
    p.mark("pine")


def rock(p: Painter, x: float, y: float, w: float, h: float) -> None:
    """A boulder: a lumpy half-ellipse with texture strokes and moss dots."""
    rng = p.rng
    t = np.linspace(np.pi, 2 * np.pi, 20)
    r = 1.0 + 0.25 * (p.noise(rng.uniform(0, 100) + t * 2) - 0.5)
    pts = np.column_stack([x + np.cos(t) * w / 2 * r, y + np.sin(t) * h * r])
    poly = np.vstack([pts, [[x + w / 2, y], [x - w / 2, y]]])
    p.shape(poly, "rock", line_scale=1.2)
    for _ in range(6 if p.kind != "xieyi" else 3):
        a = pts[int(rng.integers(3, 17))]
        p.stroke(np.array([a, a + [rng.normal(0, w * 0.05), h * rng.uniform(0.2, 0.5)]]),
                 max(p.style.line_width * p.u * 0.9, 1.0), p.style.ink, p.style.texture_alpha + 0.2)
    p.use("texture_strokes")
    if p.kind != "baimiao":
        p.dots(pts[rng.choice(np.arange(2, 18), 4, replace=False)], p.u * 0.7, INK, 0.85)
    p.mark("rock")


# ------------------------------------------------------------------------------------------- buildings
def pavilion(p: Painter, x: float, y: float, s: float) -> None:
    """An open pavilion: platform, posts and a roof whose eave tips curl up."""
    plat = np.array([[x - 0.6 * s, y], [x + 0.6 * s, y], [x + 0.55 * s, y - 0.1 * s], [x - 0.55 * s, y - 0.1 * s]])
    p.shape(plat, "rock")
    for px in (-0.4, -0.13, 0.13, 0.4):
        p.stroke(np.array([[x + px * s, y - 0.1 * s], [x + px * s, y - 0.6 * s]]), max(0.05 * s, 1.0),
                 p.style.ink, 0.9, taper="even", noise=0.1)
    rail = np.array([[x - 0.45 * s, y - 0.3 * s], [x + 0.45 * s, y - 0.3 * s]])
    p.line(rail, scale=0.7, share=1.0)
    eave_l = bent([x - 0.8 * s, y - 0.75 * s], [x - 0.2 * s, y - 1.05 * s], -0.15, 8)
    eave_r = bent([x + 0.2 * s, y - 1.05 * s], [x + 0.8 * s, y - 0.75 * s], -0.15, 8)
    roof = np.vstack([[[x - 0.5 * s, y - 0.6 * s]], eave_l, eave_r, [[x + 0.5 * s, y - 0.6 * s]]])
    p.shape(roof, "roof")
    p.stroke(np.array([[x, y - 1.05 * s], [x, y - 1.2 * s]]), max(0.05 * s, 1.0), p.style.ink, 0.9)
    p.mark("pavilion")


def bridge(p: Painter, x0: float, x1: float, y: float) -> None:
    """An arched stone bridge with a railing."""
    span = x1 - x0
    arch_top = bent([x0, y], [x1, y], -0.25, 20)
    arch_low = bent([x0 + span * 0.15, y], [x1 - span * 0.15, y], -0.22, 16)
    deck = np.vstack([arch_top, arch_low[::-1]])
    p.shape(deck, "rock")
    rail = arch_top - [0, span * 0.07]
    p.line(rail, scale=0.8, share=1.0)
    for q in arch_top[2:-2:3]:
        p.stroke(np.array([q, q - [0, span * 0.07]]), 1.0, p.style.ink, 0.9, taper="even", noise=0.0)
    p.mark("bridge")


def boat(p: Painter, x: float, y: float, s: float, boatman: bool = True) -> None:
    """A small boat: crescent hull, arched awning, and optionally a hatted boatman with a pole."""
    hull_top = np.array([[x - 0.6 * s, y - 0.14 * s], [x + 0.6 * s, y - 0.16 * s]])
    hull_bottom = bent([x + 0.6 * s, y - 0.16 * s], [x - 0.6 * s, y - 0.14 * s], -0.18, 14)
    p.shape(np.vstack([hull_top, hull_bottom]), "wood")
    awning = np.vstack([bent([x - 0.3 * s, y - 0.15 * s], [x + 0.15 * s, y - 0.15 * s], 0.45, 12)])
    p.shape(awning, "roof")
    if boatman:
        bx = x + 0.35 * s
        body = np.array([[bx - 0.07 * s, y - 0.15 * s], [bx + 0.07 * s, y - 0.15 * s], [bx + 0.03 * s, y - 0.45 * s],
                         [bx - 0.03 * s, y - 0.45 * s]])
        p.shape(body, "robe_d")
        hat = np.array([[bx - 0.12 * s, y - 0.45 * s], [bx + 0.12 * s, y - 0.45 * s], [bx, y - 0.58 * s]])
        p.shape(hat, "rock")
        p.stroke(np.array([[bx + 0.25 * s, y - 0.8 * s], [bx - 0.05 * s, y + 0.2 * s]]), 1.0, p.style.ink, 0.9,
                 taper="even", noise=0.0)
        p.mark("figure")
    p.mark("boat")


# ------------------------------------------------------------------------------------------- water, air
def water(p: Painter, y0: float, y1: float) -> None:
    """Open water: a pale band (gongbi), a faint wash (xieyi) or nothing, with ripple strokes."""
    rng = p.rng
    band = np.array([[0, y0], [p.W, y0], [p.W, y1], [0, y1]])
    p.occlude(band)
    if p.kind == "gongbi":
        p.fill(band, "water", alpha=0.6)
    elif p.kind == "xieyi":
        p.gradient(y0, y1, INK, 0.02, 0.12)
    rows = 5 if p.kind == "xieyi" else 9
    for k in range(rows):
        yy = y0 + (y1 - y0) * (k + 0.5) / rows
        for _ in range(2 if p.kind == "xieyi" else 4):
            xa = rng.uniform(0, p.W * 0.9)
            xs = np.linspace(xa, xa + rng.uniform(0.1, 0.3) * p.W, 10)
            ys = yy + np.sin(xs / (p.u * 3)) * p.u * 0.5
            p.stroke(np.column_stack([xs, ys]), max(p.style.line_width * p.u * 0.7, 1.0), p.style.ink, 0.45,
                     noise=0.4)
    p.mark("water")


def waterfall(p: Painter, x: float, y0: float, y1: float, w: float) -> None:
    """A white cascade cut through the rock, drawn with a few thin falling lines."""
    p.occlude(np.array([[x - w / 2, y0], [x + w / 2, y0], [x + w * 0.7, y1], [x - w * 0.7, y1]]))
    for k in range(4):
        xx = x + (k - 1.5) * w * 0.25
        p.stroke(np.array([[xx, y0], [xx + p.rng.normal(0, w * 0.05), y1]]), 1.0, p.style.ink, 0.35,
                 taper="sin", noise=0.5)
    p.mark("waterfall")


def mist(p: Painter, y: float, h: float) -> None:
    """A band of mist: the paper left white over the mountains' feet (a soft white gradient)."""
    p.gradient(y - h / 2, y, WHITE, 0.0, 0.9)
    p.gradient(y, y + h / 2, WHITE, 0.9, 0.0)
    p.mark("mist")


def moon(p: Painter, x: float, y: float, r: float) -> None:
    circle = ellipse(x, y, r, r, 0, 40)
    if p.kind == "xieyi":  # moon left as paper inside a pale wash halo
        p.wash(ellipse(x, y, r * 2.0, r * 2.0, 0, 40), INK, 0.18, r * 0.5)
        p.occlude(circle)
        p.use("wash_gradation")
    else:
        p.shape(circle, "moon", line_scale=0.8)
    p.mark("moon")


def snowfall(p: Painter, sky_bottom: float) -> None:
    """Snow: a darkened sky (the paper's white then reads as snow) and drifting white flakes."""
    p.gradient(0, sky_bottom, INK, 0.35, 0.1)
    flakes = np.column_stack([p.rng.uniform(0, p.W, 60), p.rng.uniform(0, p.H, 60)])
    for fx, fy in flakes:
        p.polygon(ellipse(fx, fy, p.u * 0.5, p.u * 0.5, 0, 6), WHITE, 0.9)
    p.mark("snow")


# ------------------------------------------------------------------------------------------- compositions
_FOLIAGE = {"spring": "blossom", "summer": "dots", "autumn": "autumn", "winter": "bare"}


def _ranges(p: Painter, water_y: float, count: int, snow: bool = False) -> list[np.ndarray]:
    """Far-to-near mountain ranges standing on the waterline; farther ones paler and smaller."""
    rng = p.rng
    outs = []
    for k in range(count):
        near = (k + 1) / count
        cx = p.W * (rng.uniform(0.15, 0.85) if count > 1 else rng.uniform(0.35, 0.65))
        width = p.W * rng.uniform(0.55, 0.95)
        height = min(p.H * (0.35 + 0.25 * near), width * 1.6)
        outs.append(mountain(p, cx, water_y - (1 - near) * p.H * 0.06, width, height, near=near, snow=snow,
                             texture=int(30 + 40 * near)))
    return outs


def seasonal(p: Painter) -> str:
    """Four-season landscape: ranges over water, a foreground rock with pines; season-specific motifs."""
    rng = p.rng
    seasons = ["spring", "summer", "autumn", "winter"] if p.kind != "baimiao" else ["spring", "summer", "autumn"]
    season = str(rng.choice(seasons))
    water_y = p.H * rng.uniform(0.68, 0.78)
    if season == "winter":
        snowfall(p, water_y)
    if season == "autumn":
        moon(p, p.W * rng.uniform(0.2, 0.8), p.H * 0.1, min(p.W, p.H) * 0.07)
    distant_range(p, water_y - p.H * 0.3, p.H * 0.12)
    outs = _ranges(p, water_y, 2, snow=season == "winter")
    if season == "summer":
        peak = outs[-1][np.argmin(outs[-1][:, 1])]
        waterfall(p, peak[0] + p.u * 3, peak[1] + (water_y - peak[1]) * 0.3, water_y, p.u * 4)
    if season in ("spring", "summer"):
        mist(p, water_y - p.H * 0.15, p.H * 0.12)
    water(p, water_y, p.H)
    side = 1 if rng.random() < 0.5 else -1
    bx = p.W * (0.5 + side * 0.28)
    rock(p, bx, p.H * 0.98, p.W * 0.45, p.H * 0.09)
    pine(p, bx - side * p.W * 0.05, p.H * 0.94, p.H * 0.3)
    tree(p, bx + side * p.W * 0.1, p.H * 0.95, p.H * 0.2, _FOLIAGE[season])
    if season == "winter":
        snowfall(p, 0)
    return {"spring": "spring mountains in mist", "summer": "summer mountains with a waterfall",
            "autumn": "autumn moon over mountains", "winter": "snow-covered mountains"}[season]


def architectural(p: Painter) -> str:
    """Architectural landscape: a pavilion on a ledge and a bridge over water among mountains."""
    rng = p.rng
    water_y = p.H * rng.uniform(0.7, 0.8)
    distant_range(p, water_y - p.H * 0.32, p.H * 0.12)
    _ranges(p, water_y - p.H * 0.05, 2)
    mist(p, water_y - p.H * 0.1, p.H * 0.08)
    water(p, water_y, p.H)
    side = 1 if rng.random() < 0.5 else -1
    px = p.W * (0.5 - side * 0.22)
    rock(p, px, water_y + p.H * 0.05, p.W * 0.5, p.H * 0.08)
    pavilion(p, px, water_y - p.H * 0.02, min(p.W, p.H) * 0.2)
    pine(p, px + side * p.W * 0.2, water_y + p.H * 0.05, p.H * 0.25)
    bridge(p, p.W * (0.5 + side * 0.05), p.W * (0.5 + side * 0.4), p.H * 0.92)
    return "pavilion and bridge among mountains"


def heritage(p: Painter) -> str:
    """Heritage reproduction: a panorama after an old handscroll, ranges along a river with a boat."""
    rng = p.rng
    water_y = p.H * rng.uniform(0.68, 0.76)
    distant_range(p, water_y - p.H * 0.35, p.H * 0.15)
    groups = max(2, int(round(p.W / p.H * 1.3)))
    for k in range(groups):
        cx = p.W * (k + rng.uniform(0.3, 0.7)) / groups
        near = 0.5 + 0.5 * (k % 2)
        mountain(p, cx, water_y, p.W / groups * 1.3, p.H * rng.uniform(0.45, 0.7) * (0.8 + 0.2 * near),
                 near=near, texture=45)
    mist(p, water_y - p.H * 0.12, p.H * 0.1)
    water(p, water_y, p.H)
    boat(p, p.W * rng.uniform(0.3, 0.7), p.H * 0.88, min(p.W, p.H) * 0.3)
    for _ in range(2):
        tree(p, p.W * rng.uniform(0.05, 0.95), water_y + p.H * 0.02, p.H * 0.2, "dots")
    return "river panorama with a fishing boat"

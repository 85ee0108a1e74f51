"""Render one planned painting: composition by secondary category, seal and inscription, paper.

``render_painting(spec, long_side)`` is a pure function of the spec: the painting's own PRNG is seeded
from ``spec.seed`` alone, so the same spec gives the same pixels in any process. Strokes are drawn at
``SUPERSAMPLE`` times the output size and area-averaged down, which anti-aliases them. The truth dict
lists only what the motif code reported drawing (elements) and the techniques its brush calls used;
blank space is measured, not assumed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PIL import Image

from inkgen.data.procedural import figures, landscape, scenes
from inkgen.data.procedural.brush import Painter
from inkgen.data.procedural.noise import make_rng
from inkgen.data.procedural.paper import finish, inscription, seal
from inkgen.data.procedural.plan import PaintingSpec, canvas_size
from inkgen.data.procedural.style import STYLES
from inkgen.data.taxonomy import load_taxonomy

RENDERER_VERSION = "1.0"
SUPERSAMPLE = 2
# A painting whose pigment covers less than this share of the paper is composed with blank space (liubai).
BLANK_SPACE_MAX_COVER = 0.45

COMPOSERS: dict[str, Callable[[Painter], str]] = {
    "seasonal_landscape": landscape.seasonal,
    "architectural_landscape": landscape.architectural,
    "heritage_reproduction": landscape.heritage,
    "historical_allusion": figures.historical_allusion,
    "myth_legend": figures.myth_legend,
    "folk_custom": figures.folk_custom,
    "branch_ornament": scenes.branch_ornament,
    "vegetables_fruits": scenes.vegetables_fruits,
    "seasonal_flowers": scenes.seasonal_flowers,
    "auspicious_beasts": scenes.auspicious_beasts,
    "insects_fish": scenes.insects_fish,
    "literati_symbols": scenes.literati_symbols,
}

_TYPE_TITLE = {"xieyi": "Xieyi", "gongbi": "Gongbi", "baimiao": "Baimiao"}


def render_item(spec: PaintingSpec, long_side: int) -> tuple[Image.Image, dict[str, Any], str]:
    """The image, its truth dict and a short human title."""
    width, height = canvas_size(spec.format, long_side)
    rng = make_rng(spec.seed)
    p = Painter(width * SUPERSAMPLE, height * SUPERSAMPLE, STYLES[spec.painting_type], rng)
    subject = COMPOSERS[spec.secondary](p)
    cover = float(np.mean(np.asarray(p.img).min(axis=2) < 235))
    if cover < BLANK_SPACE_MAX_COVER:
        p.use("blank_space")
    _sign(p)
    image = finish(p, spec.period, rng, (width, height))
    truth = {
        "painting_type": spec.painting_type,
        "primary": spec.primary,
        "secondary": spec.secondary,
        "elements": sorted(p.elements),
        "techniques": sorted(p.techniques),
        "period": spec.period,
        "seed": spec.seed,
        "format": spec.format,
    }
    _check(truth)
    sec_label = load_taxonomy().secondary[spec.secondary].label
    return image, truth, f"{_TYPE_TITLE[spec.painting_type]} {sec_label}: {subject}"


def render_painting(spec: PaintingSpec, long_side: int) -> tuple[Image.Image, dict[str, Any]]:
    """Public entry point: the rendered painting and what it truly shows."""
    image, truth, _ = render_item(spec, long_side)
    return image, truth


def _sign(p: Painter) -> None:
    """An inscription column (sometimes) and one or two seals, in the emptier top or bottom corner."""
    rng = p.rng
    size = max(min(p.W, p.H) * 0.08, 6.0)
    ink = np.asarray(p.img).min(axis=2) < 235
    band, half = max(int(p.W * 0.18), 1), p.H // 2
    corners = {}
    for right in (False, True):
        cols = slice(p.W - band, p.W) if right else slice(0, band)
        for top in (True, False):
            corners[(right, top)] = float(ink[slice(0, half) if top else slice(half, p.H), cols].mean())
    # emptiest corner; on a tie the top (room for an inscription) and the left win
    right, top = min(corners, key=lambda k: (round(corners[k], 3), not k[1], k[0]))
    x = p.W - size * 1.6 if right else size * 0.6
    if top and rng.random() < 0.6:
        chars = int(rng.integers(3, 7))
        inscription(p, x + size * 0.1, p.H * 0.06, chars, size * 0.8)
        y = min(p.H * 0.06 + chars * size * 0.95, p.H - size * 2.6)
    else:
        y = p.H * 0.06 if top else p.H - size * 1.8
    seal(p, x, y, size)
    if rng.random() < 0.4:
        seal(p, x + size * 0.15, y + size * 1.3 if top else y - size * 1.3, size * 0.7)


def _check(truth: dict[str, Any]) -> None:
    """Refuse a truth that names anything the taxonomy does not know (a renderer bug)."""
    tax = load_taxonomy()
    unknown = [e for e in truth["elements"] if e not in tax.elements]
    unknown += [t for t in truth["techniques"] if t not in tax.techniques]
    if unknown:
        raise ValueError(f"renderer reported unknown taxonomy keys {unknown}")

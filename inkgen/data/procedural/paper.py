"""Rice paper and silk, their tone by period, and the red seals and inscription of a finished painting.

The paper is a tone (``style.PAPER_TONE``: yellowed silk for pre-Qing works, warm for Qing, nearly white
for modern ones) times a grain: multi-octave value noise for cloudy fibre density, fine pixel noise, and
short pale fibres. Pre-Qing works also darken towards the mounting edge and carry a few foxing stains, so
the period tag can be seen. The ink layer is multiplied onto it: ink darkens paper the way it is absorbed,
and white pigment-layer pixels leave the paper untouched.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from inkgen.data.procedural.brush import Painter
from inkgen.data.procedural.noise import value_field
from inkgen.data.procedural.style import INK, PAPER_TONE, SEAL_RED


def paper(width: int, height: int, painting_type: str, period: str, rng: np.random.Generator) -> np.ndarray:
    """A ``height x width x 3`` float32 array in [0, 1]: the toned, grained ground of the painting."""
    tone = np.asarray(PAPER_TONE[painting_type][period], dtype=np.float32) / 255.0
    cloud = value_field(rng, width, height, cell=max(width, height) / 6, octaves=3)
    grain = rng.random((height, width), dtype=np.float32)
    shade = 1.0 - 0.035 * cloud - 0.025 * grain
    fibres = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(fibres)
    for _ in range(width * height // 250):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        ang = rng.uniform(0, np.pi)
        length = rng.uniform(2, 7)
        draw.line([x, y, x + length * np.cos(ang), y + length * np.sin(ang)], fill=int(rng.integers(30, 90)))
    shade -= 0.05 * np.asarray(fibres, dtype=np.float32) / 255.0
    out = shade[:, :, None] * tone[None, None, :]
    if period == "pre_qing":
        out = _aged(out, rng)
    return out


def _aged(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Old silk: edges browned by handling, and foxing stains."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    edge = np.minimum(np.minimum(xx, w - 1 - xx) / w, np.minimum(yy, h - 1 - yy) / h)
    vignette = np.clip(edge / 0.12, 0.0, 1.0) ** 0.5
    brown = np.array([0.78, 0.66, 0.48], np.float32)
    img = img * (0.9 + 0.1 * vignette[:, :, None]) * (vignette[:, :, None] + (1 - vignette[:, :, None]) * brown)
    stains = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.02, 0.08) * max(w, h)
        stains += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(0.04, 0.1)
    return img * (1.0 - stains[:, :, None] * (1.0 - brown[None, None, :]) * 2.0)


def seal(p: Painter, x: float, y: float, size: float) -> None:
    """A square red seal with carved, glyph-like white marks (a 2-4 stroke grid per character)."""
    rng = p.rng
    box = np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]])
    p.polygon(box + rng.normal(0, size * 0.02, box.shape), SEAL_RED, 0.92)
    cells = 2 if size > 6 * p.u else 1
    cs = size / cells
    width = max(size * 0.07, 1.0)
    for i in range(cells):
        for j in range(cells):
            cx, cy = x + (i + 0.5) * cs, y + (j + 0.5) * cs
            for _ in range(int(rng.integers(2, 5))):
                if rng.random() < 0.5:  # horizontal bar
                    yy = cy + rng.uniform(-0.3, 0.3) * cs
                    seg = [[cx - 0.32 * cs, yy], [cx + 0.32 * cs, yy]]
                else:  # vertical bar
                    xx = cx + rng.uniform(-0.3, 0.3) * cs
                    seg = [[xx, cy - 0.32 * cs], [xx, cy + 0.32 * cs]]
                p.stroke(np.array(seg), width, (250, 240, 235), 0.9, taper="even", noise=0.2)
    p.mark("seal")


def inscription(p: Painter, x: float, y: float, n_chars: int, size: float) -> None:
    """A column of calligraphy-like characters: a few short strokes inside each character cell."""
    rng = p.rng
    for k in range(n_chars):
        cy = y + k * size * 1.15
        if cy + size > p.H:
            break
        for _ in range(int(rng.integers(3, 6))):
            a = np.array([x + rng.uniform(0.1, 0.7) * size, cy + rng.uniform(0.1, 0.7) * size])
            ang = rng.choice([0.0, np.pi / 2, np.pi / 4, 3 * np.pi / 4]) + rng.normal(0, 0.15)
            b = a + np.array([np.cos(ang), np.sin(ang)]) * size * rng.uniform(0.25, 0.6)
            p.stroke(np.array([a, b]), max(size * 0.12, 1.0), INK, 0.8, noise=0.3)


def finish(p: Painter, period: str, rng: np.random.Generator, out_size: tuple[int, int]) -> Image.Image:
    """Downsample the pigment layer (anti-aliasing the supersampled strokes) and print it on paper."""
    w, h = out_size
    layer = cv2.resize(np.asarray(p.img), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    ground = paper(w, h, p.kind, period, rng)
    return Image.fromarray(np.clip(ground * layer * 255.0 + 0.5, 0, 255).astype(np.uint8))

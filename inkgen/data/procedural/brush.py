"""The brush: strokes, outlines, fills, washes and dots on a supersampled canvas.

The core is shan-shui-inf's ``stroke()``: a polyline becomes a polygon whose half-width along the line
follows ``sin(pi t)`` (tapered at both ends, like a brush pressed and lifted) modulated by Perlin noise
(uneven pressure). Everything else is built from it and from washes: a polygon rasterised into a local
mask, blurred (ink bleeding into wet paper) and optionally modulated by a value-noise field (uneven,
"broken" ink). Style-aware calls (``line``, ``fill``, ``shape``) turn one motif description into xieyi,
gongbi or baimiao drawing, and record which taxonomy techniques they really used.

The canvas is an RGB "pigment" layer on white; ``render`` later multiplies it onto the paper, so white
means "paper shows through" and a white fill occludes what lies behind (shan-shui-inf's mountain fills).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from inkgen.data.procedural.noise import Noise, value_field
from inkgen.data.procedural.style import GONGBI_FILL, INK, RGB, XIEYI_FILL, Style

WHITE: RGB = (255, 255, 255)


def resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` pixels along a polyline (strokes need even sampling for smooth width)."""
    pts = np.asarray(pts, dtype=np.float64)
    d = pts[1:] - pts[:-1]
    dist = np.empty(len(pts))
    dist[0] = 0.0
    np.cumsum(np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2), out=dist[1:])
    n = max(int(dist[-1] / max(step, 1e-6)) + 1, 3)
    s = np.arange(n) * (dist[-1] / (n - 1))
    out = np.empty((n, 2))
    out[:, 0] = np.interp(s, dist, pts[:, 0])
    out[:, 1] = np.interp(s, dist, pts[:, 1])
    return out


def normals(pts: np.ndarray) -> np.ndarray:
    """Unit normals of a polyline (central differences inside, one-sided at the ends)."""
    tang = np.empty_like(pts)
    tang[1:-1] = pts[2:] - pts[:-2]
    tang[0] = pts[1] - pts[0]
    tang[-1] = pts[-1] - pts[-2]
    tang /= np.sqrt(tang[:, 0] ** 2 + tang[:, 1] ** 2)[:, None] + 1e-9
    return np.column_stack([-tang[:, 1], tang[:, 0]])


def bezier(p0, p1, p2, n: int = 16) -> np.ndarray:
    """Quadratic Bezier from p0 to p2 pulled towards p1: the bent line of a branch, leaf or fold."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def bent(a, b, bend: float, n: int = 16) -> np.ndarray:
    """A curve from a to b whose middle is pushed sideways by ``bend`` times the chord length."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = b - a
    mid = (a + b) / 2 + np.array([-d[1], d[0]]) * bend
    return bezier(a, mid, b, n)


def ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 28) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])


def leaf(base, tip, width: float, n: int = 14) -> np.ndarray:
    """A pointed leaf or petal: two arcs from base to tip, widest a third of the way up."""
    base, tip = np.asarray(base, dtype=np.float64), np.asarray(tip, dtype=np.float64)
    d = tip - base
    length = np.hypot(*d) + 1e-9
    nrm = np.array([-d[1], d[0]]) / length
    t = np.linspace(0.0, 1.0, n)
    prof = np.sin(np.pi * t ** 0.75) * width / 2
    spine = base + t[:, None] * d
    return np.vstack([spine + prof[:, None] * nrm, (spine - prof[:, None] * nrm)[::-1]])


class Painter:
    """A canvas plus a brush in one painting type; remembers the elements and techniques it drew."""

    def __init__(self, width: int, height: int, style: Style, rng: np.random.Generator):
        self.W, self.H = width, height
        self.u = float(np.sqrt(width * height)) / 100.0  # unit of size: 1 % of the mean side
        self.style = style
        self.rng = rng
        self.noise = Noise(rng)
        self.img = Image.new("RGB", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        # One field of uneven ink density for the whole painting, so washes share their "paper".
        self.field = value_field(rng, width, height, cell=9 * self.u, octaves=3)
        self.elements: set[str] = set()
        self.techniques: set[str] = set()

    # ----------------------------------------------------------------- bookkeeping
    @property
    def kind(self) -> str:
        return self.style.name

    def mark(self, *elements: str) -> None:
        self.elements.update(elements)

    def use(self, *techniques: str) -> None:
        self.techniques.update(techniques)

    # ----------------------------------------------------------------- raw primitives
    def polygon(self, pts: np.ndarray, colour: RGB, alpha: float) -> None:
        pts = np.asarray(pts, dtype=np.float64)
        if len(pts) >= 3 and alpha > 0:
            self.draw.polygon(pts.ravel().tolist(), fill=(*colour, int(round(255 * min(alpha, 1.0)))))

    def stroke_polygon(self, pts, width: float, taper: str = "sin", noise: float = 0.3) -> np.ndarray:
        """shan-shui-inf's stroke(): polyline -> polygon, width = w * taper(t) * (1 - k + k * perlin)."""
        pts = resample(pts, step=max(self.u * 0.6, 0.8))
        n = len(pts)
        t = np.arange(n) * (1.0 / (n - 1))
        if taper == "sin":
            prof = np.sin(np.pi * t) ** 0.6
        elif taper == "even":  # iron-wire line: constant width, only the very ends rounded off
            prof = np.minimum(1.0, 0.35 + 3.0 * np.sin(np.pi * t))
        elif taper == "head":  # pressed at the start, lifted to a point (bamboo leaf, orchid)
            prof = np.sin(np.pi * (0.15 + 0.85 * t)) ** 0.5 * (1.0 - 0.6 * t)
        elif taper == "limb":  # a branch: thick at its base, thinning to the tip
            prof = 1.0 - 0.7 * t
        else:
            raise ValueError(f"unknown taper {taper!r}")
        off = self.rng.uniform(0, 200)
        pressure = self.noise(off + np.arange(n) * 0.35)
        w = np.maximum(width * prof * (1.0 - noise + noise * pressure), 0.55) / 2.0
        nrm = normals(pts)
        return np.vstack([pts + nrm * w[:, None], (pts - nrm * w[:, None])[::-1]])

    def stroke(self, pts, width: float, colour: RGB = INK, alpha: float = 0.9, taper: str = "sin",
               noise: float = 0.3) -> None:
        self.polygon(self.stroke_polygon(pts, width, taper, noise), colour, alpha)

    def dry_stroke(self, pts, width: float, alpha: float = 0.85) -> None:
        """Dry brush / flying white: the stroke splits into hair-streaks with gaps where paper shows."""
        pts = resample(pts, step=max(self.u * 0.6, 0.8))
        nrm = normals(pts)
        n = len(pts)
        for offset in np.linspace(-0.45, 0.45, 5) * width:
            start = int(self.rng.integers(0, max(n // 4, 1)))
            stop = n - int(self.rng.integers(0, max(n // 3, 1)))
            if stop - start >= 3:
                self.stroke(pts[start:stop] + nrm[start:stop] * offset, width * 0.28, INK, alpha, noise=0.7)
        self.use("dry_brush", "flying_white")

    def wash(self, pts, colour: RGB, alpha: float, blur: float, uneven: float = 0.0) -> None:
        """Fill a polygon with ink that bleeds (Gaussian blur) and pools unevenly (noise field)."""
        pts = np.asarray(pts, dtype=np.float64)
        if alpha <= 0 or len(pts) < 3:
            return
        pad = int(3 * blur) + 2
        x0 = max(int(pts[:, 0].min()) - pad, 0)
        y0 = max(int(pts[:, 1].min()) - pad, 0)
        x1 = min(int(pts[:, 0].max()) + pad + 1, self.W)
        y1 = min(int(pts[:, 1].max()) + pad + 1, self.H)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(mask).polygon((pts - [x0, y0]).ravel().tolist(), fill=255)
        m = np.asarray(mask, dtype=np.float32) * (alpha / 255.0)
        if blur > 0:
            m = cv2.GaussianBlur(m, (0, 0), blur)
        if uneven > 0:
            m *= (1.0 - uneven) + uneven * self.field[y0:y1, x0:x1]
        self.blend(x0, y0, m, colour)

    def blend(self, x0: int, y0: int, alpha: np.ndarray, colour: RGB) -> None:
        """Lay ``colour`` with per-pixel opacity ``alpha`` onto the canvas at (x0, y0)."""
        h, w = alpha.shape
        box = (x0, y0, x0 + w, y0 + h)
        region = np.asarray(self.img.crop(box), dtype=np.float32)
        a = np.clip(alpha, 0.0, 1.0)[:, :, None]
        out = region * (1.0 - a) + np.asarray(colour, dtype=np.float32) * a
        self.img.paste(Image.fromarray(np.round(out).astype(np.uint8)), box[:2])

    def dots(self, centres, radius: float, colour: RGB = INK, alpha: float = 0.85) -> None:
        """Dotting (dianfa): moss dots on rocks, foliage, stamens."""
        centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        radii = radius * self.rng.uniform(0.7, 1.3, len(centres))
        for (x, y), r in zip(centres, radii):
            self.polygon(ellipse(x, y, r, r * 0.8, self.rng.uniform(0, np.pi), n=10), colour, alpha)
        if len(centres):
            self.use("dotting")

    def occlude(self, pts) -> None:
        """White fill: hides what lies behind (nearer mountains in front of farther ones)."""
        self.polygon(pts, WHITE, 1.0)

    def gradient(self, y0: float, y1: float, colour: RGB, a0: float, a1: float) -> None:
        """A horizontal band whose opacity runs from a0 (top) to a1 (bottom): sky or water wash."""
        top, bottom = max(int(y0), 0), min(int(y1), self.H)
        if bottom - top < 2:
            return
        ramp = np.linspace(a0, a1, bottom - top, dtype=np.float32)[:, None]
        alpha = ramp * (0.75 + 0.25 * self.field[top:bottom])
        self.blend(0, top, alpha, colour)
        if colour == WHITE:
            return
        self.use("wash_gradation")

    # ----------------------------------------------------------------- style-aware calls
    def line(self, pts, scale: float = 1.0, closed: bool = False, alpha: float = 1.0,
             share: float | None = None) -> None:
        """An outline in this painting type's line: iron-wire, plain baimiao line or wet xieyi stroke."""
        s = self.style
        pts = np.asarray(pts, dtype=np.float64)
        if closed:
            pts = np.vstack([pts, pts[:1]])
        pts = resample(pts, step=max(self.u * 0.6, 0.8))
        share = s.outline_share if share is None else share
        if share < 1.0:  # xieyi: a few decisive strokes, not a closed contour
            n = len(pts)
            keep = max(int(n * share), 3)
            start = int(self.rng.integers(0, max(n - keep, 1)))
            pts = pts[start:start + keep]
        width = max(s.line_width * self.u * scale, 1.0)
        self.stroke(pts, width, s.ink, s.line_alpha * alpha, taper=s.line_taper, noise=s.line_noise)
        if s.name == "gongbi":
            self.use("fine_brush", "iron_wire_line")
        elif s.name == "baimiao":
            self.use("outline")
        else:
            self.use("coarse_brush", "wet_brush")

    def fill(self, pts, role: str, alpha: float = 1.0, uneven: float = 0.35) -> None:
        """Colour or ink inside a shape: flat mineral colour (gongbi), wash (xieyi), paper (baimiao)."""
        if self.kind == "gongbi":
            self.polygon(pts, GONGBI_FILL[role], 0.95 * alpha)
            self.use("heavy_colour")
        elif self.kind == "baimiao":
            self.occlude(pts)
        else:
            colour, a = XIEYI_FILL[role]
            if a * alpha <= 0:
                return
            self.wash(pts, colour, a * alpha, self.style.wash_blur * self.u, uneven=uneven)
            self.use("wash_gradation", "wet_brush")
            if colour != INK:
                self.use("light_colour")
            elif a * alpha >= 0.7:
                self.use("thick_ink")
            elif a * alpha <= 0.3:
                self.use("light_ink")

    def shape(self, pts, role: str, outline: bool = True, occlude: bool = True, line_scale: float = 1.0,
              alpha: float = 1.0) -> None:
        """A closed motif part: occlude what is behind, fill it, outline it (as this type does)."""
        if occlude and self.kind == "xieyi":
            self.occlude(pts)
        self.fill(pts, role, alpha=alpha)
        if outline or self.kind != "xieyi":
            self.line(pts, scale=line_scale, closed=True)
        elif XIEYI_FILL[role][1] > 0:
            self.use("boneless")  # colour or ink laid without an outline: mogu

    def limb(self, pts, width: float, role: str = "wood") -> None:
        """A branch or stalk: dry flying-white ink (xieyi), or an outlined, filled body (gongbi, baimiao)."""
        if self.kind == "xieyi":
            if width > 2.5 * self.u:
                self.dry_stroke(pts, width)
            else:
                self.stroke(pts, width, INK, 0.85, taper="limb", noise=0.5)
                self.use("coarse_brush")
            return
        poly = self.stroke_polygon(pts, max(width, 2.0), taper="limb", noise=0.15)
        self.fill(poly, role)
        self.line(poly, closed=True, scale=0.8)

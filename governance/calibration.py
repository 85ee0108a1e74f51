"""Calibrating the copyright match threshold: recall on transformed copies, false positives on other works.

Paper section 6.2, *ownership attribution*: a cross-check that flags "27% copyright violation" is only as
meaningful as its threshold. The Hamming threshold is therefore measured, not guessed:

1. *registered works* — procedurally drawn ink-wash-like paintings (paper texture, mountain ridges with
   graded wash, brush strokes of varying width, ink blots, a red seal; :func:`procedural_work`) from a
   seed, so the calibration runs offline and re-runs identically; or any folder of images;
2. *copies* — each registered work under the transformations a copier applies (:data:`TRANSFORMS`):
   crop, down-scaling, JPEG re-compression, mirroring, small rotation, colour shift, and all at once;
3. *unrelated works* — further procedural works from a disjoint seed range (or a second folder): similar
   style, different pictures, which is the hard case for false positives;
4. for every threshold ``t`` in ``0..max_threshold``: **recall** = share of copies within ``t`` of their
   own original (smallest distance over the policy's query variants), per transform and overall; **FPR**
   = share of unrelated works within ``t`` of *any* registered work (each such query would be held), and
   the pair rate (share of unrelated–registered pairs within ``t``), from which
   :meth:`CalibrationRow.expected_fpr` extrapolates the FPR to a registry of another size — the measured
   FPR holds only for a registry as large as the calibration's;
5. the **rule** (:func:`choose_threshold`): among thresholds with FPR ≤ ``max_fpr``, the one with the
   highest overall recall; ties go to the smaller threshold. No threshold qualifies → no choice, said so.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from governance.hash_index import HashIndex
from governance.ledger import Entry, Ledger
from governance.phash import open_image, phash, variant_hashes
from governance.policy import CalibrationPolicy

# Unrelated works are drawn from seeds offset by this much, so they never coincide with registered ones.
UNRELATED_SEED_OFFSET = 1_000_003


def _paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = np.array([rng.uniform(228, 248), rng.uniform(218, 238), rng.uniform(190, 220)])
    coarse = rng.normal(0, 6, (max(2, h // 32), max(2, w // 32)))
    mottling = np.asarray(Image.fromarray(coarse.astype(np.float32)).resize((w, h), Image.BICUBIC))
    return base[None, None, :] + mottling[:, :, None] + rng.normal(0, 3, (h, w, 1))


def procedural_work(seed: int, size: int) -> Image.Image:
    """One ink-wash-like painting, fully determined by ``seed``; long side ``size`` pixels."""
    rng = np.random.default_rng(seed)
    aspect = rng.choice([0.6, 0.75, 1.0, 1.33, 1.6])
    w, h = (size, int(size / aspect)) if aspect >= 1 else (int(size * aspect), size)
    ink = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(ink)
    # Mountain ridges: a random walk for the crest, filled downwards; nearer ridges are darker.
    for layer in range(rng.integers(1, 4)):
        crest = np.cumsum(rng.normal(0, h * 0.02, w)) + h * rng.uniform(0.25, 0.7)
        crest = np.convolve(crest, np.ones(9) / 9, mode="same")
        tone = int(60 + 60 * layer + rng.integers(0, 40))
        draw.polygon([(0, h)] + [(x, float(np.clip(crest[x], 0, h))) for x in range(0, w, 4)] + [(w, h)], fill=tone)
    ink = ink.filter(ImageFilter.GaussianBlur(rng.uniform(2, 6)))
    draw = ImageDraw.Draw(ink)
    # Brush strokes: quadratic Bézier paths whose width tapers, as a brush lifts off the paper.
    for _ in range(rng.integers(6, 30)):
        p0, p1, p2 = (rng.uniform([0, 0], [w, h]) for _ in range(3))
        t = np.linspace(0, 1, 24)[:, None]
        pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2
        width0 = rng.uniform(1, size / 40)
        tone = int(rng.integers(120, 256))
        for i in range(len(pts) - 1):
            draw.line([tuple(pts[i]), tuple(pts[i + 1])], fill=tone, width=max(1, int(width0 * (1 - t[i, 0] * 0.8))))
    # Ink blots and washes.
    for _ in range(rng.integers(2, 9)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(size / 40, size / 8)
        draw.ellipse([cx - r, cy - r * rng.uniform(0.4, 1), cx + r, cy + r], fill=int(rng.integers(80, 220)))
    ink = ink.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    alpha = np.asarray(ink, dtype=np.float64)[:, :, None] / 255.0
    rgb = _paper(rng, h, w) * (1 - 0.92 * alpha) + np.array([20, 18, 16]) * 0.92 * alpha
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    # A red seal in a corner region.
    sd = ImageDraw.Draw(img)
    s = int(size * rng.uniform(0.04, 0.08))
    x, y = int(rng.uniform(0.05, 0.9) * (w - s)), int(rng.uniform(0.6, 0.95) * (h - s))
    sd.rectangle([x, y, x + s, y + s], fill=(int(rng.integers(160, 210)), 30, 30))
    return img


# The mechanics of a copier's edits, shared with :mod:`governance.copy_calibration`, whose attacks are
# stronger (other ranges): the random draws are made here, in this order, so a seed gives the same copies.
def crop_margins(img: Image.Image, rng: np.random.Generator, low: float, high: float) -> Image.Image:
    """Cuts each side by a random share in [low, high) of the width or height."""
    w, h = img.size
    l, t, r, b = (rng.uniform(low, high, 4) * [w, h, w, h]).astype(int)
    return img.crop((l, t, w - r, h - b))


def resize_by(img: Image.Image, factor: float, resample: int) -> Image.Image:
    """Scales both sides by ``factor``, never below 8 pixels."""
    return img.resize((max(8, int(img.width * factor)), max(8, int(img.height * factor))), resample)


def recompress_jpeg(img: Image.Image, rng: np.random.Generator, low: int, high: int) -> Image.Image:
    """Saves as JPEG at a random quality in [low, high) and decodes it again."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=int(rng.integers(low, high)))
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def shift_channels(img: Image.Image, rng: np.random.Generator, most: int) -> Image.Image:
    """Adds a random offset in [-most, most] to each RGB channel, clipped to 0..255."""
    shift = rng.integers(-most, most + 1, 3)
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.int16) + shift, 0, 255).astype(np.uint8))


def _crop(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return crop_margins(img, rng, 0.02, 0.08)


def _scale(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return resize_by(img, rng.uniform(0.3, 0.6), Image.LANCZOS)


def _jpeg(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return recompress_jpeg(img, rng, 25, 70)


def _rotate(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    angle = rng.uniform(1, 5) * rng.choice([-1, 1])
    fill = tuple(int(c) for c in np.median(np.asarray(img.convert("RGB"))[0], axis=0))
    return img.rotate(angle, resample=Image.BICUBIC, fillcolor=fill)


def _colour(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    img = ImageEnhance.Brightness(img.convert("RGB")).enhance(rng.uniform(0.8, 1.2))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.5, 1.5))
    return shift_channels(img, rng, 15)


def _combined(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return _jpeg(_colour(_scale(_crop(img, rng), rng), rng), rng)


TRANSFORMS: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "crop": _crop, "scale": _scale, "jpeg": _jpeg, "mirror": lambda img, rng: ImageOps.mirror(img),
    "rotate": _rotate, "colour": _colour, "combined": _combined,
}


def folder_works(folder: str | os.PathLike[str]) -> list[Image.Image]:
    """Every image under ``folder`` (sorted by path), decoded; an unreadable file is an error naming it."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in
                   (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"))
    if not paths:
        raise ValueError(f"{folder}: no images to calibrate on")
    return [open_image(p) for p in paths]


@dataclass(frozen=True)
class CalibrationRow:
    threshold: int
    recall: float
    recall_by_transform: dict[str, float]
    fpr: float
    pair_fpr: float = 0.0  # share of (unrelated, registered) pairs within the threshold

    def expected_fpr(self, registry_size: int) -> float:
        """Query FPR extrapolated to a registry of ``registry_size`` works, assuming independent pairs:
        1 - (1 - pair_fpr) ** size. The measured ``fpr`` holds only for the calibration's registry size."""
        return 1.0 - (1.0 - self.pair_fpr) ** registry_size

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "recall": round(self.recall, 4), "fpr": round(self.fpr, 4),
                "pair_fpr": float(f"{self.pair_fpr:.3g}"),
                "recall_by_transform": {k: round(v, 4) for k, v in self.recall_by_transform.items()}}


@dataclass(frozen=True)
class CalibrationResult:
    rows: tuple[CalibrationRow, ...]
    chosen: int | None
    rule: str
    n_registered: int
    n_copies: int
    n_unrelated: int
    variants: tuple[str, ...]
    source: str

    def row(self, threshold: int) -> CalibrationRow:
        return next(r for r in self.rows if r.threshold == threshold)

    def to_dict(self) -> dict[str, Any]:
        return {"chosen_threshold": self.chosen, "rule": self.rule, "n_registered": self.n_registered,
                "n_copies": self.n_copies, "n_unrelated": self.n_unrelated, "variants": list(self.variants),
                "source": self.source, "rows": [r.to_dict() for r in self.rows]}


def check_inputs(what: str, names: Sequence[str], known: dict[str, Any], registered: Sequence[Any],
                 unrelated: Sequence[Any]) -> None:
    """A calibration's inputs (also :mod:`governance.copy_calibration`'s): every name of a ``what`` (transform,
    attack) among ``known``, and at least one registered and one unrelated work; else a ValueError saying so."""
    unknown = [t for t in names if t not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r} (known: {', '.join(known)})")
    if not registered or not unrelated:
        raise ValueError("calibration needs at least one registered and one unrelated work")


def choose_threshold(rows: Sequence[CalibrationRow], max_fpr: float) -> int | None:
    """Highest recall among thresholds with FPR ≤ ``max_fpr``; ties to the smaller threshold."""
    ok = [r for r in rows if r.fpr <= max_fpr]
    if not ok:
        return None
    return min(ok, key=lambda r: (-r.recall, r.threshold)).threshold


def calibrate(registered: Sequence[Image.Image], unrelated: Sequence[Image.Image], *,
              transforms: Sequence[str], variants: Sequence[str], max_threshold: int, max_fpr: float,
              seed: int, source: str = "images") -> CalibrationResult:
    """Tabulate recall and FPR for thresholds ``0..max_threshold`` and pick one by the rule above."""
    check_inputs("transform", transforms, TRANSFORMS, registered, unrelated)
    rng = np.random.default_rng(seed)
    originals = np.array([phash(img) for img in registered], dtype=np.uint64)
    own: dict[str, np.ndarray] = {}
    for name in transforms:
        dists = []
        for img, h in zip(registered, originals):
            copy = variant_hashes(TRANSFORMS[name](img, rng), variants)
            dists.append(min(bin(v ^ int(h)).count("1") for v in copy.values()))
        own[name] = np.array(dists)
    index = HashIndex(originals)
    # Distance of each unrelated work (best variant) to every registered work: pairs and nearest.
    pairs = np.array([np.min([index.distances(v) for v in variant_hashes(img, variants).values()], axis=0)
                      for img in unrelated])
    nearest = pairs.min(axis=1)
    all_own = np.concatenate(list(own.values()))
    rows = tuple(CalibrationRow(t, float(np.mean(all_own <= t)), {k: float(np.mean(v <= t)) for k, v in own.items()},
                                float(np.mean(nearest <= t)), float(np.mean(pairs <= t)))
                 for t in range(max_threshold + 1))
    rule = (f"highest recall among thresholds whose false-positive rate is at most {max_fpr:.2%}; "
            "ties go to the smaller threshold")
    return CalibrationResult(rows, choose_threshold(rows, max_fpr), rule, len(registered), len(all_own),
                             len(unrelated), tuple(variants), source)


def calibrate_procedural(policy: CalibrationPolicy, variants: Sequence[str]) -> CalibrationResult:
    """The calibration on procedural works, with every setting from the policy's ``calibration`` section."""
    registered = [procedural_work(policy.seed + i, policy.size) for i in range(policy.n_registered)]
    unrelated = [procedural_work(policy.seed + UNRELATED_SEED_OFFSET + i, policy.size)
                 for i in range(policy.n_unrelated)]
    return calibrate(registered, unrelated, transforms=policy.transforms, variants=variants,
                     max_threshold=policy.max_threshold, max_fpr=policy.max_fpr, seed=policy.seed,
                     source=f"procedural works, seed {policy.seed}, {policy.size}px")


def record_calibration(ledger: Ledger, result: CalibrationResult) -> Entry:
    """Enter a calibration so the report and later audits can show where the threshold came from."""
    return ledger.append("calibration", result.to_dict())

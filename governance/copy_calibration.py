"""Calibrating the two-stage copy matcher at the study's resolution: recall on copies, FPR on other works.

Paper section 6.2, *ownership attribution*: a "copyright violation flag" means something only when its
error rates are known. The matcher (:mod:`governance.copymatch`: pHash candidates, then SIFT + RANSAC
verification) is measured on images the caller supplies — the study's stage and
``benchmarks/bench_copy_match.py`` supply the procedural corpus at 64 px; governance never imports the
painter:

1. *registered works* and *unrelated works*: two disjoint lists of images of the same corpus;
2. *copies*: every registered work under each attack of :data:`ATTACKS` (crop, rotation by 7-10 degrees,
   watermark text, JPEG, rescaling, mirroring, colour shift, and crop + rotation + colour + JPEG at once);
   **recall** per attack at inlier threshold ``t`` = share of copies whose own original is among the
   candidates *and* verifies with at least ``t`` inliers;
3. *false positives*: each unrelated work is queried against the registered works; a **false pair** is an
   (unrelated, registered) pair that passes both stages. **Per-query FPR** = share of unrelated works with
   at least one false pair (each would be held); **per-pair FPR** = false pairs / all pairs examined
   (unrelated × registered). Pairs that are the *same picture* by construction — the procedural painter
   renders some motifs (e.g. its vegetable still lifes) nearly identically under different seeds — are
   *twins*, not unrelated works: a pair whose plain grey-level correlation at 64 px (no alignment) is at
   least ``twin_min_correlation`` is counted apart and reported, never silently dropped;
4. **extrapolation to a registry of N works**: the expected number of false pairs per query is
   per-pair FPR × N (when no false pair was seen, the rule of three gives a 95% upper bound of 3 / pairs
   examined); the per-query FPR is also measured on registries of growing size (subsets), so its growth
   is shown, not assumed;
5. **rule** (:func:`choose`): over a grid of (inliers, aligned correlation) thresholds, among the points
   whose per-query FPR ≤ ``max_fpr``, the one with the best worst-attack recall, then the best mean recall.

The growth of the per-query FPR is measured on the first n registered works, with the candidates found in
the whole registry (a smaller registry could put other works among the candidates, so for the smaller
sizes it is a lower bound).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from governance.calibration import check_inputs, crop_margins, recompress_jpeg, resize_by, shift_channels
from governance.copymatch import Matcher, reference_set

REGISTRY_SIZES = (1_000_000,)


def _fill(img: Image.Image) -> tuple[int, ...]:
    return tuple(int(c) for c in np.median(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0))


def _crop(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return crop_margins(img, rng, 0.03, 0.12)


def _rotate(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return img.rotate(float(rng.uniform(7, 10) * rng.choice([-1, 1])), resample=Image.BICUBIC, fillcolor=_fill(img))


def _watermark(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    img = img.convert("RGB").copy()
    draw = ImageDraw.Draw(img, "RGBA")
    font = ImageFont.load_default(size=max(8, int(img.height * rng.uniform(0.14, 0.22))))
    x, y = (int(v) for v in rng.uniform(0, 0.3, 2) * [img.width, img.height])
    draw.text((x, y + img.height // 4), "© STOCK", fill=(255, 255, 255, 180), font=font)
    draw.text((x + img.width // 10, y + img.height // 2), "sample", fill=(0, 0, 0, 130), font=font)
    return img


def _jpeg(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return recompress_jpeg(img, rng, 15, 50)


def _scale(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    f = rng.uniform(0.6, 0.8) if rng.random() < 0.5 else rng.uniform(1.5, 3.0)
    return resize_by(img, f, Image.BICUBIC)


def _colour(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    img = ImageEnhance.Brightness(img.convert("RGB")).enhance(rng.uniform(0.75, 1.25))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.7, 1.3))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.3, 1.7))
    return shift_channels(img, rng, 20)


def _combined(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    return _jpeg(_colour(_rotate(_crop(img, rng), rng), rng), rng)


#: The attacks a copier applies, at the study's resolution.
ATTACKS: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "crop": _crop, "rotate": _rotate, "watermark": _watermark, "jpeg": _jpeg, "scale": _scale,
    "flip": lambda img, rng: ImageOps.mirror(img), "colour": _colour, "combined": _combined,
}


def _grey(img: Image.Image, side: int = 64) -> np.ndarray:
    g = np.asarray(img.convert("L").resize((side, side), Image.BILINEAR), dtype=np.float64).ravel()
    g = g - g.mean()
    return g / (np.linalg.norm(g) or 1.0)


def plain_correlation(a: Image.Image, b: Image.Image) -> float:
    """Grey-level correlation at 64 px, no alignment; the larger over b and its mirror image."""
    ga = _grey(a)
    return float(max(ga @ _grey(b), ga @ _grey(ImageOps.mirror(b))))


#: The grid of stage-two thresholds tabulated: RANSAC inliers x aligned correlation.
INLIER_GRID = (4, 6, 8, 10, 12, 15, 20)
CORRELATION_GRID = (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def choose(rows: Sequence[dict[str, Any]], max_fpr: float) -> dict[str, Any] | None:
    """Among grid points with per-query FPR ≤ ``max_fpr``: the highest worst-attack recall, then the
    highest mean recall, then the lowest FPR (None when no point qualifies)."""
    ok = [r for r in rows if r["query_fpr"] <= max_fpr]
    if not ok:
        return None
    return max(ok, key=lambda r: (min(r["recall_by_attack"].values()), r["recall"], -r["query_fpr"],
                                  -r["inliers"], -r["correlation"]))


def _passes(scores: np.ndarray, i: int, c: float) -> np.ndarray:
    return (scores[:, 0] >= i) & (scores[:, 1] >= c)


@dataclass
class MatcherCalibration:
    rows: list[dict[str, Any]]              # one per (inliers, correlation) grid point
    chosen: dict[str, Any] | None
    candidate_recall: dict[str, float]      # attack -> share of copies whose original was a candidate
    n_registered: int
    n_unrelated: int
    n_copies_per_attack: int
    pairs: int                              # (unrelated, registered) pairs, twins excluded
    twins: int                              # pairs set apart as the same picture
    unrelated_with_twin: int
    growth: list[dict[str, Any]]            # per-query FPR at the chosen point on registry subsets
    max_fpr: float
    source: str
    settings: dict[str, Any] = field(default_factory=dict)

    def at(self, inliers: int, correlation: float) -> dict[str, Any]:
        return next(r for r in self.rows if r["inliers"] == inliers and r["correlation"] == correlation)

    def extrapolate(self, row: dict[str, Any], registry_size: int) -> dict[str, Any]:
        """Expected false pairs per query on a registry of ``registry_size`` works: per-pair FPR × N; with
        no false pair observed, the rule-of-three 95% upper bound 3/pairs × N."""
        observed = row["false_pairs"] > 0
        rate = row["pair_fpr"] if observed else 3.0 / self.pairs
        return {"registry_size": registry_size, "per_pair_fpr": rate, "bound": not observed,
                "false_pairs_per_query": rate * registry_size,
                "query_fpr": 1.0 - (1.0 - rate) ** registry_size}

    def to_dict(self) -> dict[str, Any]:
        return {"method": "pHash candidates + SIFT/RANSAC + aligned correlation", "source": self.source,
                "n_registered": self.n_registered, "n_unrelated": self.n_unrelated,
                "n_copies_per_attack": self.n_copies_per_attack, "pairs": self.pairs, "twins": self.twins,
                "unrelated_with_twin": self.unrelated_with_twin, "max_fpr": self.max_fpr, "chosen": self.chosen,
                "candidate_recall": self.candidate_recall, "settings": self.settings, "growth": self.growth,
                "extrapolation": [self.extrapolate(self.chosen, n) for n in REGISTRY_SIZES] if self.chosen else [],
                "rows": self.rows}


def calibrate_matcher(registered: Sequence[Image.Image], unrelated: Sequence[Image.Image], matcher: Matcher, *,
                      attacks: Sequence[str], max_fpr: float, twin_min_correlation: float, seed: int,
                      source: str = "images") -> MatcherCalibration:
    """Tabulate recall per attack and false-positive rates over the stage-two threshold grid."""
    check_inputs("attack", attacks, ATTACKS, registered, unrelated)
    rng = np.random.default_rng(seed)
    refs = reference_set([f"r{i}" for i in range(len(registered))], registered)
    own: dict[str, np.ndarray] = {}
    for name in attacks:
        rows = []
        for i, img in enumerate(registered):
            s = matcher.scores(ATTACKS[name](img, rng), refs).get(i, "missed")
            rows.append((-1, -2.0) if s == "missed" else (s.inliers, s.correlation))
        own[name] = np.array(rows, dtype=float)
    pair_rows, twins, with_twin = [], 0, 0   # (query, position, inliers, correlation) of non-twin pairs
    for q, img in enumerate(unrelated):
        twin_here = False
        for pos, s in matcher.scores(img, refs).items():
            if plain_correlation(img, registered[pos]) >= twin_min_correlation:
                twins += 1
                twin_here = True
            elif s is not None:
                pair_rows.append((q, pos, s.inliers, s.correlation))
        with_twin += twin_here
    pairs = len(unrelated) * len(registered) - twins
    pr = np.array(pair_rows, dtype=float).reshape(-1, 4)
    table = []
    for i in INLIER_GRID:
        for c in CORRELATION_GRID:
            false = _passes(pr[:, 2:], i, c)
            by = {a: float(np.mean(_passes(v, i, c))) for a, v in own.items()}
            table.append({"inliers": i, "correlation": c, "recall": float(np.mean(list(by.values()))),
                          "recall_by_attack": by, "query_fpr": len(set(pr[false, 0])) / len(unrelated),
                          "false_pairs": int(false.sum()), "pair_fpr": float(false.sum()) / pairs})
    chosen = choose(table, max_fpr)
    growth = []
    if chosen is not None:
        false = _passes(pr[:, 2:], chosen["inliers"], chosen["correlation"])
        for n in sorted({max(1, len(registered) // d) for d in (8, 4, 2, 1)}):
            hit = set(pr[false & (pr[:, 1] < n), 0])
            growth.append({"registry_size": n, "query_fpr": len(hit) / len(unrelated)})
    return MatcherCalibration(table, chosen, {a: float(np.mean(v[:, 0] >= 0)) for a, v in own.items()},
                              len(registered), len(unrelated), len(registered), pairs, twins, with_twin, growth,
                              max_fpr, source, matcher.settings())


def record_matcher_calibration(ledger: Any, result: MatcherCalibration) -> Any:
    """Enter the matcher's calibration (a :class:`governance.ledger.Ledger` entry of kind ``copy_calibration``)
    so the report can show where the stage-two thresholds came from."""
    return ledger.append("copy_calibration", result.to_dict())

"""Calibrating the two-stage copy matcher at the study's resolution: recall on copies, FPR on other works,
with thresholds fitted on one split of works and rates measured on another.

Paper section 6.2, *ownership attribution*: a "copyright violation flag" means something only when its
error rates are known. The matcher (:mod:`governance.copymatch`: pHash candidates, then SIFT + RANSAC and
the aligned evidence of :mod:`governance.copy_evidence`, fused by :mod:`governance.copy_fusion`) is
measured on images the caller supplies — the study's stage and ``benchmarks/bench_copy_match.py`` supply
the procedural corpus at 64 px; governance never imports the painter:

1. *registered works* and *unrelated works*: two disjoint lists of images of the same corpus, each split
   by position into a **calibration split** (even positions) and a **test split** (odd positions); each
   split has its own registry (its registered works) and its own queries;
2. *copies*: every registered work under each attack of :data:`ATTACKS` (crop, rotation by 7-10 degrees,
   watermark text, JPEG, rescaling, mirroring, colour shift, and crop + rotation + colour + JPEG at once);
   **recall** per attack = share of copies whose own original is among the candidates *and* whose fused
   P(copy) reaches the threshold;
3. *false positives*: each unrelated work is queried against its split's registered works; a **false
   pair** is an (unrelated, registered) pair that passes both stages. **Per-query FPR** = share of
   unrelated works with at least one false pair (each would be held); **per-pair FPR** = false pairs / all
   pairs (unrelated × registered). Pairs that are the *same picture* by construction — the procedural
   painter renders some motifs nearly identically under different seeds — are *twins*, not unrelated
   works: a pair whose plain grey-level correlation at 64 px (no alignment) is at least
   ``twin_min_correlation`` is counted apart and reported, never silently dropped;
4. **fit and rule** (:func:`calibrate_matcher`, :func:`choose`): the logistic regression is fitted on the
   calibration split's pairs, and its threshold chosen there: among :data:`THRESHOLDS` whose calibration
   per-query FPR ≤ ``max_fpr``, the best worst-attack recall, then the best mean recall. Every rate
   quoted as *the* result is the test split's, at that threshold;
5. **extrapolation to a registry of N works** (test split): the expected number of false pairs per query
   is per-pair FPR × N (when no false pair was seen, the rule of three gives a 95% upper bound of
   3 / pairs examined); the per-query FPR is also measured on registries of growing size (subsets of the
   test registry, with the candidates found in the whole of it, so for the smaller sizes it is a lower
   bound), so its growth is shown, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from governance.calibration import check_inputs, crop_margins, recompress_jpeg, resize_by, shift_channels
from governance.copy_fusion import Fusion, fit, matrix
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


#: Fused P(copy) thresholds tabulated (the rule chooses among them on the calibration split).
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999)


def choose(rows: Sequence[dict[str, Any]], max_fpr: float) -> dict[str, Any] | None:
    """Among thresholds whose per-query FPR *on the calibration split* is ≤ ``max_fpr``: the highest
    worst-attack recall (calibration split), then the highest mean recall, then the lowest FPR, then the
    higher threshold (None when no threshold qualifies)."""
    ok = [r for r in rows if r["calibration"]["query_fpr"] <= max_fpr]
    if not ok:
        return None
    return max(ok, key=lambda r: (min(r["calibration"]["recall_by_attack"].values()), r["calibration"]["recall"],
                                  -r["calibration"]["query_fpr"], r["threshold"]))


@dataclass
class SplitData:
    """One split's pairs: each copy's own pair (None: its original was not a candidate) and the
    (unrelated query, candidate) pairs, twins set apart."""
    own: dict[str, list[Any]]
    negatives: list[tuple[int, int, Any]]     # (query, position, (original, mirrored) evidence)
    n_registered: int
    n_unrelated: int
    twins: int = 0
    unrelated_with_twin: int = 0

    @property
    def pairs(self) -> int:
        return self.n_registered * self.n_unrelated - self.twins


def _collect(registered: Sequence[Image.Image], unrelated: Sequence[Image.Image], matcher: Matcher,
             attacks: Sequence[str], twin_min_correlation: float, rng: np.random.Generator, name: str) -> SplitData:
    refs = reference_set([f"{name}{i}" for i in range(len(registered))], registered)
    own: dict[str, list[Any]] = {}
    for attack in attacks:
        own[attack] = []
        for i, img in enumerate(registered):
            copy = ATTACKS[attack](img, rng)
            hit = any(c.index == i for c in matcher.candidates(copy, refs))
            own[attack].append(matcher.evidence(copy, refs, [i])[i] if hit else None)
    data = SplitData(own, [], len(registered), len(unrelated))
    for q, img in enumerate(unrelated):
        twin_here = False
        for pos, pair in matcher.evidence(img, refs).items():
            if plain_correlation(img, registered[pos]) >= twin_min_correlation:
                data.twins += 1
                twin_here = True
            elif pair is not None:
                data.negatives.append((q, pos, pair))
        data.unrelated_with_twin += twin_here
    return data


def _training_rows(data: SplitData) -> tuple[np.ndarray, np.ndarray]:
    """Copies in the orientation with more inliers (the other one is no evidence either way); every
    orientation of every unrelated pair."""
    pos = [max(pair, key=lambda e: (e.inliers, e.correlation)) for v in data.own.values() for pair in v
           if pair is not None]
    neg = [e for _, _, pair in data.negatives for e in pair]
    return matrix(pos), matrix(neg)


def _rates(data: SplitData, fusion: Fusion, threshold: float, registry_size: int | None = None) -> dict[str, Any]:
    def p(pair: Any) -> float:
        return max(fusion.probability(e) for e in pair)
    by = {a: float(np.mean([pair is not None and p(pair) >= threshold for pair in v])) for a, v in data.own.items()}
    false = [(q, pos) for q, pos, pair in data.negatives
             if (registry_size is None or pos < registry_size) and p(pair) >= threshold]
    return {"recall": float(np.mean(list(by.values()))), "recall_by_attack": by,
            "query_fpr": len({q for q, _ in false}) / data.n_unrelated, "false_pairs": len(false),
            "pair_fpr": len(false) / data.pairs if data.pairs else 0.0}


@dataclass
class MatcherCalibration:
    fusion: Fusion                          # fitted on the calibration split (threshold: the chosen one)
    rows: list[dict[str, Any]]              # per threshold: calibration and test rates
    chosen: dict[str, Any] | None
    candidate_recall: dict[str, float]      # attack -> share of test copies whose original was a candidate
    calibration: SplitData
    test: SplitData
    growth: list[dict[str, Any]]            # test per-query FPR at the chosen threshold on registry subsets
    max_fpr: float
    source: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_copies_per_attack(self) -> int:
        return self.test.n_registered

    def at(self, threshold: float) -> dict[str, Any]:
        return next(r for r in self.rows if r["threshold"] == threshold)

    def extrapolate(self, row: dict[str, Any], registry_size: int) -> dict[str, Any]:
        """Expected false pairs per query on a registry of ``registry_size`` works, from the *test* split:
        per-pair FPR × N; with no false pair observed, the rule-of-three 95% upper bound 3/pairs × N."""
        t = row["test"]
        observed = t["false_pairs"] > 0
        rate = t["pair_fpr"] if observed else 3.0 / max(self.test.pairs, 1)
        return {"registry_size": registry_size, "per_pair_fpr": rate, "bound": not observed,
                "false_pairs_per_query": rate * registry_size,
                "query_fpr": 1.0 - (1.0 - rate) ** registry_size}

    def to_dict(self) -> dict[str, Any]:
        def split(d: SplitData) -> dict[str, Any]:
            return {"n_registered": d.n_registered, "n_unrelated": d.n_unrelated, "pairs": d.pairs,
                    "twins": d.twins, "unrelated_with_twin": d.unrelated_with_twin}
        return {"method": "pHash candidates + SIFT/RANSAC + aligned evidence fused by logistic regression",
                "source": self.source, "split": "works alternate: even positions calibrate, odd positions test",
                "calibration": split(self.calibration), "test": split(self.test),
                "n_registered": self.test.n_registered, "n_unrelated": self.test.n_unrelated,
                "n_copies_per_attack": self.n_copies_per_attack, "pairs": self.test.pairs,
                "twins": self.test.twins, "unrelated_with_twin": self.test.unrelated_with_twin,
                "max_fpr": self.max_fpr, "chosen": self.chosen, "fusion": self.fusion.to_dict(),
                "candidate_recall": self.candidate_recall, "settings": self.settings, "growth": self.growth,
                "extrapolation": [self.extrapolate(self.chosen, n) for n in REGISTRY_SIZES] if self.chosen else [],
                "rows": self.rows}


def calibrate_matcher(registered: Sequence[Image.Image], unrelated: Sequence[Image.Image], matcher: Matcher, *,
                      attacks: Sequence[str], max_fpr: float, twin_min_correlation: float, seed: int,
                      source: str = "images", regularisation: float = 1.0, workers: int = 1) -> MatcherCalibration:
    """Fit the fusion and choose its threshold on the calibration split (even positions of ``registered``
    and ``unrelated``), then measure recall per attack and FPR on the test split (odd positions), each
    split with its own registry. The matcher's candidate stage is used as it is; its fusion is not.
    ``workers`` > 1 collects the two splits in two processes."""
    check_inputs("attack", attacks, ATTACKS, registered, unrelated)
    if len(registered) < 2 or len(unrelated) < 2:
        raise ValueError("calibration needs at least two registered and two unrelated works (one per split)")
    jobs = [(registered[0::2], unrelated[0::2], matcher, attacks, twin_min_correlation,
             np.random.default_rng([seed, 0]), "c"),
            (registered[1::2], unrelated[1::2], matcher, attacks, twin_min_correlation,
             np.random.default_rng([seed, 1]), "t")]
    if workers > 1:   # the two splits are independent: one process each (same result, own random streams)
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2) as pool:
            cal, test = pool.map(_collect, *zip(*jobs))
    else:
        cal, test = (_collect(*job) for job in jobs)
    fusion = fit(*_training_rows(cal), c=regularisation)
    # A row's top-level rates are the test half's (the ones quoted); the calibration half's are kept beside.
    rows = [{"threshold": t, **_rates(test, fusion, t), "calibration": _rates(cal, fusion, t),
             "test": _rates(test, fusion, t)} for t in THRESHOLDS]
    chosen = choose(rows, max_fpr)
    growth = []
    if chosen is not None:
        fusion = fusion.with_threshold(chosen["threshold"])
        for n in sorted({max(1, test.n_registered // d) for d in (8, 4, 2, 1)}):
            growth.append({"registry_size": n, "query_fpr": _rates(test, fusion, chosen["threshold"], n)["query_fpr"]})
    cand = {a: float(np.mean([pair is not None for pair in v])) for a, v in test.own.items()}
    return MatcherCalibration(fusion, rows, chosen, cand, cal, test, growth, max_fpr, source, matcher.settings())


def record_matcher_calibration(ledger: Any, result: MatcherCalibration) -> Any:
    """Enter the matcher's calibration (a :class:`governance.ledger.Ledger` entry of kind ``copy_calibration``)
    so the report can show where the stage-two thresholds came from."""
    return ledger.append("copy_calibration", result.to_dict())


def calibrate_on_corpus(files: Sequence[Any], policy: Any, *, source: str, workers: int = 1) -> MatcherCalibration:
    """The matcher of ``policy.copyright`` calibrated on one corpus's images (``files``, in a fixed order,
    e.g. by item id): the first ``policy.calibration.n_registered`` are registered works, the next
    ``n_unrelated`` unrelated ones (fewer when the corpus is smaller: a quarter at most registered, the
    rest unrelated, stated in the result's N)."""
    c = policy.calibration
    n_reg = min(c.n_registered, max(1, len(files) // 4))
    n_unr = min(c.n_unrelated, len(files) - n_reg)

    def load(paths: Sequence[Any]) -> list[Image.Image]:
        return [Image.open(p).convert("RGB") for p in paths]
    return calibrate_matcher(load(files[:n_reg]), load(files[n_reg:n_reg + n_unr]),
                             Matcher.from_policy(policy.copyright), attacks=list(ATTACKS), max_fpr=c.max_fpr,
                             twin_min_correlation=c.twin_min_correlation, seed=c.seed, source=source,
                             workers=workers)

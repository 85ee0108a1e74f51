"""Two-stage copy matching: pHash candidates (:mod:`governance.candidates`), SIFT/RANSAC verification
(:mod:`governance.copy_verify`, :mod:`governance.copy_evidence`), fused into one probability
(:mod:`governance.copy_fusion`).

Paper section 6.2, *ownership attribution*. :class:`Matcher` holds the settings (from the policy's
``copyright`` section): the query is hashed in its original orientation, mirrored, median-filtered
(against overlaid text) and rotated by ``±query_rotation`` degrees (so a rotated copy still lands near its original); the ``candidates`` nearest
works (and all within ``candidate_max_distance`` bits) are verified; a candidate whose image is not
available (a registry that lists only hashes) cannot be verified and is judged by its pHash distance
alone against ``registry_max_distance`` — said so in its result (``verified: False``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from governance.candidates import Candidate, References, candidates
from governance.copy_evidence import Evidence
from governance.copy_fusion import Fusion
from governance.copy_verify import FeatureCache, evidence, query_features
from governance.hash_index import HashIndex
from governance.phash import phash

#: Share of each side kept by the centred crop whose hash is indexed next to a work's own.
CROP_KEEP = 0.8
#: Median filter (pixels) of the query's extra hash variants: it erases strokes one or two pixels thin —
#: overlaid watermark text at 64 px — and keeps the masses pHash looks at. Measured on the study's painter
#: at 64 px (500 registered works, the watermark attack of copy_calibration): watermarked copies among the
#: 16 nearest rose from 90.6% to 93.8% (the "candidate" column of benchmarks/bench_copy_match.py).
MEDIAN_SIZE = 3


@dataclass(frozen=True)
class Verified:
    position: int
    id: str
    distance: int        # pHash bits (stage one)
    inliers: int         # RANSAC inliers (stage two); -1 when not verifiable
    correlation: float   # aligned grey-level correlation (stage two); -1 when not verifiable
    variant: str
    verified: bool       # False: no image on file, decided by the hash alone
    copy: bool
    probability: float = -1.0      # stage two's fused P(copy) (copy_fusion.py); -1 when not verifiable
    block_agreement: float = -1.0  # share of textured blocks that agree once aligned (copy_evidence.py)
    coverage: float = -1.0         # inliers' hull over the overlap


def _rotated(img: Image.Image, angle: float) -> Image.Image:
    fill = tuple(int(c) for c in np.median(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0))
    return img.convert("RGB").rotate(angle, resample=Image.BICUBIC, fillcolor=fill)


def centre_crop(img: Image.Image, keep: float = CROP_KEEP) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
    return img.crop((dx, dy, w - dx, h - dy))


def query_hashes(img: Image.Image, rotation: float) -> dict[str, int]:
    """pHashes of the query: as it is, mirrored, median-filtered (both orientations) and rotated by
    ``±rotation`` degrees."""
    smooth = img.convert("RGB").filter(ImageFilter.MedianFilter(MEDIAN_SIZE))
    out = {"original": phash(img), "hflip": phash(ImageOps.mirror(img)), "median": phash(smooth),
           "median-hflip": phash(ImageOps.mirror(smooth))}
    if rotation:
        out.update({f"rot{s}{rotation:g}": phash(_rotated(img, sign * rotation))
                    for s, sign in (("+", 1), ("-", -1))})
    return out


def expand(refs: References) -> References:
    """Index each work's centred crop too (when its image is available), for cropped copies."""
    hashes, owners = [], []
    for pos in range(len(refs)):
        img = refs.image(pos)
        if img is not None:
            hashes.append(phash(centre_crop(img)))
            owners.append(pos)
    if hashes:
        refs.add_hashes(np.array(hashes, dtype=np.uint64), np.array(owners))
    return refs


def reference_set(ids: Sequence[str], images: Sequence[Image.Image], source: str = "images") -> References:
    """References held in memory (calibration, tests), expanded with their centred crops."""
    imgs = list(images)
    refs = References(HashIndex(np.array([phash(i) for i in imgs], dtype=np.uint64), list(ids)),
                      load=lambda pos: imgs[pos], source=source)
    return expand(refs)


def _image_files(refs: References) -> list | None:
    """The reference's image files when its images are read from them (their keypoints are then kept on
    disk: governance.keypoint_store); None when the images come from elsewhere (held in memory)."""
    return refs.files if refs._load == refs._load_file else None


class Matcher:
    """Stage one then stage two, with the policy's settings; reference features are cached per set."""

    def __init__(self, *, k: int, radius: int, fusion: Fusion, rotation: float, hash_only_max_distance: int,
                 index: str = "numpy"):
        self.k, self.radius, self.fusion, self.index = k, radius, fusion, index
        self.rotation, self.hash_only_max_distance = rotation, hash_only_max_distance
        self._caches: dict[int, FeatureCache] = {}

    @classmethod
    def from_policy(cls, policy: Any) -> "Matcher":
        """``policy`` is a :class:`governance.policy.CopyrightPolicy`."""
        f = policy.fusion
        return cls(k=policy.candidates, radius=policy.candidate_max_distance,
                   fusion=Fusion(dict(f.weights), f.bias, f.threshold), rotation=policy.query_rotation,
                   hash_only_max_distance=policy.registry_max_distance, index=policy.candidate_index)

    def settings(self) -> dict[str, Any]:
        return {"candidates": self.k, "candidate_max_distance": self.radius, "query_rotation": self.rotation,
                "candidate_index": self.index, "fusion": self.fusion.to_dict()}

    def _cache(self, refs: References) -> FeatureCache:
        if id(refs) not in self._caches:
            self._caches[id(refs)] = FeatureCache(refs.image, _image_files(refs))
        return self._caches[id(refs)]

    def candidates(self, image: Image.Image, refs: References) -> list[Candidate]:
        return candidates(refs, query_hashes(image.convert("RGB"), self.rotation), k=self.k, radius=self.radius,
                          index=self.index)

    def evidence(self, image: Image.Image, refs: References,
                 positions: Sequence[int] | None = None) -> dict[int, tuple[Evidence, Evidence] | None]:
        """``{position: (original, mirrored) evidence}`` for every candidate (or for ``positions``);
        ``None`` for a reference without an image."""
        image = image.convert("RGB")
        if positions is None:
            positions = [c.index for c in self.candidates(image, refs)]
        qf = query_features(image) if positions else None
        cache = self._cache(refs)
        out: dict[int, tuple[Evidence, Evidence] | None] = {}
        for pos in positions:
            ref = cache.get(pos)
            out[pos] = evidence(qf, ref) if ref is not None and qf is not None else None
        return out

    def best(self, pair: tuple[Evidence, Evidence]) -> tuple[float, Evidence]:
        """The orientation the fusion finds likelier a copy, with its probability."""
        return max(((self.fusion.probability(e), e) for e in pair), key=lambda pe: pe[0])

    def match(self, image: Image.Image, refs: References, hash_only_max_distance: int | None = None
              ) -> list[Verified]:
        """Every candidate with its verdict, copies first (likeliest first), then the rest by distance.
        A candidate without an image is a copy when within ``hash_only_max_distance`` bits (default: the
        matcher's)."""
        hash_max = self.hash_only_max_distance if hash_only_max_distance is None else hash_only_max_distance
        cands = self.candidates(image, refs)
        ev = self.evidence(image, refs, [c.index for c in cands])
        out = []
        for c in cands:
            pair = ev[c.index]
            if pair is None:
                out.append(Verified(c.index, c.id, c.distance, -1, -1.0, c.variant, False,
                                    c.distance <= hash_max))
                continue
            p, e = self.best(pair)
            out.append(Verified(c.index, c.id, c.distance, e.inliers, round(e.correlation, 4), e.variant, True,
                                p >= self.fusion.threshold, round(p, 4), e.block_agreement, e.coverage))
        return sorted(out, key=lambda v: (not v.copy, -v.probability, v.distance, v.position))

"""Two-stage copy matching: pHash candidates (:mod:`governance.candidates`), SIFT/RANSAC verification
(:mod:`governance.copy_verify`).

Paper section 6.2, *ownership attribution*. :class:`Matcher` holds the settings (from the policy's
``copyright`` section): the query is hashed in its original orientation, mirrored, and rotated by
``±query_rotation`` degrees (so a rotated copy still lands near its original); the ``candidates`` nearest
works (and all within ``candidate_max_distance`` bits) are verified; a candidate whose image is not
available (a registry that lists only hashes) cannot be verified and is judged by its pHash distance
alone against ``registry_max_distance`` — said so in its result (``verified: False``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageOps

from governance.candidates import References, candidates
from governance.copy_verify import NO_MATCH, FeatureCache, Score, query_features, score
from governance.hash_index import HashIndex
from governance.phash import phash

#: Share of each side kept by the centred crop whose hash is indexed next to a work's own.
CROP_KEEP = 0.8


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


def _rotated(img: Image.Image, angle: float) -> Image.Image:
    fill = tuple(int(c) for c in np.median(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0))
    return img.convert("RGB").rotate(angle, resample=Image.BICUBIC, fillcolor=fill)


def centre_crop(img: Image.Image, keep: float = CROP_KEEP) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
    return img.crop((dx, dy, w - dx, h - dy))


def query_hashes(img: Image.Image, rotation: float) -> dict[str, int]:
    out = {"original": phash(img), "hflip": phash(ImageOps.mirror(img))}
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


class Matcher:
    """Stage one then stage two, with the policy's settings; reference features are cached per set."""

    def __init__(self, *, k: int, radius: int, min_inliers: int, min_correlation: float, rotation: float,
                 hash_only_max_distance: int):
        self.k, self.radius, self.min_inliers, self.min_correlation = k, radius, min_inliers, min_correlation
        self.rotation, self.hash_only_max_distance = rotation, hash_only_max_distance
        self._caches: dict[int, FeatureCache] = {}

    @classmethod
    def from_policy(cls, policy: Any) -> "Matcher":
        """``policy`` is a :class:`governance.policy.CopyrightPolicy`."""
        return cls(k=policy.candidates, radius=policy.candidate_max_distance, min_inliers=policy.verify_min_inliers,
                   min_correlation=policy.verify_min_correlation, rotation=policy.query_rotation, hash_only_max_distance=policy.registry_max_distance)

    def settings(self) -> dict[str, Any]:
        return {"candidates": self.k, "candidate_max_distance": self.radius, "verify_min_inliers": self.min_inliers,
                "verify_min_correlation": self.min_correlation, "query_rotation": self.rotation}

    def _cache(self, refs: References) -> FeatureCache:
        if id(refs) not in self._caches:
            self._caches[id(refs)] = FeatureCache(refs.image)
        return self._caches[id(refs)]

    def scores(self, image: Image.Image, refs: References) -> dict[int, Score | None]:
        """``{position: Score}`` for every candidate; ``None`` for a candidate without an image."""
        image = image.convert("RGB")
        cands = candidates(refs, query_hashes(image, self.rotation), k=self.k, radius=self.radius)
        qf = query_features(image)
        cache = self._cache(refs)
        out: dict[int, Score | None] = {}
        for c in cands:
            ref = cache.get(c.index)
            out[c.index] = score(qf, ref) if ref is not None else None
        return out

    def match(self, image: Image.Image, refs: References, hash_only_max_distance: int | None = None
              ) -> list[Verified]:
        """Every candidate with its verdict, copies first (most inliers first), then the rest by distance.
        A candidate without an image is a copy when within ``hash_only_max_distance`` bits (default: the
        matcher's)."""
        hash_max = self.hash_only_max_distance if hash_only_max_distance is None else hash_only_max_distance
        image = image.convert("RGB")
        cands = candidates(refs, query_hashes(image, self.rotation), k=self.k, radius=self.radius)
        qf = query_features(image) if cands else None
        cache = self._cache(refs)
        out = []
        for c in cands:
            ref = cache.get(c.index)
            if ref is None:
                out.append(Verified(c.index, c.id, c.distance, -1, -1.0, c.variant, False,
                                    c.distance <= hash_max))
                continue
            s = score(qf, ref) if qf is not None else NO_MATCH
            out.append(Verified(c.index, c.id, c.distance, s.inliers, round(s.correlation, 4), s.variant, True,
                                s.passes(self.min_inliers, self.min_correlation)))
        return sorted(out, key=lambda v: (not v.copy, -v.inliers, v.distance, v.position))

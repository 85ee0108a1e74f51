"""Stage two of copy matching: SIFT keypoints matched under one geometric transform (RANSAC).

Paper section 6.2, *ownership attribution*. A candidate from the pHash index (:mod:`governance.candidates`)
is a *copy* of the query when the two images share many local features that one similarity transform
(rotation, uniform scale, translation: :func:`cv2.estimateAffinePartial2D`) maps onto each other — the
geometric verification of Lowe (2004, "Distinctive image features from scale-invariant keypoints",
section 7: Lowe's ratio test, then a pose consistent with enough matches) with RANSAC (Fischler & Bolles
1981). A crop, a rotation, a rescale, a watermark over part of the picture or a JPEG re-encoding keep most
keypoints and one transform explains them; a look-alike — another painting of the same motif — shares
texture but no consistent pose. The score is the number of RANSAC inliers over the two orientations of
the query (a mirrored copy is a copy); the threshold (``copyright.verify_min_inliers``) comes from the
calibration (:mod:`governance.calibration`).

At the study's 64 px a painting has too few pixels for SIFT's smallest scale, so both images are resized
to ``WORK_SIDE`` (bicubic) before detection: interpolation adds no content, it only lets the detector's
scale space resolve the strokes that are there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

#: Side, in pixels, both images are resized to before keypoint detection (see the module doc).
WORK_SIDE = 256
#: Lowe's ratio test: a match is kept when its distance is below this share of the second-best one.
RATIO = 0.8
#: RANSAC reprojection threshold in pixels at WORK_SIDE (1.5 px at 64 px).
REPROJ_PX = 6.0

_SIFT = cv2.SIFT_create()
_MATCHER = cv2.BFMatcher(cv2.NORM_L2)


@dataclass(frozen=True)
class Features:
    points: np.ndarray            # n x 2 keypoint coordinates
    descriptors: np.ndarray | None

    def __len__(self) -> int:
        return 0 if self.descriptors is None else len(self.descriptors)


def features(image: Image.Image) -> Features:
    """SIFT keypoints of ``image`` (grey, resized to WORK_SIDE squared)."""
    grey = np.asarray(image.convert("L"))
    grey = cv2.resize(grey, (WORK_SIDE, WORK_SIDE), interpolation=cv2.INTER_CUBIC)
    kps, desc = _SIFT.detectAndCompute(grey, None)
    return Features(np.float32([k.pt for k in kps]).reshape(-1, 2), desc)


@dataclass(frozen=True)
class QueryFeatures:
    """Features of a query in both orientations."""
    original: Features
    hflip: Features


def query_features(image: Image.Image) -> QueryFeatures:
    return QueryFeatures(features(image), features(ImageOps.mirror(image)))


def inliers(query: Features, ref: Features) -> int:
    """RANSAC inliers of the best similarity transform from ``query`` to ``ref`` keypoints (0 when fewer
    than three matches pass the ratio test)."""
    if len(query) < 3 or len(ref) < 3:
        return 0
    pairs = _MATCHER.knnMatch(query.descriptors, ref.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return 0
    src = query.points[[m.queryIdx for m in good]]
    dst = ref.points[[m.trainIdx for m in good]]
    model, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJ_PX,
                                              maxIters=2000, confidence=0.99, refineIters=10)
    return 0 if model is None or mask is None else int(mask.sum())


def score(query: QueryFeatures, ref: Features) -> tuple[int, str]:
    """The verification score of a candidate: best inlier count over the query's orientations."""
    a, b = inliers(query.original, ref), inliers(query.hflip, ref)
    return (a, "original") if a >= b else (b, "hflip")


class FeatureCache:
    """Reference features computed once per reference (a reference set is queried many times)."""

    def __init__(self, load: Any) -> None:
        self._load = load  # position -> PIL image or None
        self._cache: dict[int, Features | None] = {}

    def get(self, position: int) -> Features | None:
        if position not in self._cache:
            image = self._load(position)
            self._cache[position] = None if image is None else features(image)
        return self._cache[position]

"""Stage two of copy matching: SIFT keypoints matched under one geometric transform (RANSAC).

Paper section 6.2, *ownership attribution*. A candidate from the pHash index (:mod:`governance.candidates`)
is a *copy* of the query when the two images share many local features that one similarity transform
(rotation, uniform scale, translation: :func:`cv2.estimateAffinePartial2D`) maps onto each other — the
geometric verification of Lowe (2004, "Distinctive image features from scale-invariant keypoints",
section 7: Lowe's ratio test, then a pose consistent with enough matches) with RANSAC (Fischler & Bolles
1981). A crop, a rotation, a rescale, a watermark over part of the picture or a JPEG re-encoding keep most
keypoints and one transform explains them; a look-alike — another painting of the same motif — shares
texture but no consistent pose. The procedural corpus also reuses whole motifs (the same cabbage outline,
the same figure in another robe) across unrelated paintings, so shared keypoints are not enough: the
query is warped onto the candidate by the RANSAC transform and the two are compared as whole pictures
(:mod:`governance.copy_evidence`), for both orientations of the query (a mirrored copy is a copy); the
evidence is fused into one probability by :mod:`governance.copy_fusion`, fitted and thresholded by the
calibration (:mod:`governance.copy_calibration`).

At the study's 64 px a painting has too few pixels for SIFT's smallest scale, so both images are resized
to ``WORK_SIDE`` (bicubic) before detection: interpolation adds no content, it only lets the detector's
scale space resolve the strokes that are there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

from governance.copy_evidence import NO_EVIDENCE, Evidence, ink, measure
from governance.keypoint_store import keypoints

#: Side, in pixels, both images are resized to before keypoint detection (see the module doc).
WORK_SIDE = 256
#: Side of the opponent-colour image (colour varies slowly: the study's own resolution is enough).
CHROMA_SIDE = 64
#: Lowe's ratio test: a match is kept when its distance is below this share of the second-best one.
RATIO = 0.8
#: RANSAC reprojection threshold in pixels at WORK_SIDE (1.5 px at 64 px).
REPROJ_PX = 6.0
#: Gaussian smoothing (pixels at WORK_SIDE) before the aligned correlation: JPEG blocks and resampling
#: differ pixel by pixel, the picture does not.
SMOOTH_SIGMA = 2.0

#: Gaussian smoothing (pixels at CHROMA_SIDE) of the colour image the residual is measured on: a JPEG's
#: 8 x 8 blocks and chroma subsampling are noise at this scale, a robe painted another colour is not.
RESIDUAL_SIGMA = 1.0

_SIFT = cv2.SIFT_create()
_MATCHER = cv2.BFMatcher(cv2.NORM_L2)


@dataclass(frozen=True)
class Features:
    points: np.ndarray            # n x 2 keypoint coordinates
    descriptors: np.ndarray | None
    grey: np.ndarray              # WORK_SIDE x WORK_SIDE float32, smoothed: for the aligned correlation
    hsv: np.ndarray               # WORK_SIDE x WORK_SIDE x 3 uint8 (OpenCV HSV): for the colour agreement
    chroma: np.ndarray            # CHROMA_SIDE squared x 2 float32 opponent colours (R-G, (R+G)/2-B)
    ink: np.ndarray               # WORK_SIDE x WORK_SIDE bool: ink strokes (copy_evidence.ink)
    rgb: np.ndarray               # CHROMA_SIDE squared x 3 float32, smoothed: for the colour residual

    def __len__(self) -> int:
        return 0 if self.descriptors is None else len(self.descriptors)


def sift(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """SIFT keypoint coordinates (n x 2 float32) and descriptors of a WORK_SIDE grey image."""
    kps, desc = _SIFT.detectAndCompute(grey, None)
    return np.float32([k.pt for k in kps]).reshape(-1, 2), desc


def features(image: Image.Image, image_file: Any = None) -> Features:
    """SIFT keypoints of ``image`` (grey, resized to WORK_SIDE squared), its smoothed grey levels and HSV.
    ``image_file``: the file ``image`` was read from, whose keypoints :mod:`governance.keypoint_store` keeps
    (the same numbers, detected once)."""
    rgb = cv2.resize(np.asarray(image.convert("RGB")), (WORK_SIDE, WORK_SIDE), interpolation=cv2.INTER_CUBIC)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if image_file is None:
        points, desc = sift(grey)
    else:
        points, desc = keypoints(image_file, lambda: sift(grey))
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), SMOOTH_SIGMA)
    c = rgb.astype(np.float32)
    chroma = np.dstack([c[..., 0] - c[..., 1], (c[..., 0] + c[..., 1]) / 2 - c[..., 2]])
    chroma = cv2.resize(chroma, (CHROMA_SIDE, CHROMA_SIDE), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(cv2.resize(c, (CHROMA_SIDE, CHROMA_SIDE), interpolation=cv2.INTER_AREA), (0, 0),
                             RESIDUAL_SIGMA)
    return Features(points, desc, smooth,
                    cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), chroma, ink(smooth), small)


@dataclass(frozen=True)
class QueryFeatures:
    """Features of a query in both orientations."""
    original: Features
    hflip: Features


def query_features(image: Image.Image) -> QueryFeatures:
    return QueryFeatures(features(image), features(ImageOps.mirror(image)))


def _pose(query: Features, ref: Features) -> tuple[np.ndarray | None, np.ndarray, int]:
    """The RANSAC similarity from ``query`` to ``ref``, its inliers (in ref coordinates) and the number of
    ratio-test matches it was fitted on."""
    none = np.zeros((0, 2), np.float32)
    if len(query) < 3 or len(ref) < 3:
        return None, none, 0
    pairs = _MATCHER.knnMatch(query.descriptors, ref.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return None, none, len(good)
    src = query.points[[m.queryIdx for m in good]]
    dst = ref.points[[m.trainIdx for m in good]]
    model, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJ_PX,
                                              maxIters=2000, confidence=0.99, refineIters=10)
    if model is None or mask is None:
        return None, none, len(good)
    return model, dst[mask.ravel().astype(bool)], len(good)


def pair_evidence(query: Features, ref: Features, variant: str = "original") -> Evidence:
    """Every measure of :mod:`governance.copy_evidence` for one orientation of the query."""
    model, inl, n = _pose(query, ref)
    if model is None:
        return replace(NO_EVIDENCE, matches=n, variant=variant)
    return measure(query, ref, model, inl, n, variant)


def evidence(query: "QueryFeatures", ref: Features) -> tuple[Evidence, Evidence]:
    """The evidence for both orientations of the query (original, mirrored)."""
    return pair_evidence(query.original, ref, "original"), pair_evidence(query.hflip, ref, "hflip")


class FeatureCache:
    """Reference features computed once per reference (a reference set is queried many times)."""

    def __init__(self, load: Any, files: Any = None) -> None:
        self._load = load  # position -> PIL image or None
        self._files = files  # position -> the image's file (its keypoints kept on disk), or None
        self._cache: dict[int, Features | None] = {}

    def get(self, position: int) -> Features | None:
        if position not in self._cache:
            image = self._load(position)
            file = self._files[position] if self._files is not None else None
            self._cache[position] = None if image is None else features(image, file)
        return self._cache[position]

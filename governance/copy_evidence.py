"""Stage two's evidence: what a candidate pair shows beyond shared keypoints, once the pair is aligned.

Paper section 6.2, *ownership attribution*. The procedural corpus reuses whole motifs (the same cabbage, the
same boat, the same figure in another robe) across unrelated paintings, so many unrelated pairs share a
dozen keypoints that one similarity transform explains — a motif, not a picture. A copy differs from such a
look-alike in *how much* of the picture agrees once the query is warped onto the candidate by the RANSAC
transform (:func:`governance.copy_verify._transform`), so each measure below is taken over the overlap:

* ``inliers``, ``inlier_ratio`` — RANSAC inliers and their share of the ratio-test matches (Lowe 2004 §7);
* ``coverage`` — the area of the inliers' convex hull over the overlap's area: a motif's keypoints sit in
  one part of the picture, a copy's are spread over all of it;
* ``correlation`` — Pearson correlation of the smoothed grey levels, aligned;
* ``block_agreement`` — share of the overlap's textured blocks whose aligned grey levels correlate at least
  :data:`BLOCK_MIN_CORRELATION`: robust to a watermark or a crop (a few blocks disagree) yet low for a
  look-alike (only the motif's blocks agree) — a local normalised cross-correlation (Lewis 1995, "Fast
  normalized cross-correlation"); ``block_median`` and ``block_conflict`` (share of blocks below
  :data:`BLOCK_CONFLICT`) tell an overlay (blocks still weakly agree) from other content (they do not);
* ``ink_recall``, ``ink_precision`` — the candidate's ink strokes found near the aligned query's, and the
  reverse (a chamfer-style match with :data:`INK_TOLERANCE`): an overlaid watermark adds strokes but
  keeps the candidate's, a look-alike both lacks some and adds others;
* ``chroma_correlation``, ``chroma_energy`` — correlation of the aligned opponent colours (R-G,
  (R+G)/2-B), unchanged by brightness, contrast, saturation and channel shifts (the colour attacks) but
  not by a robe painted another colour, and how much colour the candidate has for it to mean anything;
* ``colour_agreement`` — histogram intersection of the aligned colour (hue/saturation) over the overlap,
  and ``low_frequency`` — correlation of the 8 x 8 lowest DCT coefficients of the aligned grey picture
  (the layout, as in pHash, but after alignment so rotation and crop no longer move it);
* ``colour_unexplained`` — the share of the overlap whose aligned colour no copier's edit explains: the
  query's colours are fitted to the candidate's by the colour attacks' model (one gain, one desaturation,
  an offset per channel — brightness, contrast, saturation and channel shifts are all of this form; least
  squares, refitted without the worst 30% of pixels so an overlay does not bend the fit), and a pixel's
  residual is what remains once it may also be blended toward white or black (an overlaid watermark
  text, a semi-transparent stamp); a pixel is unexplained when that remainder exceeds
  :data:`UNEXPLAINED_LEVELS`. A copy leaves next to nothing unexplained; the same drawing with a robe
  painted another colour, or a tomato where the other has a radish, leaves that region (a brown robe turned
  red does not: the fit explains it as a saturation and channel shift, measured in the calibration);
* ``scale``, ``angle``, ``shift``, ``overlap`` — the transform itself and how much of the candidate it covers.

The fusion of these into one score (logistic regression fitted on a calibration split of works) is
:mod:`governance.copy_fusion`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

#: Side in pixels of the blocks compared by ``block_agreement`` (at the working side of copy_verify).
BLOCK = 32
#: A block agrees when its aligned grey levels correlate at least this much.
BLOCK_MIN_CORRELATION = 0.5
#: A block is textured (counted) when the candidate's grey levels vary by at least this standard deviation.
BLOCK_MIN_STD = 3.0
#: A block counts only when the warped query covers at least this share of it.
BLOCK_MIN_VALID = 0.9
#: A block conflicts (different content, not an overlay) when its correlation is below this.
BLOCK_CONFLICT = 0.2
#: Ink: darker than the local mean (Gaussian, this sigma in pixels at the working side) by this share of
#: the picture's strongest such contrast (relative, so a contrast change does not change what is ink).
INK_SIGMA, INK_SHARE = 8.0, 0.3
#: A stroke is found when the other picture has ink within this many pixels (at the working side).
INK_TOLERANCE = 6
#: A pixel's colour is unexplained when, after the colour fit and the overlay blend, it is still this far
#: (Euclidean, 0-255 RGB levels) from the candidate's.
UNEXPLAINED_LEVELS = 30.0
#: The colour fit's second pass keeps the pixels whose first-pass residual is below this quantile.
COLOUR_FIT_KEEP = 0.7
#: Hue x saturation histogram bins for ``colour_agreement``.
HIST_BINS = (12, 4)
#: DCT coefficients per side kept by ``low_frequency``.
DCT_KEEP = 8


@dataclass(frozen=True)
class Evidence:
    inliers: int
    matches: int
    inlier_ratio: float
    coverage: float
    correlation: float
    block_agreement: float
    colour_agreement: float
    low_frequency: float
    scale: float
    angle: float
    shift: float
    overlap: float
    chroma_correlation: float = -1.0   # aligned correlation of the opponent colour channels
    chroma_energy: float = 0.0         # the candidate's chroma standard deviation over the overlap (0..255)
    ink_recall: float = 0.0            # share of the candidate's ink strokes found in the aligned query
    ink_precision: float = 0.0         # share of the aligned query's ink strokes found in the candidate
    block_median: float = -1.0         # median block correlation
    block_conflict: float = 1.0        # share of blocks whose correlation is below BLOCK_CONFLICT
    colour_unexplained: float = 1.0    # share of the overlap whose colour no colour edit or overlay explains
    variant: str = "original"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NO_EVIDENCE = Evidence(0, 0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 1.0, 0.0, 0.0, 0.0)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))   # elementwise: no BLAS call for one pair
    return float((a * b).sum() / denom) if denom > 0 else -1.0


def _tiles(x: np.ndarray) -> np.ndarray:
    side = x.shape[0] // BLOCK * BLOCK
    n = side // BLOCK
    return x[:side, :side].reshape(n, BLOCK, n, BLOCK).swapaxes(1, 2).reshape(n * n, BLOCK * BLOCK)


def _block_correlations(warped: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Correlation of each textured, covered block (vectorised over the grid of blocks)."""
    w, r, v = _tiles(warped), _tiles(ref), _tiles(valid.astype(np.float32))
    keep = (v.mean(axis=1) >= BLOCK_MIN_VALID) & (r.std(axis=1) >= BLOCK_MIN_STD)
    w, r = w[keep] - w[keep].mean(axis=1, keepdims=True), r[keep] - r[keep].mean(axis=1, keepdims=True)
    denom = np.sqrt((w * w).sum(axis=1) * (r * r).sum(axis=1))
    return np.where(denom > 0, (w * r).sum(axis=1) / np.maximum(denom, 1e-12), -1.0)


def _colour(warped_hsv: np.ndarray, ref_hsv: np.ndarray, valid: np.ndarray) -> float:
    mask = valid.astype(np.uint8)
    ranges = [0, 180, 0, 256]
    h1 = cv2.calcHist([warped_hsv], [0, 1], mask, list(HIST_BINS), ranges)
    h2 = cv2.calcHist([ref_hsv], [0, 1], mask, list(HIST_BINS), ranges)
    s1, s2 = float(h1.sum()), float(h2.sum())
    return float(np.minimum(h1 / s1, h2 / s2).sum()) if s1 > 0 and s2 > 0 else 0.0


def _low_frequency(warped: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> float:
    fill = float(ref[valid].mean()) if valid.any() else 0.0
    a = np.where(valid, warped, fill).astype(np.float32)
    b = np.where(valid, ref, fill).astype(np.float32)
    small = (DCT_KEEP * 4, DCT_KEEP * 4)
    da = cv2.dct(cv2.resize(a, small, interpolation=cv2.INTER_AREA))[:DCT_KEEP, :DCT_KEEP].ravel()[1:]
    db = cv2.dct(cv2.resize(b, small, interpolation=cv2.INTER_AREA))[:DCT_KEEP, :DCT_KEEP].ravel()[1:]
    return _pearson(da.astype(np.float64), db.astype(np.float64))


def _chroma(warped: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    a, b = warped[valid].astype(np.float64), ref[valid].astype(np.float64)
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return (float((a * b).sum() / denom) if denom > 0 else 0.0), float(np.sqrt((b * b).sum(axis=1).mean()))


def _colour_fit(query: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The ref's colours mapped as the colour attacks map them, ``gain * ref + desaturation * grey(ref) +
    offset`` (one offset per channel), fitted by least squares to ``query`` (both n x 3)."""
    n = len(ref)
    grey = ref.mean(axis=1)
    design = np.zeros((3 * n, 5))
    design[:, 0] = ref.T.ravel()
    design[:, 1] = np.tile(grey, 3)
    for c in range(3):
        design[c * n:(c + 1) * n, 2 + c] = 1.0
    target = query.T.ravel()
    keep = np.ones(3 * n, bool)
    for _ in range(2):   # the second pass without the pixels an overlay or new content put far off
        theta = np.linalg.lstsq(design[keep], target[keep], rcond=None)[0]
        fitted = (design @ theta).reshape(3, n).T
        err = np.linalg.norm(query - fitted, axis=1)
        keep = np.tile(err <= np.quantile(err, COLOUR_FIT_KEEP), 3)
    return fitted


def _colour_unexplained(warped: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> float:
    """Share of the valid pixels whose colour neither the colour fit nor a blend toward white or black
    explains (see the module doc)."""
    q, r = warped[valid].astype(np.float64), ref[valid].astype(np.float64)
    if len(q) < 16:
        return 1.0
    fitted = _colour_fit(q, r)
    d = q - fitted
    remainder = np.full(len(q), np.inf)
    for target in (0.0, 255.0):              # an overlay blends toward black or toward white
        u = target - fitted
        alpha = np.clip((d * u).sum(axis=1) / np.maximum((u * u).sum(axis=1), 1e-9), 0.0, 1.0)
        remainder = np.minimum(remainder, np.linalg.norm(d - alpha[:, None] * u, axis=1))
    return float(np.mean(remainder > UNEXPLAINED_LEVELS))


def ink(grey: np.ndarray) -> np.ndarray:
    """Ink strokes: pixels darker than their neighbourhood by INK_SHARE of the picture's strongest contrast."""
    d = cv2.GaussianBlur(grey, (0, 0), INK_SIGMA) - grey
    top = float(np.percentile(d, 99.5))
    return d > max(INK_SHARE * top, 1.0)


def _ink(warped: np.ndarray, ref_ink: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * INK_TOLERANCE + 1, 2 * INK_TOLERANCE + 1))
    q, r = ink(warped) & valid, ref_ink & valid
    near_q = cv2.dilate(q.astype(np.uint8), kernel) > 0
    near_r = cv2.dilate(r.astype(np.uint8), kernel) > 0
    return (float((r & near_q).sum() / r.sum()) if r.sum() else 0.0,
            float((q & near_r).sum() / q.sum()) if q.sum() else 0.0)


def _coverage(points: np.ndarray, overlap_area: float) -> float:
    if len(points) < 3 or overlap_area <= 0:
        return 0.0
    hull = cv2.convexHull(points.astype(np.float32))
    return float(min(1.0, cv2.contourArea(hull) / overlap_area))


def measure(query: Any, ref: Any, model: np.ndarray, inlier_points: np.ndarray, n_matches: int,
            variant: str = "original") -> Evidence:
    """The evidence of one aligned pair. ``query`` and ``ref`` are :class:`governance.copy_verify.Features`;
    ``model`` the 2 x 3 similarity from query to ref; ``inlier_points`` the inliers in ref coordinates."""
    side = ref.grey.shape[::-1]
    warped = cv2.warpAffine(query.grey, model, side, flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones_like(query.grey), model, side, flags=cv2.INTER_NEAREST) > 0.5
    overlap = float(valid.mean())
    scale = float(np.hypot(model[0, 0], model[1, 0]))
    angle = float(np.degrees(np.arctan2(model[1, 0], model[0, 0])))
    shift = float(np.hypot(model[0, 2] + (model[0, 0] - 1) * side[0] / 2 + model[0, 1] * side[1] / 2,
                           model[1, 2] + model[1, 0] * side[0] / 2 + (model[1, 1] - 1) * side[1] / 2) / side[0])
    n = len(inlier_points)
    if overlap < 0.05:
        return Evidence(n, n_matches, n / max(n_matches, 1), 0.0, -1.0, 0.0, 0.0, -1.0, scale, angle, shift,
                        overlap, variant=variant)
    warped_hsv = cv2.warpAffine(query.hsv, model, side, flags=cv2.INTER_LINEAR)
    blocks = _block_correlations(warped, ref.grey, valid)
    f = ref.chroma.shape[0] / side[0]                      # the same transform on the smaller chroma grid
    small = np.hstack([model[:, :2], model[:, 2:] * f])
    csize = ref.chroma.shape[1::-1]
    cvalid = cv2.warpAffine(np.ones(query.chroma.shape[:2], np.float32), small, csize, flags=cv2.INTER_NEAREST) > 0.5
    chroma_corr, chroma_energy = _chroma(cv2.warpAffine(query.chroma, small, csize, flags=cv2.INTER_LINEAR),
                                         ref.chroma, cvalid)
    recall, precision = _ink(warped, ref.ink, valid)
    colour_unexplained = _colour_unexplained(cv2.warpAffine(query.rgb, small, csize, flags=cv2.INTER_LINEAR),
                                             ref.rgb, cvalid)
    return Evidence(
        inliers=n, matches=n_matches, inlier_ratio=n / max(n_matches, 1),
        coverage=_coverage(inlier_points, float(valid.sum())),
        correlation=_pearson(warped[valid].astype(np.float64), ref.grey[valid].astype(np.float64)),
        block_agreement=float(np.mean(blocks >= BLOCK_MIN_CORRELATION)) if len(blocks) else 0.0,
        colour_agreement=_colour(warped_hsv, ref.hsv, valid),
        low_frequency=_low_frequency(warped, ref.grey, valid),
        scale=scale, angle=angle, shift=shift, overlap=overlap, chroma_correlation=chroma_corr,
        chroma_energy=chroma_energy, ink_recall=recall, ink_precision=precision,
        block_median=float(np.median(blocks)) if len(blocks) else -1.0,
        block_conflict=float(np.mean(blocks < BLOCK_CONFLICT)) if len(blocks) else 1.0,
        colour_unexplained=colour_unexplained, variant=variant)

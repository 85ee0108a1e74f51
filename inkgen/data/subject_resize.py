"""Subject-aware resizing to one training size: the paper's section 2.1, Equations 2-5.

The paper "detects the main area of key content", measures it by its contour polygon area (eq. 2),
and then takes one of three branches:

* subject larger than the target -> crop the subject, scale by ``r = min(tw / w, th / h)`` (eq. 3);
* subject smaller than the target -> scale by ``r`` and fill the edges with
  ``pad_w = (tw - new_w) / 2``, ``pad_h = (th - new_h) / 2`` (eq. 4);
* detection fails -> crop a region centred at ``x' = (img_w - w) / 2``, ``y' = (img_h - h) / 2`` (eq. 5),
  then scale to the target.

How this module reads the places where the paper is silent:

* **Subject detection** (paper: "open-source computer vision libraries"): ink is darker than paper, so
  the image is turned grey, Gaussian-blurred (``blur``, which also merges nearby brush strokes into one
  shape), thresholded with Otsu's method *inverted* (ink -> 255) and its external contours found with
  ``cv2.findContours``. Each contour's area is the shoelace formula of eq. 2,
  ``|sum(x_i y_{i+1} - x_{i+1} y_i)| / 2``, which is exactly ``cv2.contourArea``
  (``tests/test_subject_resize`` checks it against an explicit shoelace). The paper keeps "the main area
  of key content"; a painting's content is often several separate ink masses (a figure, the boats, the
  far mountains), and keeping only the largest would crop away what the caption names. So the subject
  region is the bounding box of every contour whose eq. 2 area reaches ``min_area_fraction`` of the
  image — the largest one always among them — and small specks, seals and paper grain are left out.
* **The paper's edge is not content.** Aged silk and paper darken towards their edges; Otsu then marks
  that band as ink and its ring encloses the whole painting (on the procedural corpus, 138 of ~190
  pre-Qing items in a sample of 600 came out as whole-frame "subjects"). A margin of ``ignore_border``
  of each side is therefore cleared from the ink mask before contours are found; content reaching
  into that margin is kept up to it.
* **Ink is what is darker than the ground, not what is darker than the mean.** On toned silk or aged paper
  with a dark vignette, a global Otsu threshold calls the ground itself ink (on 286 px scans of classical
  landscapes on silk, every subject box was the whole image minus the border band). So the ground is
  estimated first, as a smooth surface: the grey image is area-downsampled to ``ground_grid`` samples on
  its long side, a polynomial of degree ``ground_degree`` in x and y is fitted to the samples by least
  squares, and refitted (up to twelve times) without the samples that lie more than one robust deviation
  (MAD) below the fit: ink only darkens, so what lies below the ground is ink or wash, and the fit climbs
  to the brightest broad population, the bare silk or paper (a rejection at 2.5 deviations left the fit
  among the washes of xieyi landscapes: 108 of 300 procedural items found no subject). Degree 2 holds a
  uniform tone plus a radial vignette (``a - b (x^2 + y^2)``), the low-order model of vignetting
  (background flattening of document images fits the same kind of smooth surface, e.g. Lu, Su & Tan 2010).
  Block percentiles were tried first and rejected: under a strong vignette a block's brightest pixels lie
  on its side towards the centre, so the ground came out ~30 levels too bright at the corners of toned
  silk; with small blocks a wash that fills a block becomes its "ground" (the coloured mountains of gongbi
  landscapes on the procedural corpus). Darkness is then relative, ``d = (ground - grey) / ground`` (ink
  attenuates the light its ground reflects), and a pixel is ink when ``d`` exceeds ``min_ink_contrast``
  and three times the grain (the robust spread of the bare samples about the fit, relative to the ground).
  An Otsu split of ``d`` was tried and rejected: where faint washes are plentiful it splits dark ink from
  faint ink, and the far mountains fall out of the box. ``ground_grid = 0`` is the plain Otsu on grey of
  earlier versions.
* **Detection fails** when the grey image is uniform (Otsu has nothing to split), when there is no
  contour, or when the largest contour covers less than ``min_area_fraction`` of the image (a stray
  speck, a seal, paper texture).
* **"Larger than the target"** means larger in either dimension (``w > tw or h > th``); otherwise the
  subject fits inside the target and is "smaller".
* **Both subject branches keep only the subject box and the aspect ratio.** The larger branch scales
  down by eq. 3's ``r < 1`` (area interpolation, which averages instead of aliasing); the smaller branch
  scales the subject box up by the same ``r >= 1`` (bilinear) so that it fills the target along one side.
  Because ``r`` is a minimum, the other side is at most the target and what remains is filled by eq. 4 in
  both branches, with ``pad_value`` (light grey, like rice paper). Eq. 4's halves are split
  ``floor`` before / ``ceil`` after when the remainder is odd.
* **Centre crop** (eq. 5) needs a crop size ``(w, h)`` that the paper does not give: we take the largest
  region of the target's aspect ratio that fits the image, so the scale to the target is uniform and
  needs no padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BRANCHES = ("crop_scale", "scale_pad", "center_crop")


@dataclass(frozen=True)
class ResizeResult:
    """What eq. 2-5 did to one image.

    ``box`` is the region of the source image that was kept, ``(x, y, w, h)``: the subject's bounding box,
    or the eq. 5 centre crop. ``area`` is the subject contour's eq. 2 area (0 when detection failed).
    ``r`` is the scale applied to the box, ``new_size`` the box's size after scaling, ``pad`` the eq. 4
    fill as ``(left, top, right, bottom)``. ``reason`` says why detection failed (``center_crop`` only).
    """

    branch: str
    box: tuple[int, int, int, int]
    area: float
    r: float
    new_size: tuple[int, int]
    pad: tuple[int, int, int, int]
    reason: str = ""


def _polynomial_terms(x: np.ndarray, y: np.ndarray, degree: int) -> list[np.ndarray]:
    return [x ** a * y ** b for a in range(degree + 1) for b in range(degree + 1 - a)]


def _least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares through the normal equations: the design has a handful of well-scaled columns, and
    einsum avoids a multithreaded BLAS call whose thread start-up cost 11 ms per fit on two busy cores
    (``np.linalg.lstsq`` made the ground estimate 20x slower than the whole plain-Otsu resize)."""
    gram = np.einsum("ni,nj->ij", a, a)
    return np.linalg.solve(gram + 1e-9 * np.eye(len(gram)), np.einsum("ni,n->i", a, b))


def estimate_ground(gray: np.ndarray, grid: int, degree: int, refits: int = 12, reject: float = 1.0
                    ) -> tuple[np.ndarray, float]:
    """The ground (paper or silk tone with its vignetting) under ``gray`` as a float32 H x W surface, and
    the grain: the robust spread of the bare samples about it, relative to the ground's median.

    See the module docstring: a polynomial of ``degree`` fitted to an area-downsampled ``grid``-sample
    copy, refitted without the samples that lie more than ``reject`` robust deviations below the fit.
    """
    h, w = gray.shape
    gx, gy = (grid, max(2, round(grid * h / w))) if w >= h else (max(2, round(grid * w / h)), grid)
    gx, gy = min(gx, w), min(gy, h)
    small = cv2.resize(gray, (gx, gy), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
    # sample centres, in coordinates of [-1, 1] (well conditioned at any size)
    nx = np.tile((np.arange(gx) + 0.5) / gx * 2 - 1, gy)
    ny = np.repeat((np.arange(gy) + 0.5) / gy * 2 - 1, gx)
    design = np.stack(_polynomial_terms(nx, ny, degree), axis=1)
    keep = np.ones(small.size, bool)
    for _ in range(refits):
        coef = _least_squares(design[keep], small[keep])
        resid = small - design @ coef
        spread = 1.4826 * np.median(np.abs(resid[keep])) + 0.5  # MAD; +0.5 level: never zero
        new_keep = resid > -reject * spread  # ink only darkens: drop what lies below the ground
        if new_keep.sum() < max(3 * design.shape[1], small.size // 10) or np.array_equal(new_keep, keep):
            break  # too few bare samples left to fit, or converged
        keep = new_keep
    # evaluate at pixel centres in the same coordinates
    fx = ((np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1)[None, :]
    fy = ((np.arange(h, dtype=np.float32) + 0.5) / h * 2 - 1)[:, None]
    ground = sum(np.float32(c) * t for c, t in zip(coef, _polynomial_terms(fx, fy, degree)))
    ground = np.clip(np.broadcast_to(ground, (h, w)), 1.0, 255.0).astype(np.float32)
    return ground, float(spread / max(1.0, float(np.median(ground))))


def ink_mask(gray: np.ndarray, *, ground_grid: int, ground_degree: int, min_ink_contrast: float
             ) -> np.ndarray:
    """255 where ``gray`` (blurred uint8) is ink, 0 elsewhere (module docstring)."""
    if ground_grid == 0:
        _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        return mask
    ground, grain = estimate_ground(gray, ground_grid, ground_degree)
    darkness = (ground - gray) / ground
    threshold = max(min_ink_contrast, 3.0 * grain)
    return np.where(darkness > threshold, 255, 0).astype(np.uint8)


def detect_subject(image: np.ndarray, *, blur: int, min_area_fraction: float, ignore_border: float = 0.0,
                   ground_grid: int = 0, ground_degree: int = 2, min_ink_contrast: float = 0.08
                   ) -> tuple[tuple[int, int, int, int] | None, float, str]:
    """Bounding box ``(x, y, w, h)`` of the significant ink contours and the largest one's eq. 2 area,
    or ``None`` and why not."""
    if blur < 1 or blur % 2 == 0:
        raise ValueError(f"subject blur must be an odd kernel size >= 1, got {blur}")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (blur, blur), 0)
    if int(gray.max()) == int(gray.min()):
        # Otsu on a constant image would call every pixel ink and return the whole frame as subject.
        return None, 0.0, "uniform image"
    mask = ink_mask(gray, ground_grid=ground_grid, ground_degree=ground_degree,
                    min_ink_contrast=min_ink_contrast)
    if ignore_border > 0:  # clear the darkened paper edge (see the module docstring)
        my, mx = round(ignore_border * mask.shape[0]), round(ignore_border * mask.shape[1])
        mask[:my], mask[mask.shape[0] - my:], mask[:, :mx], mask[:, mask.shape[1] - mx:] = 0, 0, 0, 0
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None, 0.0, "no ink darker than the ground" if ground_grid else "no contour"
    areas = np.array([cv2.contourArea(c) for c in contours])  # eq. 2 (shoelace), absolute value
    area = float(areas.max())
    img_area = gray.shape[0] * gray.shape[1]
    if area < min_area_fraction * img_area:
        return None, area, (f"largest contour covers {area / img_area:.4f} of the image "
                            f"(< min_area_fraction {min_area_fraction:g})")
    significant = [c for c, a in zip(contours, areas) if a >= min_area_fraction * img_area]
    x, y, w, h = cv2.boundingRect(np.concatenate(significant))  # the union of the key content
    return (int(x), int(y), int(w), int(h)), area, ""


def _scale_and_pad(crop: np.ndarray, tw: int, th: int, pad_value: int) -> tuple[np.ndarray, float,
                                                                               tuple[int, int],
                                                                               tuple[int, int, int, int]]:
    """Scale ``crop`` by eq. 3's ``r`` (aspect kept) and centre it on a ``tw x th`` canvas (eq. 4)."""
    h, w = crop.shape[:2]
    r = min(tw / w, th / h)  # eq. 3
    # r * w <= tw exactly, so rounding can at most reach the target; never let a side vanish.
    new_w = min(tw, max(1, round(w * r)))
    new_h = min(th, max(1, round(h * r)))
    interp = cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(crop, (new_w, new_h), interpolation=interp)
    left, top = (tw - new_w) // 2, (th - new_h) // 2  # eq. 4, the odd pixel goes after
    right, bottom = tw - new_w - left, th - new_h - top
    out = cv2.copyMakeBorder(scaled, top, bottom, left, right, cv2.BORDER_CONSTANT,
                             value=(pad_value,) * 3 if crop.ndim == 3 else pad_value)
    return out, r, (new_w, new_h), (left, top, right, bottom)


def letterbox(image: np.ndarray, target: int | tuple[int, int], pad_value: int = 240) -> np.ndarray:
    """The whole image scaled by eq. 3 (aspect kept) and padded by eq. 4 to ``target``: no subject crop.

    The screening classifier sees paintings this way, as the paper classifies before it crops.
    """
    tw, th = (target, target) if isinstance(target, int) else target
    return _scale_and_pad(image, tw, th, pad_value)[0]


def subject_resize(image: np.ndarray, target: int | tuple[int, int], *, blur: int = 5,
                   min_area_fraction: float = 0.02, pad_value: int = 240, ignore_border: float = 0.0,
                   ground_grid: int = 0, ground_degree: int = 2, min_ink_contrast: float = 0.08
                   ) -> tuple[np.ndarray, ResizeResult]:
    """Resize an RGB (``H x W x 3``) or grey (``H x W``) uint8 image to ``target`` by eq. 2-5.

    ``target`` is a side (square) or ``(width, height)``. Returns the ``th x tw`` image and its
    :class:`ResizeResult`. The detection keywords are ``curate.subject``'s (``**asdict(params)``); the
    defaults of ``ground_grid`` (0) keep the plain Otsu of earlier versions for direct callers.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 H x W (x 3) image, got {image.dtype} {image.shape}")
    tw, th = (target, target) if isinstance(target, int) else target
    img_h, img_w = image.shape[:2]
    box, area, reason = detect_subject(image, blur=blur, min_area_fraction=min_area_fraction,
                                       ignore_border=ignore_border, ground_grid=ground_grid,
                                       ground_degree=ground_degree, min_ink_contrast=min_ink_contrast)

    if box is None:
        # eq. 5: the largest region of the target's aspect ratio, centred.
        w = min(img_w, round(img_h * tw / th))
        h = min(img_h, round(w * th / tw))
        x, y = (img_w - w) // 2, (img_h - h) // 2
        crop = image[y:y + h, x:x + w]
        r = min(tw / w, th / h)
        interp = cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR
        out = cv2.resize(crop, (tw, th), interpolation=interp)
        return out, ResizeResult("center_crop", (x, y, w, h), area, r, (tw, th), (0, 0, 0, 0), reason)

    x, y, w, h = box
    branch = "crop_scale" if (w > tw or h > th) else "scale_pad"
    out, r, new_size, pad = _scale_and_pad(image[y:y + h, x:x + w], tw, th, pad_value)
    return out, ResizeResult(branch, box, area, r, new_size, pad)

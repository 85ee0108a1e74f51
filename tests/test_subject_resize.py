"""Eq. 2-5 subject-aware resize: every branch, with exact geometry."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inkgen.data.subject_resize import detect_subject, letterbox, subject_resize

PAPER = 250
PAD = 240


def canvas(w: int, h: int) -> np.ndarray:
    return np.full((h, w, 3), PAPER, np.uint8)


def ink_rect(img: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    img[y:y + h, x:x + w] = 0
    return img


def shoelace(points: np.ndarray) -> float:
    """Eq. 2 written out: |sum(x_i y_{i+1} - x_{i+1} y_i)| / 2 over the closed polygon."""
    x, y = points[:, 0].astype(float), points[:, 1].astype(float)
    return abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) / 2


def test_contour_area_is_the_shoelace_formula():
    # An L-shaped hexagon: a 40x30 rectangle minus a 20x10 corner = 1000.
    poly = np.array([[0, 0], [40, 0], [40, 30], [20, 30], [20, 20], [0, 20]], np.int32)
    assert shoelace(poly) == 1000.0
    assert cv2.contourArea(poly.reshape(-1, 1, 2)) == shoelace(poly)
    # And on a detected contour: a filled triangle is found with (nearly) its drawn area.
    img = canvas(200, 200)
    tri = np.array([[20, 180], [180, 180], [100, 30]], np.int32)
    cv2.fillPoly(img, [tri], (0, 0, 0))
    box, area, _ = detect_subject(img, blur=1, min_area_fraction=0.01)
    assert box == (20, 30, 161, 151)
    assert area == pytest.approx(shoelace(tri), rel=0.03)


def test_small_subject_is_scaled_up_and_padded_eq4():
    img = ink_rect(canvas(100, 100), 30, 40, 20, 10)
    out, res = subject_resize(img, 64, blur=1, min_area_fraction=0.01, pad_value=PAD)
    assert out.shape == (64, 64, 3)
    assert res.branch == "scale_pad"
    assert res.box == (30, 40, 20, 10)
    assert res.r == pytest.approx(3.2)  # min(64/20, 64/10)
    assert res.new_size == (64, 32)
    assert res.pad == (0, 16, 0, 16)  # (64 - 32) / 2 above and below
    assert (out[:16] == PAD).all() and (out[48:] == PAD).all()
    assert (out[16:48] == 0).all()  # the subject, centred, fills the middle band


def test_large_subject_is_cropped_then_scaled_eq3():
    img = ink_rect(canvas(300, 200), 10, 20, 150, 50)
    out, res = subject_resize(img, 64, blur=1, min_area_fraction=0.01, pad_value=PAD)
    assert res.branch == "crop_scale"
    assert res.box == (10, 20, 150, 50)
    assert res.r == pytest.approx(64 / 150)
    assert res.new_size == (64, 21)  # round(50 * 64/150) = round(21.33)
    assert res.pad == (0, 21, 0, 22)  # odd remainder 43: floor above, ceil below
    assert (out[:21] == PAD).all() and (out[42:] == PAD).all()
    assert (out[21:42] == 0).all()


def test_larger_in_one_dimension_only_counts_as_larger():
    img = ink_rect(canvas(200, 200), 50, 10, 30, 120)  # narrow but taller than the target
    out, res = subject_resize(img, 64, blur=1, min_area_fraction=0.01, pad_value=PAD)
    assert res.branch == "crop_scale"
    assert res.new_size == (16, 64)
    assert res.pad == (24, 0, 24, 0)
    assert (out[:, :24] == PAD).all() and (out[:, 40:] == PAD).all() and (out[:, 24:40] == 0).all()


def test_subject_is_centred_whatever_its_position():
    a = ink_rect(canvas(160, 120), 5, 5, 40, 40)
    b = ink_rect(canvas(160, 120), 110, 70, 40, 40)
    out_a, _ = subject_resize(a, 32, blur=1, min_area_fraction=0.01)
    out_b, _ = subject_resize(b, 32, blur=1, min_area_fraction=0.01)
    np.testing.assert_array_equal(out_a, out_b)


def test_default_blur_keeps_the_box_within_a_pixel():
    img = ink_rect(canvas(192, 128), 60, 30, 70, 50)
    _, res = subject_resize(img, 64, blur=5, min_area_fraction=0.02)
    x, y, w, h = res.box
    assert abs(x - 60) <= 1 and abs(y - 30) <= 1 and abs(w - 70) <= 2 and abs(h - 50) <= 2


def test_uniform_image_falls_back_to_centre_crop_eq5():
    out, res = subject_resize(canvas(120, 80), 64)
    assert res.branch == "center_crop" and res.reason == "uniform image"
    assert res.box == (20, 0, 80, 80)  # x' = (120 - 80) / 2, y' = (80 - 80) / 2
    assert out.shape == (64, 64, 3) and (out == PAPER).all()


def test_tiny_subject_falls_back_to_centre_crop_and_keeps_the_centre():
    img = canvas(120, 80)
    ink_rect(img, 60, 40, 4, 4)  # a speck inside the centre region: 16 / 9600 of the image
    ink_rect(img, 5, 10, 4, 4)  # a speck outside it, which eq. 5 must crop away
    out, res = subject_resize(img, 40, blur=1, min_area_fraction=0.02)
    assert res.branch == "center_crop"
    assert "min_area_fraction" in res.reason
    assert res.box == (20, 0, 80, 80)
    expected = cv2.resize(img[0:80, 20:100], (40, 40), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out, expected)
    assert out.min() < PAPER  # the inner speck survived the crop (as a grey dot after downscaling)


def test_portrait_centre_crop_and_non_square_target():
    img = canvas(60, 100)
    out, res = subject_resize(img, (40, 20))  # target 40 wide, 20 high -> a 60 x 30 centre region
    assert out.shape == (20, 40, 3)
    assert res.box == (0, 35, 60, 30)


def test_grey_input_and_pad_value():
    img = np.full((100, 100), PAPER, np.uint8)
    img[45:55, 20:80] = 0
    out, res = subject_resize(img, 30, blur=1, min_area_fraction=0.01, pad_value=7)
    assert out.shape == (30, 30) and res.branch == "crop_scale"
    assert res.pad == (0, 12, 0, 13) and (out[:12] == 7).all() and (out[17:] == 7).all()
    assert (out[12:17] == 0).all()


def test_even_blur_is_refused():
    with pytest.raises(ValueError, match="odd"):
        subject_resize(canvas(50, 50), 32, blur=4)


def test_letterbox_keeps_the_whole_image():
    img = ink_rect(canvas(200, 100), 0, 0, 200, 100)  # all ink: the whole frame must survive
    out = letterbox(img, 64, pad_value=PAD)
    assert out.shape == (64, 64, 3)
    assert (out[:16] == PAD).all() and (out[48:] == PAD).all() and (out[16:48] == 0).all()


def test_subject_is_the_union_of_significant_ink_masses_and_ignores_specks():
    # A figure (left) and a boat (right) far apart: both are key content, the caption names both.
    img = ink_rect(ink_rect(canvas(300, 200), 20, 40, 40, 100), 200, 120, 70, 30)
    ink_rect(img, 150, 10, 3, 3)  # a speck of 9 px, far below min_area_fraction of 60,000 px
    box, area, reason = detect_subject(img, blur=1, min_area_fraction=0.01)
    assert reason == ""
    assert box == (20, 40, 250, 110)  # x from the figure to the boat's right edge, y from 40 to 150
    assert area == pytest.approx(39 * 99, rel=0.05)  # eq. 2 area reported is the largest mass's


def test_darkened_paper_edge_is_not_taken_for_the_subject():
    # Aged paper: a 6-px brown band around the sheet, and the painting (a 30x40 block) in the middle.
    img = canvas(120, 160)
    img[:6], img[-6:], img[:, :6], img[:, -6:] = 150, 150, 150, 150
    ink_rect(img, 45, 60, 30, 40)
    whole, _, _ = detect_subject(img, blur=1, min_area_fraction=0.01)
    assert whole == (0, 0, 120, 160), "without the margin the edge ring swallows the painting"
    box, _, _ = detect_subject(img, blur=1, min_area_fraction=0.01, ignore_border=0.06)
    assert box == (45, 60, 30, 40)


# ------------------------------------------------------------------ toned silk: ink relative to the ground
SILK = np.array([186, 160, 118], np.float64)  # a brownish toned silk (RGB)
GROUND = dict(ground_grid=48, ground_degree=2, min_ink_contrast=0.08)  # params.yaml curate.subject


def toned_silk(w: int = 240, h: int = 320, vignette: float = 0.5, seed: int = 0) -> np.ndarray:
    """Silk of one tone, darkened towards the corners (x 0.5 there) and with a 2-level grain."""
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - (w - 1) / 2) / ((w - 1) / 2)) ** 2 / 2 + ((yy - (h - 1) / 2) / ((h - 1) / 2)) ** 2 / 2
    light = 1.0 - vignette * r2  # 1 at the centre, 1 - vignette in the corners
    grain = np.random.default_rng(seed).normal(0, 2.0, (h, w, 1))
    return np.clip(SILK * light[..., None] + grain, 0, 255)


def faint_landscape(silk: np.ndarray) -> np.ndarray:
    """A mountain (triangle) and a pine (block) in ink that takes away 22% of the light: faint."""
    ink = np.zeros(silk.shape[:2], np.uint8)
    cv2.fillPoly(ink, [np.array([[70, 200], [120, 120], [170, 200]], np.int32)], 1)
    ink[150:210, 180:200] = 1
    return np.round(np.where(ink[..., None] == 1, silk * 0.78, silk)).astype(np.uint8)


def test_toned_silk_with_a_dark_vignette_is_ground_and_the_faint_landscape_is_the_subject():
    img = faint_landscape(toned_silk())
    # The plain Otsu threshold calls the darker half of the silk ink: the box is the frame minus the band.
    old, _, _ = detect_subject(img, blur=1, min_area_fraction=0.01, ignore_border=0.06, ground_grid=0)
    assert old == (14, 19, 212, 282)
    box, area, reason = detect_subject(img, blur=1, min_area_fraction=0.01, ignore_border=0.06, **GROUND)
    assert reason == "" and box == (70, 120, 130, 90)  # mountain x 70..170 and pine x 180..199, y 120..209
    out, res = subject_resize(img, 64, blur=1, min_area_fraction=0.01, ignore_border=0.06, **GROUND)
    assert res.branch == "crop_scale" and res.box == box and out.shape == (64, 64, 3)
    assert res.new_size == (64, 44) and res.pad == (0, 10, 0, 10)  # r = 64/130; 90 * r = 44.3 -> 44


def test_bare_toned_silk_is_centre_cropped_and_says_why():
    out, res = subject_resize(toned_silk(seed=1).round().astype(np.uint8), 64, blur=5,
                              min_area_fraction=0.02, ignore_border=0.06, **GROUND)
    assert res.branch == "center_crop" and res.box == (0, 40, 240, 240) and res.reason
    assert res.reason == "no ink darker than the ground" or res.reason.startswith("largest contour covers")


def test_ground_estimate_follows_the_vignette():
    from inkgen.data.subject_resize import estimate_ground

    silk = toned_silk()
    gray = cv2.cvtColor(silk.round().astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    ground, grain = estimate_ground(gray, 48, 2)
    assert 0.005 < grain < 0.03  # the 2-level grain on a ~120-level silk, relative
    # Where there is no ink, the ground is the image within the grain.
    diff = ground - gray
    assert abs(float(np.median(diff))) < 4.0 and np.percentile(np.abs(diff), 99) < 9.0
    assert ground[160, 120] > 1.8 * ground[2, 2]  # centre twice as bright as the corner, as drawn

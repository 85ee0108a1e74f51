"""The procedural renderer: exact quotas, byte-for-byte determinism, valid truth, visible painting types."""

from __future__ import annotations

import dataclasses
from collections import Counter

import cv2
import numpy as np
import pytest

from inkgen.config import CollectParams, ProceduralParams
from inkgen.data.procedural import FORMATS, ProceduralSource, plan_corpus, render_painting
from inkgen.data.procedural.plan import quotas
from inkgen.data.procedural.source import render_png
from inkgen.data.raw_store import RawStore, encode_png
from inkgen.data.records import read_records
from inkgen.data.taxonomy import load_taxonomy

SMALL = 96


def _collect(n: int, seed: int, workers: int, long_side: int = 64) -> CollectParams:
    return CollectParams(source="procedural", n_images=n, seed=seed, max_image_pixels=40_000_000,
                         procedural=ProceduralParams(long_side=long_side, workers=workers))


# ------------------------------------------------------------------------------------------- planning
def test_largest_remainder_quotas():
    assert quotas(10, {"a": 0.5, "b": 0.3, "c": 0.2}) == {"a": 5, "b": 3, "c": 2}
    assert quotas(7, {"a": 0.34, "b": 0.26, "c": 0.28, "d": 0.12}) == {"a": 2, "b": 2, "c": 2, "d": 1}
    assert sum(quotas(1, {"a": 0.5, "b": 0.5}).values()) == 1


@pytest.mark.parametrize("n, primary, landscape", [
    (2000, {"landscape": 680, "figure": 520, "flowers_plants": 560, "birds_animals": 240},
     {"seasonal_landscape": 306, "architectural_landscape": 204, "heritage_reproduction": 170}),
    (50, {"landscape": 17, "figure": 13, "flowers_plants": 14, "birds_animals": 6},
     {"seasonal_landscape": 8, "architectural_landscape": 5, "heritage_reproduction": 4}),
])
def test_plan_has_exact_category_quotas(n, primary, landscape):
    specs = plan_corpus(n, seed=2026)
    assert [s.index for s in specs] == list(range(n))
    assert dict(Counter(s.primary for s in specs)) == primary
    assert dict(Counter(s.secondary for s in specs if s.primary == "landscape")) == landscape
    tax = load_taxonomy()
    for s in specs:
        assert tax.primary_of(s.secondary) == s.primary
    assert len({s.seed for s in specs}) == n
    if n == 2000:  # drawn attributes follow their shares, and the order is shuffled
        periods = Counter(s.period for s in specs)
        assert abs(periods["qing"] / n - 0.40) < 0.04 and abs(periods["pre_qing"] / n - 0.32) < 0.04
        assert set(Counter(s.painting_type for s in specs)) == set(tax.painting_types)
        assert set(Counter(s.format for s in specs)) == set(FORMATS)
        assert len({s.primary for s in specs[:20]}) > 1


def test_plan_is_seeded():
    assert plan_corpus(40, 1) == plan_corpus(40, 1)
    assert plan_corpus(40, 1) != plan_corpus(40, 2)


# ------------------------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_different_seed_different_bytes():
    spec = plan_corpus(12, seed=5)[3]
    a = render_png(spec, SMALL)[1]
    assert render_png(spec, SMALL)[1] == a
    other = dataclasses.replace(spec, seed=spec.seed + 1)
    assert render_png(other, SMALL)[1] != a


def test_workers_do_not_change_the_bytes(tmp_path):
    stores = []
    for workers in (1, 2):
        store = RawStore(tmp_path / f"w{workers}")
        ProceduralSource(_collect(10, 11, workers)).collect(store)
        store.close()
        stores.append(store)
    one, two = stores
    assert sorted(one.records) == sorted(two.records) == [f"procedural-{i:06d}" for i in range(10)]
    for key in one.records:
        assert one.records[key] == two.records[key]
        assert (one.root / one.records[key].file).read_bytes() == (two.root / two.records[key].file).read_bytes()
    assert (one.root / "records.jsonl").read_bytes() == (two.root / "records.jsonl").read_bytes()


# ------------------------------------------------------------------------------------------- truth
def test_records_and_truth_are_valid_against_the_taxonomy(tmp_path):
    tax = load_taxonomy()
    store = RawStore(tmp_path / "raw")
    ProceduralSource(_collect(48, 3, 1, long_side=SMALL)).collect(store)
    store.close()
    records = read_records(tmp_path / "raw" / "records.jsonl")
    assert len(records) == 48
    assert {r.truth["secondary"] for r in records} == set(tax.secondary)
    for r in records:
        t = r.truth
        assert set(t) == {"painting_type", "primary", "secondary", "elements", "techniques", "period", "seed",
                          "format"}
        assert r.source == "procedural" and r.license.startswith("CC0") and r.period == t["period"]
        assert r.metadata["renderer_version"] and r.title and tax.secondary[t["secondary"]].label in r.title
        assert t["painting_type"] in tax.painting_types and t["period"] in tax.periods
        assert tax.primary_of(t["secondary"]) == t["primary"]
        assert t["elements"] == sorted(set(t["elements"])) and set(t["elements"]) <= set(tax.elements)
        assert t["techniques"] == sorted(set(t["techniques"])) and set(t["techniques"]) <= set(tax.techniques)
        assert "seal" in t["elements"]
        assert max(r.width, r.height) == SMALL
        aspect = r.width / r.height
        assert abs(aspect - FORMATS[t["format"]]) < 0.05
    # each category draws what it is about
    by_sec = {}
    for r in records:
        by_sec.setdefault(r.truth["secondary"], set()).update(r.truth["elements"])
    assert "mountain" in by_sec["seasonal_landscape"] and "pavilion" in by_sec["architectural_landscape"]
    assert "boat" in by_sec["heritage_reproduction"] and "figure" in by_sec["historical_allusion"]
    assert "cloud" in by_sec["myth_legend"] and "plum_branch" in by_sec["branch_ornament"]


def test_type_techniques_are_reported():
    spec = plan_corpus(48, seed=9)[0]
    got = {}
    for kind in ("xieyi", "gongbi", "baimiao"):
        got[kind] = set(render_painting(dataclasses.replace(spec, painting_type=kind), SMALL)[1]["techniques"])
    assert {"fine_brush", "iron_wire_line", "heavy_colour"} <= got["gongbi"]
    assert {"coarse_brush", "wet_brush", "wash_gradation"} <= got["xieyi"]
    assert "outline" in got["baimiao"]
    assert not got["baimiao"] & {"heavy_colour", "light_colour", "wash_gradation", "wet_brush"}
    assert not got["xieyi"] & {"iron_wire_line", "heavy_colour"}


# ------------------------------------------------------------------------------------------- looks
def _stats(images):
    """Per painting type: mean saturation, share of near-white pixels, ink mass, ink edge sharpness.

    Ink is what is clearly darker than the paper (the image's median); its "mass" is what survives a 3x3
    morphological opening, i.e. washes and broad strokes but not thin lines; sharpness is the mean
    Sobel gradient over ink pixels (crisp lines high, blurred washes low).
    """
    sat, white, mass, sharp = [], [], [], []
    for img in images:
        a = np.asarray(img, dtype=np.float32) / 255.0
        mx, mn = a.max(axis=2), a.min(axis=2)
        sat.append(float(np.mean((mx - mn) / np.maximum(mx, 1e-3))))
        grey = a.mean(axis=2)
        white.append(float(np.mean(grey > 0.85)))
        ink = (grey < 0.85 * np.median(grey)).astype(np.uint8)
        mass.append(float(cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).mean()))
        grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        sharp.append(float(grad[ink > 0].mean()) if ink.any() else 0.0)
    return {"sat": np.mean(sat), "white": np.mean(white), "mass": np.mean(mass), "sharp": np.mean(sharp)}


@pytest.fixture(scope="module")
def type_stats():
    base = plan_corpus(24, seed=77)
    out = {}
    for kind in ("xieyi", "gongbi", "baimiao"):
        imgs = [render_painting(dataclasses.replace(s, painting_type=kind, period="qing"), SMALL)[0] for s in base]
        out[kind] = _stats(imgs)
    return out


def test_baimiao_is_colourless_line_on_white(type_stats):
    assert type_stats["baimiao"]["sat"] < 0.08
    assert type_stats["baimiao"]["white"] > 0.8


def test_gongbi_is_the_most_colourful(type_stats):
    assert type_stats["gongbi"]["sat"] > 1.5 * type_stats["xieyi"]["sat"]
    assert type_stats["gongbi"]["sat"] > 3 * type_stats["baimiao"]["sat"]


def test_xieyi_has_more_ink_mass_and_softer_edges_than_baimiao(type_stats):
    xieyi, baimiao = type_stats["xieyi"], type_stats["baimiao"]
    assert xieyi["mass"] > 1.5 * baimiao["mass"]
    assert baimiao["sharp"] > 1.15 * xieyi["sharp"]
    assert xieyi["white"] < baimiao["white"]


def test_period_tones_the_paper():
    spec = plan_corpus(12, seed=4)[0]
    warmth = {}
    for period in ("pre_qing", "qing", "modern"):
        a = np.asarray(render_painting(dataclasses.replace(spec, period=period), SMALL)[0], dtype=np.float32)
        centre = a[a.shape[0] // 3: 2 * a.shape[0] // 3, a.shape[1] // 3: 2 * a.shape[1] // 3]
        warmth[period] = float(np.median(centre[..., 0] - centre[..., 2]))
    assert warmth["pre_qing"] > warmth["qing"] > warmth["modern"]


def test_encoding_is_stable():
    img, _ = render_painting(plan_corpus(3, seed=1)[1], 64)
    assert encode_png(img) == encode_png(img.copy())

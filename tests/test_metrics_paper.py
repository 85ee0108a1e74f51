"""The paper's reported numbers: the data file parses, matches the paper's text, and its claims are judged."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from inkgen.metrics.claims import DOES_NOT_HOLD, HOLDS
from inkgen.metrics.paper import (STAND_INS, TABLE1_METRICS, VARIANTS, PaperDataError, judge_claims,
                                  load_paper_reported, resolve_metric)
from inkgen.metrics.stats import exact

PAPER = Path("/work/shared/seed/000_071623f786c8e87f.txt")
DATA = Path(__file__).resolve().parents[1] / "inkgen" / "data" / "paper_reported.yaml"


def test_file_parses_and_claims_name_known_variants_and_metrics():
    rep = load_paper_reported()
    assert "reported by the paper" in rep.label
    assert set(rep.table1) == set(VARIANTS) == {"full", "no_clip", "no_transformer", "vqgan_clip", "vqgan"}
    assert len(rep.claims) >= 8
    for c in rep.claims:
        assert c.metric in STAND_INS and c.metric in rep.metrics
        assert c.variant in VARIANTS and set(c.versus) <= set(VARIANTS) and c.variant not in c.versus
        assert c.direction in ("greater", "less") and c.source and c.text
    assert rep.figure13["style_similarity_threshold"] == 0.70
    assert rep.figure13["instruction_response_threshold"] == 0.80
    assert rep.claim("rdb_raises_psnr").versus == ("vqgan_clip",)


@pytest.mark.skipif(not PAPER.is_file(), reason="the paper's text is not in this checkout")
def test_table1_rows_are_copied_exactly_from_the_paper():
    text = " ".join(PAPER.read_text(encoding="utf-8").split())
    rep = load_paper_reported()
    for variant, row in rep.table1.items():
        values = [row[m] for m in TABLE1_METRICS]
        printed = " ".join(f"{v:g}" for v in values[:-2]) + f" {values[-2]:g}M {values[-1]:g}"
        assert f"{row['paper_name']} {printed}" in text, variant
    for row in rep.table3:
        if row["is"] is not None and row["fid"] is not None:
            assert f"{row['is']:g} {row['fid']:g}" in text, row


def test_table2_weighted_total_is_consistent():
    t2 = load_paper_reported().table2
    total = sum(d["expert_score"] * d["weight"] for d in t2["dimensions"].values())
    assert round(total, 1) == t2["weighted_total"] == 4.3


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["claims"][0].update(versus=["no_such_variant"]), "unknown variant 'no_such_variant'"),
    (lambda d: d["claims"][1].update(metric="sharpness"), "unknown metric 'sharpness'"),
    (lambda d: d["claims"][1].update(direction="up"), "direction"),
    (lambda d: d["table1"]["rows"]["full"].update(fid="ten"), "table1.full.fid"),
    (lambda d: d["table2"]["dimensions"]["composition"].update(weight=0.3), "sum to"),
    (lambda d: d.update(label="our numbers"), "reported by the paper"),
    (lambda d: d["claims"].append(dict(d["claims"][0])), "duplicate id"),
])
def test_validation_names_the_problem(tmp_path, edit, message):
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    edit(raw)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(PaperDataError, match=message):
        load_paper_reported(bad)


def test_stand_ins_prefer_real_fid_only_when_every_variant_has_it():
    measured = {"full": {"fid": [1.0], "frechet_clip": [1.0]}, "vqgan": {"frechet_clip": [2.0]}}
    assert resolve_metric("fid", measured, ("full", "vqgan")) == "frechet_clip"
    measured["vqgan"]["fid"] = [2.0]
    assert resolve_metric("fid", measured, ("full", "vqgan")) == "fid"
    with pytest.raises(KeyError, match="psnr"):
        resolve_metric("psnr_db", measured, ("full",))


def test_judge_claims_end_to_end():
    rep = load_paper_reported()
    rng = np.random.default_rng(0)
    base = rng.normal(0.3, 0.05, 48)
    measured = {v: {} for v in VARIANTS}
    measured["full"]["clip_cosine"] = base + 0.1
    measured["no_clip"]["clip_cosine"] = base
    measured["full"]["parameter_count"] = exact(1000)
    measured["no_clip"]["parameter_count"] = exact(1000)  # CLIP guidance is a loss: no extra parameters
    verdicts = {v.claim_id: v for v in judge_claims(rep.claims, measured, paired=True, confidence=0.95,
                                                     n_resamples=500, seed=0)}
    assert verdicts["clip_raises_cosine"].verdict == HOLDS
    assert verdicts["clip_raises_cosine"].metric == "clip_cosine"
    assert verdicts["clip_adds_parameters"].verdict == DOES_NOT_HOLD
    assert "full_converges_fastest" not in verdicts  # not measured: skipped
    with pytest.raises(KeyError):
        judge_claims(rep.claims, measured, paired=True, confidence=0.95, n_resamples=100, seed=0,
                     skip_unmeasured=False)

"""The paper's reported numbers: the data file parses, matches the paper's text, and its claims are judged."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from inkgen.metrics.claims import DOES_NOT_HOLD, HOLDS, NOT_APPLICABLE, Seeded
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
        if c.stage == "evaluate":
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
    base = rng.normal(0.3, 0.05, (1, 48))
    seeds = (2026, 2027, 2028)
    measured = {v: {} for v in VARIANTS}
    measured["full"]["clip_cosine"] = Seeded(seeds, base + 0.1 + rng.normal(0, 0.005, (3, 1)))
    measured["no_clip"]["clip_cosine"] = Seeded(seeds, base + rng.normal(0, 0.005, (3, 1)))
    measured["full"]["parameter_count"] = exact(1000)
    measured["vqgan"]["parameter_count"] = exact(1000)  # equal: a strict "greater" does not hold
    verdicts = {v.claim_id: v for v in judge_claims(rep.claims, measured, confidence=0.95, n_resamples=200,
                                                     seed=0)}
    assert verdicts["clip_raises_cosine"].verdict == HOLDS
    assert verdicts["clip_raises_cosine"].metric == "clip_cosine"
    assert "3 training seeds x 48 items" in verdicts["clip_raises_cosine"].text
    assert verdicts["fig8b_parameters_above_vqgan"].verdict == DOES_NOT_HOLD
    assert "exact" in verdicts["fig8b_parameters_above_vqgan"].text
    for cid in ("clip_adds_parameters", "clip_slows_inference"):
        assert verdicts[cid].verdict == NOT_APPLICABLE and "training loss" in verdicts[cid].text
    assert "full_converges_fastest" not in verdicts  # not measured: skipped
    assert "fig13_style_element_above_scene" not in verdicts  # judged by the instructions stage
    with pytest.raises(KeyError):
        judge_claims(rep.claims, measured, confidence=0.95, n_resamples=100, seed=0, skip_unmeasured=False)


@pytest.mark.skipif(not PAPER.is_file(), reason="the paper's text is not in this checkout")
def test_listed_inconsistencies_and_untestable_claims_quote_the_paper():
    text = " ".join(PAPER.read_text(encoding="utf-8").split())
    rep = load_paper_reported()
    joined = " ".join(rep.inconsistencies)
    for quoted, listed in (("23% higher than the lowest FlowMo model", "27.5%"), ("71%", "'71%'"),
                           ("27% PSNR", "'27% PSNR"), ("37% faster", "37%")):
        assert quoted in text and listed in joined, quoted
    assert "is the weight coefficient of the reconstruction loss" in text  # eq. 14's prose: beta
    assert "beta" in joined and "No Transformer" in joined and "Table 3's VQGAN row" in joined
    assert len(rep.untestable) >= 4 and all(u["why"] for u in rep.untestable)


def test_not_applicable_needs_a_reason(tmp_path):
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    next(c for c in raw["claims"] if c["id"] == "clip_slows_inference").pop("reason")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(PaperDataError, match="needs a reason"):
        load_paper_reported(bad)

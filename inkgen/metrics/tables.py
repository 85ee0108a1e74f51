"""Table 1, Table 3 and the claims as the evaluate notebook shows them (paper section 3): our estimates in
the paper's units beside the numbers *reported by the paper*, and each claim's verdict with its N."""

from __future__ import annotations

from typing import Any

import pandas as pd

from inkgen.metrics.paper import STAND_INS, PaperReported, judge_claims
from inkgen.metrics.stats import Estimate, count_prefix, format_count
from inkgen.metrics.eval_config import EvalConfig
from inkgen.metrics.table1 import VariantMetrics

# our Table 1 columns, in the paper's order; the paper's name of each is in inkgen.metrics.paper.STAND_INS
COLUMNS = ("convergence_rounds", "vqgan_convergence_rounds", "classifier_score", "is", "frechet_clip", "fid",
           "psnr", "clip_cosine", "clip_score", "recognition_primary", "parameter_count", "macs", "inference_ms",
           "clip_cosine (guide)", "frechet_clip (guide)")
# units shown in the column names, as the paper prints them (inkgen/data/paper_reported.yaml `metrics`);
# counts (parameters, MACs) are shown scaled to M or G, never as raw integers
UNITS = {"psnr": "dB"}
COUNTS = ("parameter_count", "macs")


def _cells(ests: list[Estimate | None], digits: int, prefix: str | None = None) -> list[str]:
    return ["not reached" if e is None else format_count(e, prefix) if prefix else e.format(digits) for e in ests]


def table1_frame(variants: dict[str, VariantMetrics], digits: int = 3) -> pd.DataFrame:
    """Variant x metric; each column's unit in its name (the paper's: PSNR in dB, counts in M or G —
    :data:`COUNTS` get the prefix that suits the column's largest value, ``"parameter_count (M)": "1.46 M"``)."""
    table = {}
    for c in (c for c in COLUMNS if any(c in vm.estimates for vm in variants.values())):
        ests = [vm.estimates.get(c) for vm in variants.values()]
        if c in COUNTS:
            prefix = count_prefix(e.mean for e in ests if e is not None)
            table[f"{c} ({prefix})"] = _cells(ests, digits, prefix)
        else:
            table[f"{c} ({UNITS[c]})" if c in UNITS else c] = _cells(ests, digits)
    return pd.DataFrame(table, index=list(variants))


def beside_paper(variants: dict[str, VariantMetrics], paper: PaperReported) -> pd.DataFrame:
    """Long table: variant, the paper's metric, its unit, the value *reported by the paper*, our stand-in
    metric, ours — both values in the paper's unit (a count of ours in M where the paper counts in M)."""
    rows = []
    for v, vm in variants.items():
        for pm, reported in paper.table1[v].items():
            if pm not in STAND_INS or pm == "paper_name":
                continue
            unit = str(paper.metrics.get(pm, {}).get("unit", ""))
            ours = next((m for m in STAND_INS[pm] if m in vm.estimates), None)
            prefix = unit if ours in COUNTS else None
            rows.append({"variant": v, "paper metric": pm, "unit": unit, f"{paper.label}": reported,
                         "our metric": ours or "",
                         "ours (this study)": _cells([vm.estimates[ours]], 3, prefix)[0] if ours else "not measured"})
    return pd.DataFrame(rows)


def table3_frame(variants: dict[str, VariantMetrics], paper: PaperReported, corpus: str) -> pd.DataFrame:
    """The paper's Table 3 rows (*reported by the paper*, on MS COCO / Flickr30k / ...) and ours for
    ``full`` and ``vqgan`` on this study's corpus; each of our cells names the stand-in metric it holds."""
    rows = [{"model": r["model"], "dataset": r["dataset"], "source": paper.label,
             **{m: ("" if r.get(m) is None else f"{r[m]:g}") for m in ("is", "fid", "cosine_similarity",
                                                                        "convergence_rounds")}}
            for r in paper.table3]
    for v in ("full", "vqgan"):
        vm = variants[v]
        row = {"model": f"{v} (this study)", "dataset": corpus, "source": "measured here"}
        for pm in ("is", "fid", "cosine_similarity", "convergence_rounds"):
            ours = next((m for m in STAND_INS[pm] if m in vm.estimates), None)
            row[pm] = f"{ours}: {vm.estimates[ours].format()}" if ours else "not reached"
        rows.append(row)
    return pd.DataFrame(rows)


def verdicts(paper: PaperReported, measured: dict[str, dict[str, Any]], config: EvalConfig, stage: str) -> dict:
    """``judge_claims`` of one stage's claims (Holm across them), by claim id."""
    return {c.claim_id: c for c in judge_claims(paper.claims, measured, confidence=config.confidence,
                                                n_resamples=config.set_resamples, seed=config.seed, stage=stage)}


def claims_frame(paper: PaperReported, judged: dict[str, Any], measured: dict[str, dict[str, Any]],
                 stages: tuple[str, ...] = ("evaluate", "generalisation")) -> pd.DataFrame:
    """One row per claim of ``stages``: the metric used, the verdict with its caveat (N seeds x N items),
    N seeds, N items, and every comparison with its interval and Holm level."""
    rows = []
    for claim in paper.claims:
        if claim.stage not in stages:
            continue
        v = judged.get(claim.id)
        rows.append({"claim": claim.id, "source": claim.source, "paper's text": claim.text,
                     "metric used": v.metric if v else "",
                     "verdict": v.text if v else _unmeasured(claim, measured),
                     "n_seeds": v.n_seeds if v else 0, "n_items": v.n_items if v else 0,
                     "comparisons": v.summary().split(" -- ", 1)[-1] if v and v.comparisons else ""})
    return pd.DataFrame(rows)


def _unmeasured(claim, measured: dict[str, dict[str, Any]]) -> str:
    names = STAND_INS[claim.metric]
    missing = [v for v in (claim.variant, *claim.versus) if not any(n in measured.get(v, {}) for n in names)]
    why = ("did not converge within the epochs trained, for at least one seed"
           if claim.metric == "convergence_rounds" else "not measured")
    return f"not measured: {'/'.join(names)} missing for {', '.join(missing)} ({why})"


def judge_vs_guide(judged: dict[str, Any], guided: dict[str, Any]) -> pd.DataFrame:
    """Each claim's verdict with the judge's CLIP metrics beside the one with the guide's; ``changed``
    marks the claims whose verdict depends on which CLIP measures."""
    rows = []
    for cid, v in judged.items():
        g = guided.get(cid)
        rows.append({"claim": cid, "metric": v.metric, "with the judge": v.verdict,
                     "with the guide": g.verdict if g else "not measured",
                     "changed": bool(g is not None and g.verdict != v.verdict)})
    return pd.DataFrame(rows)


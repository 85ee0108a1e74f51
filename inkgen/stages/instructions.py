"""Stage instructions (notebook 07_instructions): the analogue of the paper's Figure 13, every instruction
sequence through one variant's trained generator, each training seed's; the measures and their definitions
are in :mod:`inkgen.metrics.instructions`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from inkgen.config import Params, project_root
from inkgen.determinism import deterministic
from inkgen.layout import Layout, write_metrics
from inkgen.metrics.paper import judge_claims, load_paper_reported
from inkgen.metrics.instructions import (compare_with_paper, judges_table, load_sequences, ordering_measures,
                                         run_sequence)
from inkgen.models.classifier import load_classifier
from inkgen.trained import generation_kwargs, load_clips, load_generator
from inkgen.training import resolve_device


@dataclass
class InstructionsResult:
    variant: str
    table: pd.DataFrame           # per sequence and round: prompt, intended attributes, both measures
    images: dict[str, list[torch.Tensor]]
    beside_paper: pd.DataFrame
    judges: pd.DataFrame          # how good the judges are (their own validation numbers)
    thresholds: dict[str, float]
    plot_files: dict[str, Path]
    metrics: dict[str, Any]
    claims: pd.DataFrame  # Figure 13's ordering across training seeds


def _run_sequences(params: Params, root: Path, layout: Layout) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Every sequence painted and judged by each training seed's model: one table per seed (rounds x
    sequences), and the first seed's images."""
    ip, seeds = params.instructions, tuple(params.seeds)
    with deterministic(params.inference.threads, warn_only=True):
        classifier = load_classifier(layout.classifier)
        clips = load_clips(params, root)  # the judge embeds style; the guide only refines, if asked to
        clip = clips["judge"]
        seq_path = (ip.sequences if not ip.sequences or Path(ip.sequences).is_absolute()
                    else str(root / ip.sequences))
        sequences = load_sequences(seq_path or None, classifier.classes)
        kw = generation_kwargs(params, clips["guide"])
        per_seed, images = [], {}
        for seed in seeds:
            generator = load_generator(params, root, ip.variant, seed, resolve_device(params.inference.device))
            tables = []
            for name, seq in sequences.items():
                t, imgs = run_sequence(generator, seq, ip.rounds, ip.samples, gen_kwargs=kw, classifier=classifier,
                                       clip=clip, style_embedding=ip.style_embedding, confidence=ip.confidence,
                                       n_resamples=ip.n_resamples, seed=ip.seed,
                                       batch_size=params.inference.batch_size)
                tables.append(t.assign(label=seq.label))
                if seed == seeds[0]:
                    images[name] = imgs
            per_seed.append(pd.concat(tables, ignore_index=True))
    return per_seed, images


def _write_plot_files(table: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """One CSV per curve (rounds x sequences), the data of `dvc plots show`."""
    folder.mkdir(parents=True, exist_ok=True)
    plot_files = {}
    for col in ("style_similarity", "response_accuracy"):
        wide = table.pivot_table(index="round", columns="sequence", values=col, aggfunc="first", dropna=False)
        plot_files[col] = folder / f"{col}.csv"
        wide.reset_index().rename_axis(columns=None).to_csv(plot_files[col], index=False, float_format="%.6g")
    return plot_files


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def run(params: Params, root: str | Path | None = None) -> InstructionsResult:
    """Every sequence through ``params.instructions.variant``'s trained generator, each training seed's."""
    root = Path(root) if root is not None else project_root()
    layout = Layout(params, root)
    ip = params.instructions
    start = time.perf_counter()
    paper = load_paper_reported()
    figure13 = paper.figure13
    seeds = tuple(params.seeds)
    per_seed, images = _run_sequences(params, root, layout)
    table = per_seed[0]  # the curves: the first seed's model
    judged = judge_claims(paper.claims, ordering_measures(per_seed, seeds, ip.rounds), confidence=ip.confidence,
                          n_resamples=ip.n_resamples, seed=ip.seed, stage="instructions")
    claims = pd.DataFrame([{"claim": v.claim_id, "metric": v.metric, "verdict": v.text, "n_seeds": v.n_seeds,
                            "n_items": v.n_items, "comparisons": v.summary().split(" -- ", 1)[-1]} for v in judged],
                          columns=["claim", "metric", "verdict", "n_seeds", "n_items", "comparisons"])
    beside = compare_with_paper(table, figure13, confidence=ip.confidence, n_resamples=ip.n_resamples, seed=ip.seed)
    plot_files = _write_plot_files(table, layout.metrics / "instructions-curves")
    thresholds = {"style_similarity": figure13["style_similarity_threshold"],
                  "response_accuracy": figure13["instruction_response_threshold"]}
    metrics = {"variant": ip.variant, "rounds": ip.rounds, "samples_per_round": ip.samples,
               "training_seeds": list(seeds), "curves_from_seed": seeds[0],
               "claims": {r["claim"]: {"verdict": r["verdict"], "metric": r["metric"], "n_seeds": r["n_seeds"],
                                       "n_items": r["n_items"]} for r in claims.to_dict("records")},
               "style_embedding": ip.style_embedding, "wall_seconds": time.perf_counter() - start,
               "thresholds_reported_by_the_paper": thresholds,
               "sequences": {name: {f"round_{int(r['round'])}": {
                   "style_similarity": _num(r["style_similarity"]), "style_low": _num(r["style_low"]),
                   "style_high": _num(r["style_high"]), "response_accuracy": _num(r["response_accuracy"]),
                   "accuracy_low": _num(r["accuracy_low"]), "accuracy_high": _num(r["accuracy_high"])}
                   for _, r in g.iterrows()} for name, g in table.groupby("sequence", sort=False)},
               "beside_paper": {f"{r['quantity']}.{r['sequence']}": r["our interval vs threshold"]
                                for r in beside.to_dict("records")}}
    write_metrics(layout.stage_metrics("instructions"), metrics)
    return InstructionsResult(ip.variant, table.drop(columns=["style_values", "accuracy_values"]), images, beside,
                              judges_table(root, params.paths.metrics), thresholds, plot_files, metrics, claims)

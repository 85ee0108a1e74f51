"""Stage evaluate (notebook 06_evaluate): the paper's section 3 on this study's data, with N and 95% CIs.

- **Table 1** (ablation): for every variant, convergence rounds, the IS formula on the curation
  classifier (``classifier_score``), the Fréchet distance in CLIP image space (``frechet_clip``; FID/IS
  only with local Inception-v3 weights), PSNR of test-image reconstructions, text-image CLIP cosine and
  CLIPScore of paintings generated from the test captions, parameters, MACs and warm inference time on a
  named device (:func:`inkgen.metrics.evaluate_variant` and :mod:`inkgen.metrics.cost`).
- **Table 3** and the claims: our numbers beside those *reported by the paper*, and a verdict for each
  of its claims (:func:`inkgen.metrics.judge_claims`): holds / does not hold / inconclusive at this N.
- **Figures 8-10, 12** through :mod:`inkgen.curves`; **Figure 11**: one test landscape reconstructed by
  every variant's VQGAN and regenerated from its caption by every variant.
- **Table 2's protocol**: the blinded expert package (:mod:`inkgen.expert_kit`) of full's paintings mixed
  with authentic test works, its key written outside the package.

Every variant is trained once, with one seed (``train.seed``), so the intervals are over test images
(bootstrap), prompts or timing runs, never over training runs; convergence rounds, a single number per
training run, therefore get no interval.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from inkgen.config import Params, project_root
from inkgen.curves import (curve_table, history_frame, snapshot_images, snapshot_paths, snapshot_quality,
                           write_plot_files)
from inkgen.data.dataset import load_split
from inkgen.determinism import deterministic
from inkgen.metrics import (STAND_INS, EvalConfig, VariantMetrics, convergence_rounds, count_macs,
                            evaluate_variant, exact, judge_claims, load_paper_reported, time_interleaved)
from inkgen.metrics.paper import PaperReported
from inkgen.train_stage import (VARIANTS, held_out_prompts, params_hash, parameter_table, prior_checkpoint,
                                text_encoder, vqgan_checkpoint, vqgan_owner, write_metrics)

# our Table 1 columns, in the paper's order; the paper's name of each is in inkgen.metrics.paper.STAND_INS
COLUMNS = ("convergence_rounds", "vqgan_convergence_rounds", "classifier_score", "is", "frechet_clip", "fid",
           "psnr", "clip_cosine", "clip_score", "parameter_count", "macs", "inference_ms")
PLOTS_DIR = "evaluate-curves"  # under paths.metrics
# the blinded package for raters, and its key in a separate folder (never handed out with the package)
EXPERT_KIT_DIR, EXPERT_KEY_DIR = Path("reports") / "expert_kit", Path("reports") / "expert_kit_key"


def eval_config(params: Params) -> EvalConfig:
    ev = params.evaluate
    return EvalConfig(**{f.name: getattr(ev, f.name) for f in dataclasses.fields(EvalConfig)})


def kit_config(params: Params):
    from inkgen.expert_kit import KitConfig

    e = params.evaluate.expert
    return KitConfig(dimensions=dataclasses.asdict(e.dimensions), scale_min=e.scale_min, scale_max=e.scale_max,
                     seed=e.seed, display_size=e.display_size, confidence=params.evaluate.confidence,
                     n_resamples=params.evaluate.n_resamples)


def generation_kwargs(params: Params, clip) -> dict[str, Any]:
    """The ``generate:`` settings every painting of this stage is made with."""
    g = params.generate
    return dict(seed=g.seed, temperature=g.temperature, top_k=g.top_k or None,
                clip_refine_steps=g.clip_refine_steps, clip=clip if g.clip_refine_steps else None,
                clip_lr=g.clip_refine_lr, batch=params.evaluate.batch_size)


def load_generator(params: Params, root: Path, variant: str, device: str | torch.device):
    """The variant's trained generator (its own fresh text encoder, fine-tuned weights restored if any)."""
    from inkgen.generate import Generator

    return Generator.from_checkpoint(prior_checkpoint(params, root, variant), params_hash=params_hash(params, "prior"),
                                     text_encoder=text_encoder(params, root), device=device)


def histories(params: Params, root: Path, variant: str) -> tuple[list[dict], list[dict]]:
    """Per-epoch training histories of the variant's prior and of its (possibly shared) VQGAN."""
    from inkgen.training import load_checkpoint

    ck = load_checkpoint(prior_checkpoint(params, root, variant), params_hash=params_hash(params, "prior"))
    vq_ck = load_checkpoint(vqgan_checkpoint(params, root, vqgan_owner(params, variant)),
                            params_hash=params_hash(params, "vqgan"))
    return ck["loop"]["history"], vq_ck["loop"]["history"]


@torch.no_grad()
def reconstruct(generator, images: torch.Tensor, captions: list[str], batch: int) -> torch.Tensor:
    """The VQGAN's reconstructions of ``images`` (with their captions' pooled BERT vector as the eq. 8
    style input where the VQGAN has one)."""
    out = []
    for i in range(0, len(images), batch):
        tv = generator.encode(captions[i:i + batch])[2] if generator.vqgan.config.text_style_norm else None
        out.append(generator.vqgan(images[i:i + batch].to(generator.device), tv).recon.clamp(-1, 1).cpu())
    return torch.cat(out)


def one_call(generator, prompt: str, gen_kwargs: dict[str, Any]):
    """One text -> image call (BERT, code sampling, decoding) for one prompt: what inference time means."""
    return functools.partial(generator.generate_tensors, [prompt], **gen_kwargs)


def cost(generator, prompt: str, gen_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Parameters (VQGAN + Transformer: the generator; the frozen BERT and CLIP are not counted) and MACs
    of one text -> image call. Inference time is measured for all variants together (time_interleaved)."""
    return {"parameter_count": exact(int(parameter_table(generator.vqgan, prior=generator.prior)["generator total"])),
            "macs": exact(count_macs(one_call(generator, prompt, gen_kwargs)))}


def pick_landscape(test_rows: pd.DataFrame, item: str, seed: int) -> int:
    """Row index of the Figure 11 item: ``item`` if named, else a seeded choice among test landscapes."""
    if item:
        hits = np.flatnonzero(test_rows["item_id"].to_numpy() == item)
        if not len(hits):
            raise ValueError(f"evaluate.figure11_item: {item!r} is not in the test split")
        return int(hits[0])
    landscapes = np.flatnonzero(test_rows["primary"].to_numpy() == "landscape")
    pool = landscapes if len(landscapes) else np.arange(len(test_rows))
    return int(np.random.default_rng(seed).choice(pool))


@dataclass
class EvaluateResult:
    variants: dict[str, VariantMetrics]
    table1: pd.DataFrame          # variant x metric, "value [low, high] (N=n)"
    beside_paper: pd.DataFrame    # Table 1 numbers reported by the paper beside ours
    table3: pd.DataFrame          # Table 3 rows reported by the paper, and ours
    claims: pd.DataFrame          # claim id, text, metric used, verdict, comparisons
    paper: PaperReported
    curves: pd.DataFrame          # long: variant, phase, epoch, metric, value
    snapshot_scores: pd.DataFrame  # per epoch with intervals
    figure11: dict[str, Any]
    figure12: dict[str, Any]
    kit: Any
    device: str
    plot_files: dict[str, Path]
    metrics: dict[str, Any]


def table1_frame(variants: dict[str, VariantMetrics], digits: int = 3) -> pd.DataFrame:
    cols = [c for c in COLUMNS if any(c in vm.estimates for vm in variants.values())]
    return pd.DataFrame({c: [vm.estimates[c].format(digits) if c in vm.estimates else "not reached"
                             for vm in variants.values()] for c in cols}, index=list(variants))


def beside_paper(variants: dict[str, VariantMetrics], paper: PaperReported) -> pd.DataFrame:
    """Long table: variant, the paper's metric, the value *reported by the paper*, our stand-in metric, ours."""
    rows = []
    for v, vm in variants.items():
        for pm, reported in paper.table1[v].items():
            if pm not in STAND_INS or pm == "paper_name":
                continue
            ours = next((m for m in STAND_INS[pm] if m in vm.estimates), None)
            rows.append({"variant": v, "paper metric": pm, f"{paper.label}": reported, "our metric": ours or "",
                         "ours (this study)": vm.estimates[ours].format() if ours else "not measured"})
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


def claims_frame(paper: PaperReported, variants: dict[str, VariantMetrics], config: EvalConfig) -> pd.DataFrame:
    measured = {v: vm.measured() for v, vm in variants.items()}
    verdicts = {c.claim_id: c for c in judge_claims(paper.claims, measured, paired=True,
                                                    confidence=config.confidence, n_resamples=config.n_resamples,
                                                    seed=config.seed)}
    rows = []
    for claim in paper.claims:
        verdict = verdicts.get(claim.id)
        rows.append({"claim": claim.id, "source": claim.source, "paper's text": claim.text,
                     "metric used": verdict.metric if verdict else "",
                     "verdict": verdict.verdict if verdict else _unmeasured(claim, variants),
                     "comparisons": verdict.summary().split(" -- ", 1)[-1] if verdict else ""})
    return pd.DataFrame(rows)


def _unmeasured(claim, variants: dict[str, VariantMetrics]) -> str:
    names = STAND_INS[claim.metric]
    missing = [v for v in (claim.variant, *claim.versus) if not any(n in variants[v].estimates for n in names)]
    why = "did not converge within the epochs trained" if claim.metric == "convergence_rounds" else "not measured"
    return f"not measured: {'/'.join(names)} missing for {', '.join(missing)} ({why})"


def run_evaluate(params: Params, root: str | Path | None = None) -> EvaluateResult:
    """Everything of the stage; writes metrics, plot CSVs and the expert package (see module doc)."""
    with deterministic(params.evaluate.threads, warn_only=True):
        return _run(params, Path(root) if root is not None else project_root())


def _run(params: Params, root: Path) -> EvaluateResult:
    from inkgen.expert_kit import Work, build_package
    from inkgen.generate import to_pil
    from inkgen.metrics.cost import device_name
    from inkgen.models.classifier import load_classifier
    from inkgen.models.clip import freeze, load_clip
    from inkgen.training import resolve_device

    start = time.perf_counter()
    ev, config, paper = params.evaluate, eval_config(params), load_paper_reported()
    device = resolve_device(ev.device)
    phash = params_hash(params, "prior")  # snapshots are written under the prior's hash
    test = load_split(root / params.paths.dataset / "manifest.csv", "test", root)
    chosen = held_out_prompts(test, ev.n_images or len(test), ev.seed)  # stratified by category
    real = test.as_float_tensor()[torch.as_tensor(chosen["index"].to_numpy(copy=True))]
    captions = list(chosen["caption"])
    clip = freeze(load_clip(root / params.paths.models / "clip.pt"))
    classifier = load_classifier(root / params.paths.models / "classifier.pt")
    kw = generation_kwargs(params, clip)
    f11 = pick_landscape(test.rows, ev.figure11_item, ev.seed)
    f11_image, f11_caption = test.as_float_tensor()[f11:f11 + 1], str(test.rows["caption"].iloc[f11])
    snap_prompts = captions[:ev.snapshot_prompts]

    variants, logs, snapshot_rows, calls = {}, {}, [], {}
    figure11 = {"item_id": str(test.rows["item_id"].iloc[f11]), "caption": f11_caption,
                "original": to_pil(f11_image)[0], "reconstructed": {}, "generated": {}}
    full_generated, figure12 = None, {}
    for v in VARIANTS:
        gen = load_generator(params, root, v, device)
        prior_history, vqgan_history = histories(params, root, v)
        generated = gen.generate_tensors(captions, **kw)
        vm = evaluate_variant(v, config, real=real, clip=clip, classifier=classifier,
                              reconstructions=reconstruct(gen, real, captions, ev.batch_size),
                              generated=generated, prompts=captions)
        for name, est in cost(gen, captions[0], kw).items():
            vm = vm.with_estimate(name, est)
        calls[v] = one_call(gen, captions[0], kw)
        for name, history in (("convergence_rounds", prior_history), ("vqgan_convergence_rounds", vqgan_history)):
            conv = convergence_rounds([[h["val_loss"] for h in history]], window=params.train.convergence_window,
                                      min_rel_improvement=params.train.convergence_min_rel_improvement,
                                      confidence=config.confidence)
            if conv.estimate is not None:  # one training run: the epoch, with no interval
                vm = vm.with_estimate(name, conv.estimate)
        variants[v] = vm
        logs[(v, "prior")] = prior_history
        if vqgan_owner(params, v) == v:
            logs[(v, "vqgan")] = vqgan_history
        snaps = snapshot_paths(prior_checkpoint(params, root, v).parent)
        snapshot_rows.append(snapshot_quality(
            v, gen, snaps, snap_prompts, clip=clip, classifier=classifier, gen_kwargs=kw,
            classifier_head=config.classifier_head, confidence=config.confidence,
            n_resamples=config.n_resamples, seed=config.seed, batch_size=config.batch_size, params_hash=phash))
        figure11["reconstructed"][v] = to_pil(reconstruct(gen, f11_image, [f11_caption], 1))[0]
        figure11["generated"][v] = to_pil(gen.generate_tensors([f11_caption], **kw))[0]
        if v == "full":
            full_generated = generated
            epochs, images = snapshot_images(gen, snaps, ev.figure12_prompt, ev.figure12_samples, gen_kwargs=kw,
                                             params_hash=phash)
            figure12 = {"prompt": ev.figure12_prompt, "epochs": epochs, "images": to_pil(images),
                        "samples": ev.figure12_samples}
        del gen

    # the variants' inference times, round-robin so that a slower or faster spell of the machine cannot
    # favour the variant that happened to be timed in it
    timings = time_interleaved(calls, warmup=config.timing_warmup, runs=config.timing_runs, device=device)
    for v, timing in timings.items():
        variants[v] = variants[v].with_estimate("inference_ms", timing.estimate(config.confidence, config.n_resamples,
                                                                               config.seed), per_item=timing.ms)
    snapshot_scores = pd.concat(snapshot_rows, ignore_index=True)
    curves = curve_table(history_frame(logs), snapshot_scores)
    plot_files = write_plot_files(curves, root / params.paths.metrics / PLOTS_DIR)
    claims = claims_frame(paper, variants, config)

    # Table 2's protocol: full's paintings (first prompts) and authentic test works of *other* items
    e = ev.expert
    n_gen = min(e.n_generated, len(captions))
    used = set(chosen["item_id"].iloc[:n_gen])
    others = test.rows[~test.rows["item_id"].isin(used)]
    pick = np.random.default_rng(e.seed).permutation(len(others))[:e.n_authentic]
    gen_works = [Work(f"full:{chosen['item_id'].iloc[i]}", img, captions[i], "full")
                 for i, img in enumerate(to_pil(full_generated[:n_gen]))]
    auth_works = [Work(str(others["item_id"].iloc[j]), test.images[others.index[j]], str(others["caption"].iloc[j]))
                  for j in pick]
    package_dir, key_dir = root / EXPERT_KIT_DIR, root / EXPERT_KEY_DIR
    shutil.rmtree(package_dir, ignore_errors=True)  # a stale image would be rated by mistake
    kit = build_package(package_dir, key_dir, gen_works, auth_works, kit_config(params))

    dev = device_name(device)
    wall = time.perf_counter() - start
    metrics = {"device": dev, "n_test_images": len(real), "n_snapshot_prompts": len(snap_prompts),
               "training_seeds_per_variant": 1, "confidence": config.confidence, "wall_seconds": wall,
               "fid_is": "computed with Inception-v3" if config.inception_weights else
               "not computed (no local Inception-v3 weights): frechet_clip and classifier_score instead",
               "variants": {v: {m: {k: val for k, val in est.to_dict().items() if k != "confidence"}
                                for m, est in vm.estimates.items()} for v, vm in variants.items()},
               "claims": {r["claim"]: r["verdict"] for r in claims.to_dict("records")},
               "expert_kit": {"n_generated": kit.n_generated, "n_authentic": kit.n_authentic}}
    write_metrics(root / params.paths.metrics / "evaluate.json", _finite(metrics))
    corpus = f"{params.collect.source} corpus, test split"
    return EvaluateResult(variants, table1_frame(variants), beside_paper(variants, paper),
                          table3_frame(variants, paper, corpus), claims, paper, curves,
                          snapshot_scores, figure11, figure12, kit, dev, plot_files, metrics)


def _finite(obj: Any) -> Any:
    """NaN (no interval) as null, so the metrics file stays valid JSON for ``dvc metrics``."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def read_metrics(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))

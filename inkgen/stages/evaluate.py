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

Every variant is trained once per seed of ``seeds`` (the same seeds for every variant), and every
trained model paints the same test prompts and reconstructs the same test images. Table 1's cells and
every verdict come from seed-level intervals (:mod:`inkgen.metrics.seeds`: a t over seeds with the shared
item term; set-level metrics by a paired bootstrap on shared indices), with N seeds and N images beside
them; Holm's correction runs across the claims. CLIP metrics are measured with the independent **judge**
(``models/clip_judge.pt``) and, for comparison, with the **guide** of eq. 13; the verdicts that change
between the two are listed. The generalisation claim compares test items of seen secondary categories
with the ``withheld`` split (``annotate.withheld_secondary``), painted by ``full``. Cost (parameters, MACs,
inference time), Figures 8-12 and the expert kit use the first seed's models (parameters and MACs do not
depend on the seed).
"""

from __future__ import annotations

import dataclasses
import functools
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
from inkgen.data.dataset import load_split, read_manifest
from inkgen.determinism import deterministic
from inkgen.expert_kit.config import KitConfig
from inkgen.expert_kit.package import Work, build_package
from inkgen.generate import to_pil
from inkgen.heldout import held_out_prompts
from inkgen.layout import Layout, write_metrics
from inkgen.metrics.cost import count_macs, time_interleaved
from inkgen.metrics.paper import load_paper_reported
from inkgen.metrics.stats import exact
from inkgen.metrics.eval_config import EvalConfig
from inkgen.metrics.table1 import VariantMetrics
from inkgen.metrics.claims import NOT_APPLICABLE, Seeded
from inkgen.metrics.cost import device_name
from inkgen.metrics.distribution import clip_image_features
from inkgen.metrics.paper import PaperReported
from inkgen.metrics.seeded import SeedMeasure, assemble, groups, measure_seed
from inkgen.metrics.tables import beside_paper, claims_frame, judge_vs_guide, table1_frame, table3_frame, verdicts
from inkgen.models.classifier import load_classifier
from inkgen.trained import generation_kwargs, histories, load_clips, load_generator
from inkgen.training import resolve_device
from inkgen.training.runs import VARIANTS, parameter_table, params_hash, vqgan_owner

# where the authentic works of the expert kit come from, as raters are told (collect.json's "source")
AUTHENTIC_SOURCES = {"procedural": "rendered by this study's procedural painting program, not by human painters",
                     "folder": "images from the study's own collection", "met": "open-access works of The Met",
                     "cleveland": "open-access works of the Cleveland Museum of Art",
                     "aic": "open-access works of the Art Institute of Chicago"}
PLOTS_DIR = "evaluate-curves"  # under paths.metrics


def eval_config(params: Params) -> EvalConfig:
    """The evaluation's settings: ``evaluate`` and the forward-pass batch of ``inference``."""
    ev = params.evaluate
    return EvalConfig(**{f.name: getattr(ev, f.name) for f in dataclasses.fields(EvalConfig) if f.name != "batch_size"},
                      batch_size=params.inference.batch_size)


def kit_config(params: Params, source: str) -> KitConfig:
    """Table 2's protocol for works collected from ``source`` (collect.json's ``source``)."""
    e = params.evaluate.expert
    return KitConfig(**{f.name: getattr(e, f.name) for f in dataclasses.fields(KitConfig)
                        if f.name not in KitConfig.DECIDED_ELSEWHERE},
                     confidence=params.evaluate.confidence, n_resamples=params.evaluate.n_resamples,
                     authentic_source=AUTHENTIC_SOURCES.get(source, ""))


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
    table1: pd.DataFrame          # variant x metric, "value [low, high] (N=S seeds x n images)"
    beside_paper: pd.DataFrame    # Table 1 numbers reported by the paper beside ours
    table3: pd.DataFrame          # Table 3 rows reported by the paper, and ours
    claims: pd.DataFrame          # claim id, text, metric used, verdict (with its N), comparisons
    judge_vs_guide: pd.DataFrame  # each claim's verdict with the judge's and with the guide's CLIP metrics
    paper: PaperReported
    curves: pd.DataFrame          # long: variant, phase, epoch, metric, value
    snapshot_scores: pd.DataFrame  # per epoch with intervals
    figure11: dict[str, Any]
    figure12: dict[str, Any]
    kit: Any
    device: str
    plot_files: dict[str, Path]
    metrics: dict[str, Any]



def run(params: Params, root: str | Path | None = None) -> EvaluateResult:
    """Everything of the stage; writes metrics, plot CSVs and the expert package (see module doc)."""
    with deterministic(params.inference.threads, warn_only=True):
        return _run(params, Path(root) if root is not None else project_root())


@dataclass
class _Items:
    """The evaluation items: test images and captions (stratified pick), and the withheld split's."""

    real: torch.Tensor
    captions: list[str]
    primary: list[str]
    rows: pd.DataFrame
    withheld_captions: list[str]
    withheld_primary: list[str]


def _items(params: Params, root: Path, test) -> _Items:
    ev = params.evaluate
    chosen = held_out_prompts(test, ev.n_images or len(test), ev.seed)  # stratified by category
    real = test.as_float_tensor()[torch.as_tensor(np.array(chosen["index"], dtype=np.int64))]
    manifest = read_manifest(Layout(params, root).manifest)
    held = manifest[manifest["split"] == "withheld"].sort_values("item_id")
    if ev.n_images:
        held = held.head(ev.n_images)
    return _Items(real, list(chosen["caption"]), list(chosen["primary"]), chosen, list(held["caption"]),
                  list(held["primary"]))


def _measure_variant(params: Params, root: Path, v: str, items: _Items, clips, classifier, kw, device,
                     config: EvalConfig) -> tuple[list[SeedMeasure], list[SeedMeasure] | None]:
    """Every seed's measures of variant ``v`` (and, for ``full``, of the seen + withheld prompts)."""
    measures, general, batch = [], [], params.inference.batch_size
    for seed in params.seeds:
        gen = load_generator(params, root, v, seed, device)
        run = histories(params, root, v, seed)
        generated = gen.generate_tensors(items.captions, **kw)
        measures.append(measure_seed(generated=generated, prompts=items.captions, requested_primary=items.primary,
                                     clips=clips, classifier=classifier, classifier_head=config.classifier_head,
                                     batch_size=batch, real=items.real,
                                     reconstructions=reconstruct(gen, items.real, items.captions, batch),
                                     convergence={"prior": run.prior_converged, "vqgan": run.vqgan_converged}))
        if v == "full" and items.withheld_captions:
            prompts = items.captions + items.withheld_captions
            extra = gen.generate_tensors(items.withheld_captions, **kw)
            general.append(measure_seed(generated=torch.cat([generated, extra]), prompts=prompts,
                                        requested_primary=items.primary + items.withheld_primary,
                                        clips={"judge": clips["judge"]}, classifier=classifier,
                                        classifier_head=config.classifier_head, batch_size=batch))
        del gen
    return measures, general or None


def _estimates(measured: dict[str, Any], guide: dict[str, Any], config: EvalConfig) -> dict:
    """Table 1 cells of one variant: seed-level estimates; the guide's CLIP metrics as extra columns."""
    kw = dict(n_resamples=config.set_resamples, seed=config.seed)
    out = {name: m.estimate(config.confidence, **kw) for name, m in measured.items() if isinstance(m, Seeded)}
    for name in ("clip_cosine", "frechet_clip"):
        if name in guide:
            out[f"{name} (guide)"] = guide[name].estimate(config.confidence, **kw)
    for name in ("frechet_clip", "frechet_clip (guide)"):  # a distance: the t interval's bound is clipped at 0
        if name in out and out[name].has_interval:
            out[name] = dataclasses.replace(out[name], low=max(out[name].low, 0.0))
    return out


@dataclass
class _FirstSeed:
    """What evaluation takes from each variant's first training seed: its cost and inference call, its
    training curves, its snapshots' quality and its figures (parameters and MACs do not depend on the seed)."""

    items: Any
    f11_image: Any                  # Figure 11's test painting, reconstructed and repainted by every variant
    f11_caption: str
    snap_prompts: list[str]
    kw: dict[str, Any]              # generation settings
    phash: str                      # snapshots are written under the prior's params hash
    judge: Any
    classifier: Any
    figure11: dict                  # filled with each variant's reconstruction and painting
    calls: dict = dataclasses.field(default_factory=dict)
    logs: dict = dataclasses.field(default_factory=dict)
    snapshot_rows: list = dataclasses.field(default_factory=list)
    figure12: dict = dataclasses.field(default_factory=dict)
    full_generated: Any = None

    def collect(self, params: Params, root: Path, v: str, device: Any, config: EvalConfig,
                judged_in: dict, guided_in: dict) -> VariantMetrics:
        """Load ``v``'s first-seed model, take what is listed above, and return its Table 1 row."""
        ev, first = params.evaluate, params.seeds[0]
        gen = load_generator(params, root, v, first, device)
        costs = cost(gen, self.items.captions[0], self.kw)
        judged_in.update(costs)
        guided_in.update(costs)
        vm = VariantMetrics(v, {**_estimates(judged_in, guided_in, config), **costs}, {}, config.seed)
        self.calls[v] = one_call(gen, self.items.captions[0], self.kw)
        run = histories(params, root, v, first)
        self.logs[(v, "prior")] = run.prior
        if vqgan_owner(params, v) == v:
            self.logs[(v, "vqgan")] = run.vqgan
        snaps = snapshot_paths(Layout(params, root).prior_checkpoint(v, first).parent)
        self.snapshot_rows.append(snapshot_quality(
            v, gen, snaps, self.snap_prompts, clip=self.judge, classifier=self.classifier, gen_kwargs=self.kw,
            classifier_head=config.classifier_head, confidence=config.confidence,
            n_resamples=config.n_resamples, seed=config.seed, batch_size=config.batch_size,
            params_hash=self.phash))
        self.figure11["reconstructed"][v] = to_pil(reconstruct(gen, self.f11_image, [self.f11_caption], 1))[0]
        self.figure11["generated"][v] = to_pil(gen.generate_tensors([self.f11_caption], **self.kw))[0]
        if v == "full":
            self.full_generated = gen.generate_tensors(self.items.captions[:ev.expert.n_generated], **self.kw)
            epochs, images = snapshot_images(gen, snaps, ev.figure12_prompt, ev.figure12_samples,
                                             gen_kwargs=self.kw, params_hash=self.phash)
            self.figure12 = {"prompt": ev.figure12_prompt, "epochs": epochs, "images": to_pil(images),
                             "samples": ev.figure12_samples}
        return vm


def _run(params: Params, root: Path) -> EvaluateResult:
    start = time.perf_counter()
    ev, config, paper = params.evaluate, eval_config(params), load_paper_reported()
    seeds = tuple(params.seeds)
    device = resolve_device(params.inference.device)
    phash = params_hash(params, "prior")  # snapshots are written under the prior's hash
    clips = load_clips(params, root)  # before any work: refuses a judge that is the guide
    layout = Layout(params, root)
    # the corpus's source and the withheld categories are the upstream stages' record (not their params)
    source = layout.read_stage_metrics("collect")["source"]
    withheld_secondary = layout.read_stage_metrics("annotate")["withheld_secondary"]
    test = load_split(layout.manifest, "test", root)
    items = _items(params, root, test)
    real_features = {k: clip_image_features(c, items.real, params.inference.batch_size) for k, c in clips.items()}
    classifier = load_classifier(layout.classifier)
    kw = generation_kwargs(params, clips["guide"])  # test-time refinement (if any) uses the guide, as in training
    first_seed = _first_seed(ev, test, items, kw, phash, clips["judge"], classifier)

    variants, judged_in, guided_in, generalisation = {}, {}, {}, None
    for v in VARIANTS:
        measures, general = _measure_variant(params, root, v, items, clips, classifier, kw, device, config)
        judged_in[v] = assemble(measures, seeds, real_features=real_features, clip_score_w=config.clip_score_w)
        guided_in[v] = {**judged_in[v], **{k: m for k, m in assemble(measures, seeds, real_features=real_features,
                                                                     clip_score_w=config.clip_score_w,
                                                                     which="guide").items()
                                           if k in ("clip_cosine", "clip_score", "frechet_clip")}}
        if general is not None:
            withheld = np.r_[np.zeros(len(items.captions), bool), np.ones(len(items.withheld_captions), bool)]
            generalisation = groups(general, seeds, withheld)
        variants[v] = first_seed.collect(params, root, v, device, config, judged_in[v], guided_in[v])

    # the variants' inference times (first seed), round-robin so that a slower or faster spell of the
    # machine cannot favour the variant timed in it; no claim rests on them (CLIP is a training loss)
    timings = time_interleaved(first_seed.calls, warmup=config.timing_warmup, runs=config.timing_runs, device=device)
    for v, timing in timings.items():
        variants[v] = variants[v].with_estimate("inference_ms", timing.estimate(config.confidence, config.n_resamples,
                                                                               config.seed), per_item=timing.ms)
    snapshot_scores = pd.concat(first_seed.snapshot_rows, ignore_index=True)
    curves = curve_table(history_frame(first_seed.logs), snapshot_scores)
    plot_files = write_plot_files(curves, layout.metrics / PLOTS_DIR)
    claims, versus = _judgements(paper, config, judged_in, guided_in, generalisation)

    kit = _expert_kit(params, layout, items, test, first_seed.full_generated, source)
    dev = device_name(device)
    metrics = _metrics_record(params, config, items, len(first_seed.snap_prompts), variants, claims, versus, paper, kit,
                              dev, withheld_secondary, wall=time.perf_counter() - start)
    write_metrics(layout.stage_metrics("evaluate"), _finite(metrics))
    corpus = f"{source} corpus, test split"
    return EvaluateResult(variants, table1_frame(variants), beside_paper(variants, paper),
                          table3_frame(variants, paper, corpus), claims, versus, paper, curves,
                          snapshot_scores, first_seed.figure11, first_seed.figure12, kit, dev, plot_files, metrics)


def _first_seed(ev: Any, test: Any, items: Any, kw: dict, phash: str, judge: Any, classifier: Any) -> "_FirstSeed":
    """What only the first seed's models make: Figure 11's item (``evaluate.figure11_item``, else a seeded
    landscape of the test split), Figure 12's snapshots, the timed calls and full's paintings for the kit."""
    f11 = pick_landscape(test.rows, ev.figure11_item, ev.seed)
    f11_image, f11_caption = test.as_float_tensor()[f11:f11 + 1], str(test.rows["caption"].iloc[f11])
    figure11 = {"item_id": str(test.rows["item_id"].iloc[f11]), "caption": f11_caption,
                "original": to_pil(f11_image)[0], "reconstructed": {}, "generated": {}}
    return _FirstSeed(items, f11_image, f11_caption, items.captions[:ev.snapshot_prompts], kw, phash, judge,
                      classifier, figure11)


def _judgements(paper: Any, config: EvalConfig, judged_in: dict, guided_in: dict,
                generalisation: dict | None) -> tuple[pd.DataFrame, Any]:
    """The claims' verdicts measured with the judge (and the generalisation claims, judge only: both groups
    are full's paintings), and which verdicts the guide's CLIP would have changed."""
    judged = verdicts(paper, judged_in, config, "evaluate")
    guided = verdicts(paper, guided_in, config, "evaluate")
    if generalisation is not None:
        judged.update(verdicts(paper, generalisation, config, "generalisation"))
    claims = claims_frame(paper, judged, {**judged_in, **(generalisation or {})})
    versus = judge_vs_guide({k: v for k, v in judged.items() if k in guided and v.verdict != NOT_APPLICABLE},
                            guided)
    return claims, versus


def _expert_kit(params: Params, layout: Layout, items: Any, test: Any, full_generated: Any, source: str) -> Any:
    """Table 2's protocol: full's paintings (first prompts, first seed) and authentic test works of other
    items, shuffled into a rating package with its key kept apart."""
    e = params.evaluate.expert
    n_gen = min(e.n_generated, len(items.captions))
    used = set(items.rows["item_id"].iloc[:n_gen])
    others = test.rows[~test.rows["item_id"].isin(used)]
    pick = np.random.default_rng(e.seed).permutation(len(others))[:e.n_authentic]
    gen_works = [Work(f"full:{items.rows['item_id'].iloc[i]}", img, items.captions[i], "full")
                 for i, img in enumerate(to_pil(full_generated[:n_gen]))]
    auth_works = [Work(str(others["item_id"].iloc[j]), test.images[others.index[j]], str(others["caption"].iloc[j]))
                  for j in pick]
    shutil.rmtree(layout.expert_kit, ignore_errors=True)  # a stale image would be rated by mistake
    return build_package(layout.expert_kit, layout.expert_key, gen_works, auth_works, kit_config(params, source))


def _metrics_record(params: Params, config: EvalConfig, items: Any, n_snapshot_prompts: int, variants: dict,
                    claims: pd.DataFrame, versus: pd.DataFrame, paper: Any, kit: Any, dev: str,
                    withheld_secondary: list[str], *, wall: float) -> dict[str, Any]:
    """``evaluate.json``: every estimate with its N, every verdict, the judge-vs-guide comparison."""
    seeds = list(params.seeds)
    return {"device": dev, "training_seeds": seeds, "n_seeds": len(seeds),
            "n_test_images": len(items.real), "n_withheld_images": len(items.withheld_captions),
            "withheld_secondary": list(withheld_secondary), "figure12_prompt": params.evaluate.figure12_prompt,
            "n_snapshot_prompts": n_snapshot_prompts, "confidence": config.confidence,
            "interval": "t over training seeds with the shared test-item term (inkgen.metrics.seeds); "
                        "set-level metrics by a paired bootstrap of the difference; Holm across claims",
            "clip_metrics_from": "judge (models/clip_judge.pt); the guide's in columns '(guide)'",
            "wall_seconds": wall,
            "fid_is": "computed with Inception-v3" if config.inception_weights else
            "not computed (no local Inception-v3 weights): frechet_clip and classifier_score instead",
            "variants": {v: {m: {k: val for k, val in est.to_dict().items() if k != "confidence"}
                             for m, est in vm.estimates.items()} for v, vm in variants.items()},
            "claims": {r["claim"]: {"verdict": r["verdict"], "metric": r["metric used"], "n_seeds": r["n_seeds"],
                                    "n_items": r["n_items"]} for r in claims.to_dict("records")},
            "judge_vs_guide": {r["claim"]: {"judge": r["with the judge"], "guide": r["with the guide"],
                                            "changed": r["changed"]} for r in versus.to_dict("records")},
            "untestable": [dict(u) for u in paper.untestable],
            "expert_kit": {"n_generated": kit.n_generated, "n_authentic": kit.n_authentic,
                           "from_seed": seeds[0]}}


def _finite(obj: Any) -> Any:
    """NaN (no interval) as null, so the metrics file stays valid JSON for ``dvc metrics``."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        return _finite(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj

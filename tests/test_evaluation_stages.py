"""The evaluation stages' library: curves and snapshots (Figures 8-10, 12), Table 1/3 assembly and claim
verdicts (evaluate), instruction sequences (Figure 13), the study page -- on tiny models and made-up metrics."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from inkgen import config  # noqa: E402
from inkgen.curves import (history_frame, is_formula, snapshot_images, snapshot_paths, snapshot_quality,  # noqa: E402
                           write_plot_files)
from inkgen.metrics.tables import _unmeasured, beside_paper, claims_frame, table1_frame, table3_frame  # noqa: E402
from inkgen.stages.evaluate import _finite, eval_config, kit_config, pick_landscape, reconstruct  # noqa: E402
from inkgen.metrics.instructions import (InstructionError, against_threshold, apply_step, compare_with_paper,  # noqa: E402
                                 load_sequences, round_grid, round_prompts, run_sequence)
from inkgen.metrics.claims import HOLDS, INCONCLUSIVE  # noqa: E402
from inkgen.metrics.paper import load_paper_reported  # noqa: E402
from inkgen.metrics.stats import exact  # noqa: E402
from inkgen.metrics.table1 import VariantMetrics  # noqa: E402
from inkgen.metrics.distribution import inception_type_score  # noqa: E402
from inkgen.metrics.stats import Estimate  # noqa: E402
from inkgen.models.classifier import build_classifier, default_classes  # noqa: E402
from inkgen.metrics.study import load_study  # noqa: E402

from tiny_models import HASH, TINY_CLIP, train_tiny_generator  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
VARIANTS = ("full", "no_clip", "no_transformer", "vqgan_clip", "vqgan")
GEN_KW = dict(seed=0, temperature=1.0, top_k=None, batch=8)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny trained generator with two per-epoch prior snapshots, a random CLIP and classifier."""
    from test_generate import make_bert

    from inkgen.generate import Generator
    from inkgen.models.clip import build_clip, freeze
    from inkgen.models.text_encoder import TextEncoder

    root = tmp_path_factory.mktemp("evalstages")
    enc = TextEncoder(make_bert(root / "bert", hidden=12), freeze=True, max_tokens=12)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(8, 3, 16, 16, generator=g) * 2 - 1).clamp(-1, 1)
    captions = [f"a {c} painting" for c in ("red", "green", "blue", "black")] * 2
    vq, pr = train_tiny_generator(root, enc, x, captions, prior_epochs=2, snapshots=True)
    gen = Generator(vq.model, pr.model, enc)
    clip = freeze(build_clip(TINY_CLIP, seed=0))
    classifier = build_classifier("resnet18", 32, default_classes(), seed=0)
    return dict(gen=gen, dir=root / "ck", clip=clip, classifier=classifier, images=x, captions=captions,
                history=pr.history, vq_history=vq.history)


# ------------------------------------------------------------------------------------------------ curves
def test_is_formula_equals_the_torchmetrics_one():
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(4) * 0.5, size=40))
    assert is_formula(logp) == pytest.approx(inception_type_score(logp, 1), rel=1e-5)
    assert is_formula(np.log(np.full((10, 4), 0.25))) == pytest.approx(1.0)  # no information: exp(0)


def test_history_frame_and_plot_files(tmp_path):
    hist = {("full", "prior"): [{"epoch": 1, "loss": 3.0, "val_loss": 3.5}, {"epoch": 2, "loss": 2.0, "val_loss": 3.0}],
            ("vqgan", "prior"): [{"loss": 4.0, "val_loss": 4.5, "note": "x"}]}
    frame = history_frame(hist)
    assert set(frame["metric"]) == {"loss", "val_loss"} and len(frame) == 6
    files = write_plot_files(frame, tmp_path)
    wide = pd.read_csv(files["prior_val_loss"])
    assert list(wide.columns) == ["epoch", "full", "vqgan"]
    assert wide.loc[wide["epoch"] == 2, "full"].item() == 3.0 and np.isnan(wide.loc[wide["epoch"] == 2, "vqgan"].item())
    assert "vqgan_val_psnr" not in files  # nothing recorded, no file


def test_snapshots_paint_every_epoch(tiny):
    snaps = snapshot_paths(tiny["dir"])
    assert [e for e, _ in snaps] == [1, 2]
    scores = snapshot_quality("full", tiny["gen"], snaps, tiny["captions"][:3], clip=tiny["clip"],
                              classifier=tiny["classifier"], gen_kwargs=GEN_KW, classifier_head="primary",
                              confidence=0.95, n_resamples=50, seed=0, batch_size=8, params_hash=HASH)
    assert len(scores) == 4 and set(scores["metric"]) == {"clip_cosine", "classifier_score"}
    assert (scores["n"] == 3).all() and scores["value"].between(-1, 4).all()
    epochs, images = snapshot_images(tiny["gen"], snaps, "a red painting", 2, gen_kwargs=GEN_KW, params_hash=HASH)
    assert epochs == [1, 2] and images.shape == (4, 3, 16, 16)
    # the last snapshot is the final model: same seeds, same pixels
    final = tiny["gen"].generate_tensors(["a red painting"], count=2, **GEN_KW)
    assert torch.equal(images[2:], final)


# ------------------------------------------------------------------------------------------- evaluate
def test_claims_are_judged_and_unmeasured_ones_say_why(repo_root):
    from inkgen.metrics.tables import verdicts
    from inkgen.metrics.claims import Seeded

    paper = load_paper_reported()
    rng = np.random.default_rng(0)
    seeds = (1, 2, 3)
    base = rng.normal(20, 1, (1, 40))
    measured = {v: {"psnr": Seeded(seeds, base + (3 if v == "full" else 0) + rng.normal(0, 0.05, (3, 40))),
                    "clip_cosine": Seeded(seeds, 0.3 + (0.1 if v == "full" else 0) + rng.normal(0, 0.01, (3, 40))),
                    "parameter_count": exact(1000)} for v in VARIANTS}
    cfg = eval_config(config.load(repo_root / "params.yaml"))
    judged = verdicts(paper, measured, cfg, "evaluate")
    claims = claims_frame(paper, judged, measured).set_index("claim")
    assert claims.loc["rdb_raises_psnr", "verdict"].startswith(HOLDS + " (N = 3 training seeds x 40 items")
    assert claims.loc["clip_raises_cosine", "verdict"].startswith(HOLDS)
    assert claims.loc["rdb_raises_psnr", "n_seeds"] == 3 and claims.loc["rdb_raises_psnr", "n_items"] == 40
    assert claims.loc["clip_adds_parameters", "verdict"].startswith("not applicable in this implementation")
    assert claims.loc["fig8b_parameters_above_vqgan", "verdict"].startswith("does not hold")  # equal: strict fails
    assert claims.loc["full_converges_fastest", "verdict"].startswith("not measured")
    assert "did not converge" in claims.loc["full_converges_fastest", "verdict"]
    assert "fig13_style_element_above_scene" not in claims.index  # the instructions stage judges it
    vms = {v: VariantMetrics(v, {k: m.estimate(0.95, n_resamples=10, seed=0) if isinstance(m, Seeded) else m
                                 for k, m in measured[v].items()}) for v in VARIANTS}
    table = table1_frame(vms)
    assert list(table.index) == list(VARIANTS) and "3 seeds x 40 images" in table.loc["full", "psnr (dB)"]
    assert table.loc["full", "parameter_count (M)"] == "0.001 M"  # a count in the paper's unit, not 1000.000
    beside = beside_paper(vms, paper).set_index(["variant", "paper metric"])
    assert tuple(beside.loc[("full", "parameters_m"), ["unit", paper.label, "ours (this study)"]]) == ("M", 89, "0.001 M")
    assert beside.loc[("full", "psnr_db"), "unit"] == "dB"
    t3 = table3_frame(vms, paper, "procedural corpus")
    assert (t3["source"] == paper.label).sum() == len(paper.table3)
    assert t3.iloc[-2]["cosine_similarity"].startswith("clip_cosine:")
    assert _unmeasured(paper.claim("full_is_above_baseline"), measured).startswith("not measured: is/classifier_score")


def test_convergence_epochs_over_seeds_decide_full_converges_fastest(repo_root):
    """With >= 3 seeds, per-seed convergence epochs give "full converges fastest" a verdict."""
    from inkgen.metrics.tables import verdicts
    from inkgen.metrics.claims import Seeded

    paper = load_paper_reported()
    seeds = (1, 2, 3)
    full = np.array([4.0, 5.0, 4.0])
    epochs = {"full": full, "no_clip": full + 5, "no_transformer": full + [4, 4, 5], "vqgan_clip": full + 6,
              "vqgan": full + [8, 8, 8]}
    measured = {v: {"convergence_rounds": Seeded(seeds, np.array(e, float)[:, None])} for v, e in epochs.items()}
    cfg = eval_config(config.load(repo_root / "params.yaml"))
    judged = verdicts(paper, measured, cfg, "evaluate")
    assert judged["full_converges_fastest"].verdict == HOLDS
    assert judged["full_converges_fastest"].n_seeds == 3
    # seeds that disagree leave it open, however clear the mean
    epochs["no_transformer"] = full + [1, 9, 2]
    measured = {v: {"convergence_rounds": Seeded(seeds, np.array(e, float)[:, None])} for v, e in epochs.items()}
    assert verdicts(paper, measured, cfg, "evaluate")["full_converges_fastest"].verdict == INCONCLUSIVE


def test_config_helpers_and_figure11_pick(repo_root):
    params = config.load(repo_root / "params.yaml")
    assert eval_config(params).confidence == params.evaluate.confidence
    assert sum(kit_config(params, "procedural").dimensions.values()) == pytest.approx(1.0)
    rows = pd.DataFrame({"item_id": ["a", "b", "c"], "primary": ["figure", "landscape", "landscape"]})
    assert pick_landscape(rows, "", 0) in (1, 2)
    assert pick_landscape(rows, "a", 0) == 0
    with pytest.raises(ValueError, match="not in the test split"):
        pick_landscape(rows, "zz", 0)
    assert _finite({"a": float("nan"), "b": {"c": 1.0}}) == {"a": None, "b": {"c": 1.0}}


def test_reconstruct_keeps_shape_and_range(tiny):
    out = reconstruct(tiny["gen"], tiny["images"][:5], tiny["captions"][:5], batch=2)
    assert out.shape == (5, 3, 16, 16) and out.min() >= -1 and out.max() <= 1


# --------------------------------------------------------------------------------------- instructions
def test_packaged_sequences_apply_for_seven_rounds():
    seqs = load_sequences(classes=default_classes())
    assert set(seqs) == {"element_replacement", "attribute_fine_tuning", "scene_extension"}
    for seq in seqs.values():
        plan = round_prompts(seq, 7)
        assert list(plan["round"]) == list(range(8))
        assert plan["prompt"].is_unique, f"{seq.name}: an edit left the prompt unchanged"
    er = round_prompts(seqs["element_replacement"], 7)
    assert er.loc[4, "primary"] == "birds_animals" and er.loc[7, "primary"] == "landscape"
    assert round_prompts(seqs["attribute_fine_tuning"], 7).loc[2, "painting_type"] == "gongbi"


def test_bad_sequences_are_refused_with_the_place_named(tmp_path):
    seqs = load_sequences()
    step = seqs["scene_extension"].steps[0]
    with pytest.raises(InstructionError, match="does not occur"):
        apply_step("a painting of birds", step, "here")
    bad = tmp_path / "s.yaml"
    bad.write_text("sequences:\n  x:\n    start: {prompt: p, expect: {primary: dragons, painting_type: xieyi}}\n"
                   "    steps: []\n")
    with pytest.raises(InstructionError, match="'dragons' is not a class"):
        load_sequences(bad, default_classes())
    with pytest.raises(InstructionError, match="1 steps, 2 rounds"):
        round_prompts(load_sequences(_short_file(tmp_path)).popitem()[1], 2)


def _short_file(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("sequences:\n  swap:\n    label: swap\n    start:\n      prompt: a red painting\n"
                    "      expect: {primary: landscape, painting_type: xieyi}\n    steps:\n"
                    "      - instruction: make it blue\n        replace: [[red, blue]]\n"
                    "        expect: {painting_type: gongbi}\n")
    return path


def test_run_sequence_measures_both_curves(tiny, tmp_path):
    seq = load_sequences(_short_file(tmp_path))["swap"]
    table, images = run_sequence(tiny["gen"], seq, 1, 3, gen_kwargs=GEN_KW, classifier=tiny["classifier"],
                                 clip=tiny["clip"], style_embedding="clip", confidence=0.95, n_resamples=50, seed=0)
    assert list(table["prompt"]) == ["a red painting", "a blue painting"]
    assert list(table["painting_type"]) == ["xieyi", "gongbi"]
    assert np.isnan(table.loc[0, "style_similarity"]) and -1 <= table.loc[1, "style_similarity"] <= 1
    assert table["response_accuracy"].between(0, 1).all() and len(images) == 2 and images[0].shape[0] == 3
    same, _ = run_sequence(tiny["gen"], seq, 1, 3, gen_kwargs=GEN_KW, classifier=tiny["classifier"],
                           clip=tiny["clip"], style_embedding="classifier", confidence=0.95, n_resamples=50, seed=0)
    assert -1 <= same.loc[1, "style_similarity"] <= 1 + 1e-9


def test_round_grid_is_titled_with_the_sequence_and_how_to_read_it():
    import matplotlib.pyplot as plt

    table = pd.DataFrame({"sequence": ["swap"] * 3 + ["other"] * 3, "label": ["element swap"] * 3 + ["x"] * 3,
                          "round": [0, 1, 2] * 2, "instruction": ["start", "blue", "green"] * 2})
    rounds = [torch.zeros(5, 3, 8, 8) for _ in range(3)]
    fig = round_grid(table, rounds, "swap", show=4)
    heading = fig._suptitle.get_text()
    assert heading.startswith("element swap (swap)\n")
    assert "rows: rounds 0–2" in heading.replace("\n", " ") and "columns: samples 1–4" in heading.replace("\n", " ")
    assert len([ax for ax in fig.axes if ax.images]) == 12
    assert [ax.get_title() for ax in fig.axes[::4]] == ["r0: start", "r1: blue", "r2: green"]
    with pytest.raises(InstructionError, match="sequence 'swap': 3 rows in the table, 2 rounds of images"):
        round_grid(table, rounds[:2], "swap")
    plt.close("all")


def test_comparison_with_the_paper_uses_pooled_rounds_and_thresholds():
    fig13 = load_paper_reported().figure13
    rows = [{"sequence": s, "round": r, "style_values": [0.9, 0.95], "accuracy_values": [1.0, 1.0]}
            for s in ("element_replacement", "scene_extension") for r in range(8)]
    out = compare_with_paper(pd.DataFrame(rows), fig13, confidence=0.95, n_resamples=50, seed=0)
    assert set(out["our interval vs threshold"]) == {"above"}
    assert (out["reported by the paper"].astype(float) > 0).all()
    short = compare_with_paper(pd.DataFrame(rows[:3]), fig13, confidence=0.95, n_resamples=50, seed=0)
    assert short["our interval vs threshold"].str.startswith("not measured").all()
    assert against_threshold(0.6, 0.75, 0.7) == "straddles" and against_threshold(0.1, 0.2, 0.7) == "below"


# ---------------------------------------------------------------------------------------------- study
def test_study_reads_metrics_and_governance(tmp_path):
    m = tmp_path / "reports" / "metrics"
    m.mkdir(parents=True)
    (m / "collect.json").write_text(json.dumps({"source": "procedural", "kept": 10}))
    (m / "evaluate.json").write_text(json.dumps({
        "variants": {"full": {"psnr": {"mean": 20.0, "low": 19.0, "high": 21.0, "n": 5, "method": "seed x item t",
                                       "n_seeds": 3},
                              "parameter_count": {"mean": 12345.0, "low": 12345.0, "high": 12345.0, "n": 1,
                                                  "method": "exact"}}},
        "claims": {"rdb_raises_psnr": {"verdict": HOLDS + " (N = 3 training seeds x 5 items)", "n_seeds": 3,
                                       "n_items": 5},
                   "clip_raises_cosine": INCONCLUSIVE},
        "judge_vs_guide": {"clip_raises_cosine": {"judge": INCONCLUSIVE, "guide": HOLDS, "changed": True}}}))
    study = load_study(tmp_path, "reports/metrics", [2026])
    assert study.procedural and study.metrics["clip"] is None
    t1 = study.table1()
    assert t1.loc["psnr_db (ours: psnr)", "full"] == "20.000 [19.00, 21.00] (N=3 seeds x 5 images)"
    assert t1.loc["psnr_db (reported by the paper)", "full"] == 28.6
    claims = study.claims().set_index("claim")
    assert claims.loc["rdb_raises_psnr", "verdict on our data"].startswith(HOLDS + " (N = 3 training seeds")
    assert claims.loc["rdb_raises_psnr", "N seeds"] == 3
    assert claims.loc["full_best_fid", "verdict on our data"] == "evaluate stage has not run"
    assert claims.loc["fig13_style_element_above_scene", "verdict on our data"] == "instructions stage has not run"
    assert study.verdict_counts()[HOLDS] == 1
    assert study.judge_vs_guide().set_index("claim").loc["clip_raises_cosine", "changed"]
    assert len(study.untestable()) >= 4 and len(study.inconsistencies()) >= 10
    assert study.governance_html is None and study.governance_summary().empty
    gov = tmp_path / "reports" / "governance"
    gov.mkdir(parents=True)
    (gov / "report.html").write_text("<html></html>")
    (gov / "report.json").write_text(json.dumps({"verified": True, "summary": {"held": 2}, "items": [1, 2]}))
    study = load_study(tmp_path, "reports/metrics", [2026])
    assert study.governance_html is not None
    assert study.governance_summary().to_dict() == {"verified": True, "summary.held": 2}


# ------------------------------------------------------------------------------- evaluate, end to end
@pytest.fixture(scope="module")
def study(tmp_path_factory, repo_root):
    """A project with tiny models trained for two seeds (every variant shares them), a test split and a
    withheld split, a guide CLIP and an independent judge: what run_evaluate reads."""
    import hashlib
    import shutil

    import yaml
    from PIL import Image
    from test_generate import make_bert

    from inkgen.layout import Layout
    from inkgen.models.classifier import save_classifier
    from inkgen.models.clip import ClipConfig, build_clip, save_clip
    from inkgen.models.text_encoder import TextEncoder
    from inkgen.training.runs import params_hash, vqgan_owner

    root = tmp_path_factory.mktemp("study")
    bert = make_bert(root / "bert", hidden=12)
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw = config.apply_overrides(raw, raw["profiles"]["smoke"], "profiles.smoke")
    raw["text_encoder"].update(path=str(bert), max_tokens=16)
    raw["seeds"] = [11, 12]
    raw["evaluate"].update(n_images=0, snapshot_prompts=2, figure12_prompt="a red plum blossom painting",
                           n_resamples=50, set_resamples=10, timing_warmup=0, timing_runs=2)
    raw["inference"]["threads"] = 1
    raw["evaluate"]["expert"].update(n_generated=2, n_authentic=2, display_size=32)
    params = config.parse(raw)
    (root / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")

    words = ("red", "green", "blue", "black")
    primaries = ("landscape", "figure", "flowers_plants", "birds_animals")
    rows, g = [], torch.Generator().manual_seed(1)
    for i in range(12):
        split = "withheld" if i >= 8 else "test"
        path = root / "data" / "curated" / f"it{i:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img = ((torch.rand(16, 16, 3, generator=g) * 255).to(torch.uint8)).numpy()
        Image.fromarray(img).save(path)
        rows.append({"item_id": f"it{i:02d}", "file": str(path.relative_to(root)),
                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "width": 16, "height": 16,
                     "source": "procedural", "license": "CC0", "split": split, "painting_type": "xieyi",
                     "primary": "birds_animals" if split == "withheld" else primaries[i % 4],
                     "secondary": "insects_fish" if split == "withheld" else "", "period": "", "themes": "",
                     "techniques": "", "elements": "", "caption": f"a {words[i % 4]} painting of plum blossom",
                     "label_origin": "procedural", "phash": f"{i:016x}", "near_dup_group": f"it{i:02d}"})
    (root / "data" / "dataset").mkdir(parents=True)
    # what evaluate reads of the upstream stages' runs (not of their params sections)
    (root / "reports" / "metrics").mkdir(parents=True)
    (root / "reports" / "metrics" / "collect.json").write_text(json.dumps({"source": "procedural"}))
    (root / "reports" / "metrics" / "annotate.json").write_text(json.dumps({"withheld_secondary": ["insects_fish"]}))
    pd.DataFrame(rows).to_csv(root / "data" / "dataset" / "manifest.csv", index=False)

    models = root / "models"
    models.mkdir()
    save_classifier(build_classifier("resnet18", 32, default_classes(), seed=0), models / "classifier.pt")
    save_clip(build_clip(TINY_CLIP, seed=0), models / "clip.pt")
    judge_config = ClipConfig(**{**TINY_CLIP.to_dict(), "patch_size": 4, "embed_dim": 12})
    save_clip(build_clip(judge_config, seed=1), models / "clip_judge.pt")

    enc = TextEncoder(bert, freeze=True, max_tokens=16)
    x = (torch.rand(8, 3, 16, 16, generator=g) * 2 - 1)
    captions = [r["caption"] for r in rows[:8]]
    for seed in params.seeds:
        train_tiny_generator(root / f"run{seed}", enc, x, captions, prior_epochs=2, snapshots=True, seed=seed,
                             vqgan_hash=params_hash(params, "vqgan"), prior_hash=params_hash(params, "prior"),
                             uncond_prob=params.prior_train.uncond_prob)  # so generate.guidance_scale applies
        ck = root / f"run{seed}" / "ck"
        for v in VARIANTS:  # every variant shares the tiny runs: the plumbing is tested, not the ablation
            vq = Layout(params, root).vqgan_checkpoint(vqgan_owner(params, v), seed)
            vq.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ck / "vqgan-last.pt", vq)
            pr = Layout(params, root).prior_checkpoint(v, seed)
            pr.parent.mkdir(parents=True, exist_ok=True)
            for f in ck.glob("prior-*.pt"):
                shutil.copy(f, pr.parent / f.name)
    return root, params


def test_evaluate_end_to_end_over_seeds_with_the_judge(study):
    from inkgen.stages.evaluate import run as run_evaluate

    root, params = study
    result = run_evaluate(params, root)
    m = json.loads((root / "reports" / "metrics" / "evaluate.json").read_text())
    assert m["training_seeds"] == [11, 12] and m["n_seeds"] == 2 and m["n_test_images"] == 8
    assert m["n_withheld_images"] == 4
    assert m["withheld_secondary"] == ["insects_fish"] and m["figure12_prompt"] == "a red plum blossom painting"
    psnr = m["variants"]["full"]["psnr"]
    assert psnr["n_seeds"] == 2 and psnr["n"] == 8 and psnr["method"] == "seed x item t"
    assert "2 seeds x 8 images" in result.table1.loc["full", "psnr (dB)"]
    assert "clip_cosine (guide)" in result.table1.columns
    claims = m["claims"]
    assert claims["clip_adds_parameters"]["verdict"].startswith("not applicable in this implementation")
    assert claims["fig8b_parameters_above_vqgan"]["verdict"].startswith("does not hold")  # identical tiny models
    for cid in ("rdb_raises_psnr", "clip_raises_cosine", "withheld_categories_degrade_recognition"):
        assert claims[cid]["n_seeds"] == 2 and "2 training seeds" in claims[cid]["verdict"], cid
    assert claims["withheld_categories_degrade_alignment"]["n_items"] == 12
    assert set(result.judge_vs_guide["claim"]) >= {"clip_raises_cosine", "full_best_fid"}
    assert "withheld_categories_degrade_alignment" not in set(result.judge_vs_guide["claim"])  # judge only
    assert m["variants"]["full"]["frechet_clip"]["low"] >= 0
    assert m["untestable"] and "judge_vs_guide" in m
    readme = (root / "reports" / "expert_kit" / "README.txt").read_text()
    assert "artist" not in readme.lower() and "procedural painting program" in readme


def test_evaluate_refuses_a_judge_with_the_guides_bytes(study):
    import shutil

    from inkgen.judge import JudgeError
    from inkgen.stages.evaluate import run as run_evaluate

    root, params = study
    judge = root / "models" / "clip_judge.pt"
    kept = judge.read_bytes()
    shutil.copy(root / "models" / "clip.pt", judge)
    try:
        with pytest.raises(JudgeError, match="clip_judge.pt.*same bytes as the guide"):
            run_evaluate(params, root)
    finally:
        judge.write_bytes(kept)


def test_figure13_ordering_is_judged_across_seeds(study, tmp_path):
    import dataclasses

    from inkgen.stages.instructions import run as run_instructions

    root, params = study
    seqs = tmp_path / "seqs.yaml"
    seqs.write_text(
        "sequences:\n"
        "  element_replacement:\n    label: swap\n    start:\n      prompt: a red painting\n"
        "      expect: {primary: landscape, painting_type: xieyi}\n    steps:\n"
        "      - instruction: blue\n        replace: [[red, blue]]\n        expect: {}\n"
        "      - instruction: green\n        replace: [[blue, green]]\n        expect: {}\n"
        "  scene_extension:\n    label: extend\n    start:\n      prompt: a black painting\n"
        "      expect: {primary: landscape, painting_type: xieyi}\n    steps:\n"
        "      - instruction: add\n        append: of plum\n        expect: {}\n"
        "      - instruction: add\n        append: blossom\n        expect: {}\n", encoding="utf-8")
    m = root / "reports" / "metrics"
    m.mkdir(parents=True, exist_ok=True)
    (m / "curate.json").write_text(json.dumps({"heldout_accuracy": {"primary": 0.9}, "n_holdout": {"primary": 10}}))
    (m / "judge.json").write_text(json.dumps({"val_recall@1": 0.2, "val_recall@5": 0.6, "chance@1": 0.1,
                                             "chance@5": 0.5, "n_val": 10}))
    p = dataclasses.replace(params, instructions=dataclasses.replace(params.instructions, sequences=str(seqs),
                                                                     rounds=2, samples=3, n_resamples=50))
    result = run_instructions(p, root)
    claims = result.claims.set_index("claim")
    assert set(claims.index) == {"fig13_style_element_above_scene", "fig13_response_element_above_scene"}
    assert (claims["n_seeds"] == 2).all() and (claims["n_items"] == 3).all()
    assert all("2 training seeds x 3 items" in v for v in claims["verdict"])
    saved = json.loads((m / "instructions.json").read_text())
    assert saved["training_seeds"] == [11, 12] and set(saved["claims"]) == set(claims.index)

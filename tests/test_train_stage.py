"""The training stages' plumbing (inkgen.training.runs, inkgen.stages.vqgan / train): configs from params, shared VQGANs, held-out prompts,
the classifier judge. The stages themselves run end to end in tests/test_pipeline_smoke.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from inkgen import config
from inkgen.data.dataset import Split
from inkgen.models.classifier import build_classifier
from inkgen.heldout import held_out_prompts, judge
from inkgen.layout import Layout, write_metrics
from inkgen.stages.vqgan import run as run_vqgan
from inkgen.training.runs import (VARIANTS, branch_source, branches_at, params_hash, prior_run, vqgan_run, vqgan_config,
                                  vqgan_owner)
from inkgen.training import TrainError, effective_lambda

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture()
def params(raw_params):
    return config.parse(raw_params)


def test_variants_share_a_vqgan_only_when_phase_1_is_the_same_run(params, raw_params):
    owners = {v: vqgan_owner(params, v) for v in VARIANTS}
    assert owners == {"full": "full", "no_clip": "no_clip", "no_transformer": "full",
                      "vqgan_clip": "vqgan_clip", "vqgan": "vqgan"}
    # full's run continues no_clip's at clip_start (until then they are one computation); none other branches
    assert {v: branch_source(params, v) for v in VARIANTS} == {
        "full": "no_clip", "no_clip": None, "no_transformer": "no_clip", "vqgan_clip": None, "vqgan": None}
    assert {v: branches_at(params, v) for v in VARIANTS} == {
        "full": None, "no_clip": params.vqgan_train.clip_start, "no_transformer": None, "vqgan_clip": None, "vqgan": None}
    raw_params["vqgan_train"]["lambda_clip"] = 0.0  # then full equals no_clip, still by continuing it: the DAG stays
    assert vqgan_owner(config.parse(raw_params), "no_clip") == "no_clip"
    assert branch_source(config.parse(raw_params), "full") == "no_clip"
    with pytest.raises(TrainError, match="unknown variant 'bogus'"):
        vqgan_owner(params, "bogus")


def test_a_variant_that_shares_its_vqgan_trains_none(params, tmp_path):
    with pytest.raises(TrainError, match="uses 'full'"):
        run_vqgan(params, tmp_path, "no_transformer", params.seeds[0])


def test_configs_come_from_params(params, raw_params):
    vq = vqgan_config(params, "vqgan", text_dim=384)
    assert vq.resolution == params.curate.target_size and vq.ch_mult == params.model.vqgan.ch_mult
    assert not (vq.rdb or vq.attention_encoder or vq.dual_codebook or vq.text_style_norm)
    assert vqgan_run(params, "no_clip").variant == "no_clip"
    assert effective_lambda(vqgan_run(params, "no_clip")) == 0.0
    assert effective_lambda(vqgan_run(params, "full")) == params.vqgan_train.lambda_clip
    paper = config.parse(config.apply_overrides(raw_params, raw_params["profiles"]["paper"], "paper"))
    big = vqgan_config(paper, "full", text_dim=768)
    assert (big.resolution, big.code_resolution, big.n_embed) == (256, 16, 1024)
    assert params_hash(params) != params_hash(paper)


def test_every_seed_is_its_own_run_under_its_own_folder(params, tmp_path):
    layout = Layout(params, tmp_path)
    a, b = params.seeds[:2]
    assert vqgan_run(params, "full", a).seed == a and vqgan_run(params, "full", b).seed == b
    assert vqgan_run(params, "full", a).to_dict() != vqgan_run(params, "full", b).to_dict()
    assert layout.vqgan_checkpoint("full", a) == tmp_path / "models/vqgan/full" / f"seed-{a}/vqgan-last.pt"
    assert layout.prior_checkpoint("vqgan", b) == tmp_path / "models/prior/vqgan" / f"seed-{b}/prior-last.pt"
    assert layout.run_metrics("prior", "full", a).name == f"seed-{a}.json"
    for call in (lambda: layout.prior_checkpoint("full", 7), lambda: vqgan_run(params, "full", 7),
                 lambda: run_vqgan(params, tmp_path, "full", 7)):
        with pytest.raises(ValueError, match="seed 7 is not one of"):
            call()


def test_a_stage_reads_an_upstream_stages_record_or_is_told_to_run_it(params, tmp_path):
    layout = Layout(params, tmp_path)
    with pytest.raises(ValueError, match=r"no metrics of stage 'collect'; run it first \(dvc repro collect\)"):
        layout.read_stage_metrics("collect")
    write_metrics(layout.stage_metrics("collect"), {"source": "procedural"})
    assert layout.read_stage_metrics("collect") == {"source": "procedural"}


def _split(n: int = 12) -> Split:
    primaries = ["landscape", "figure", "flower_plant", "bird_animal"]
    rows = pd.DataFrame({"item_id": [f"i{k:02d}" for k in range(n)], "caption": [f"caption {k}" for k in range(n)],
                         "primary": [primaries[k % 4] for k in range(n)],
                         "painting_type": ["xieyi", "gongbi", "baimiao"][:1] * n})
    return Split("test", np.zeros((n, 16, 16, 3), np.uint8), list(rows["caption"]), rows)


def test_held_out_prompts_are_a_seeded_draw_across_categories():
    test = _split()
    a, b = held_out_prompts(test, 4, seed=1), held_out_prompts(test, 4, seed=1)
    assert a.equals(b) and sorted(a["primary"]) == sorted(set(test.rows["primary"]))
    assert not held_out_prompts(test, 4, seed=2)["item_id"].equals(a["item_id"])
    assert len(held_out_prompts(test, 100, seed=1)) == len(test.rows)  # never more than the split has
    assert list(a["caption"]) == [test.captions[i] for i in a["index"]]  # "index": the row in the split


def test_judge_compares_the_classifiers_labels_with_the_request():
    classifier = build_classifier("resnet18", 32, seed=0)
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    requested = _split(4).rows
    out = judge(classifier, images, requested)
    assert list(out["requested_primary"]) == list(requested["primary"])
    assert (out["primary_ok"] == (out["judged_primary"] == out["requested_primary"])).all()
    assert set(out["judged_type"]) <= set(classifier.classes["painting_type"])


@pytest.mark.parametrize("section, key", [("prior_train", "epochs"), ("prior_train", "lr"),
                                          ("prior_train", "snapshots"), ("model.prior", "n_layers")])
def test_phase_2_values_leave_the_vqgan_hash_alone(params, raw_params, section, key):
    node = raw_params
    for part in section.split("."):
        node = node[part]
    node[key] = (not node[key]) if isinstance(node[key], bool) else node[key] * 2
    other = config.parse(raw_params)
    assert params_hash(other, "vqgan") == params_hash(params, "vqgan")  # no VQGAN is re-trained
    assert params_hash(other, "prior") != params_hash(params, "prior")


@pytest.mark.parametrize("section, key", [("vqgan_train", "lambda_clip"), ("vqgan_train", "convergence_window"),
                                          ("train", "checkpoint_every"), ("train", "nproc"),
                                          ("model.vqgan", "n_embed")])
def test_phase_1_values_change_both_hashes(params, raw_params, section, key):
    node = raw_params
    for part in section.split("."):
        node = node[part]
    node[key] *= 2
    other = config.parse(raw_params)
    assert params_hash(other, "vqgan") != params_hash(params, "vqgan")
    assert params_hash(other, "prior") != params_hash(params, "prior")


def test_a_new_seed_changes_no_hash_and_runs_take_their_phase_sections(params, raw_params):
    raw_params["seeds"] = [*raw_params["seeds"], 4242]
    other = config.parse(raw_params)
    assert all(params_hash(other, ph) == params_hash(params, ph) for ph in ("vqgan", "prior"))
    vq, pr = vqgan_run(params, "full"), prior_run(params, "full")
    assert (vq.epochs, vq.lr, vq.checkpoint_every) == (params.vqgan_train.epochs, params.vqgan_train.lr,
                                                       params.train.checkpoint_every)
    assert (pr.epochs, pr.lr, pr.snapshots) == (params.prior_train.epochs, params.prior_train.lr,
                                                params.prior_train.snapshots)


def test_reconstructions_show_the_coloured_gongbi_items_first():
    from inkgen.stages.vqgan import shown_items

    rows = pd.DataFrame({"painting_type": ["xieyi", "gongbi", "baimiao", "gongbi", "xieyi", "gongbi"]})
    assert shown_items(rows, 4) == [1, 3, 0, 2]
    assert shown_items(rows, 10) == [1, 3, 5, 0, 2, 4]


def test_text_features_file_is_refused_when_stale(tmp_path):
    from inkgen.training import TextFeatures, TrainError
    from inkgen.training.features import load_text_features, save_text_features

    f = TextFeatures(torch.randn(2, 3, 4), torch.ones(2, 3, dtype=torch.long), torch.randn(2, 4))
    path = tmp_path / "text_features.pt"
    save_text_features(path, {"train": (["a", "b"], f)}, {"dim": 4})
    got = load_text_features(path, "train", ["a", "b"], {"dim": 4})
    assert torch.equal(got.tokens, f.tokens)
    with pytest.raises(TrainError, match="other captions"):
        load_text_features(path, "train", ["a", "c"], {"dim": 4})
    with pytest.raises(TrainError, match="other captions|not the current"):
        load_text_features(path, "train", ["a", "b"], {"dim": 8})
    with pytest.raises(TrainError, match="no features of split 'val'"):
        load_text_features(path, "val", ["a"], {"dim": 4})
    with pytest.raises(TrainError, match="run the text_features stage"):
        load_text_features(tmp_path / "missing.pt", "train", ["a"])

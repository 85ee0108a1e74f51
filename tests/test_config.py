"""params.yaml is the single source of values: typed, frozen, and refused early with the key named."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import yaml

from inkgen import config
from inkgen.cli import main as cli_main
from inkgen.variants import stage_runs


def test_repository_params_are_valid(repo_root):
    params = config.load(repo_root / "params.yaml")
    assert params.collect.source == "procedural"
    assert params.collect.n_images >= 2000, "the default profile must render at least 2,000 images"
    assert {"smoke", "paper"} <= set(params.profiles)
    assert params.annotate.split.train == pytest.approx(0.8)


def test_params_are_frozen(repo_root):
    params = config.load(repo_root / "params.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.collect.n_images = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (("collect",), "n_images", "many", "collect.n_images: expected an integer"),
        (("collect",), "n_images", True, "collect.n_images: expected an integer"),
        (("collect",), "n_images", 0, "collect.n_images: 0 is out of range"),
        (("collect",), "source", "web", "collect.source: 'web' is not one of"),
        (("collect",), "colour", "red", "unknown key(s) collect.colour"),
        (("curate", "classifier"), "arch", "vgg16", "curate.classifier.arch"),
        (("curate",), "screen_threshold", 1.5, "curate.screen_threshold: 1.5 is out of range"),
        (("annotate", "split"), "train", 0.7, "annotate.split: train + val + test must be 1"),
        (("vqgan_train",), "lr_schedule", "linear", "vqgan_train.lr_schedule: 'linear' is not one of"),
        (("vqgan_train",), "lr", 0.0, "vqgan_train.lr: 0.0 is out of range"),
        (("prior_train",), "snapshots", "yes", "prior_train.snapshots: expected bool"),
        (("prior_train",), "batch_size", 0, "prior_train.batch_size: 0 is out of range"),
        (("train",), "nproc", 0, "train.nproc: 0 is out of range"),
        (("train",), "epochs", 3, "unknown key(s) train.epochs"),  # phase 1's now: vqgan_train.epochs
    ],
)
def test_bad_values_name_the_key(raw_params, section, key, value, message):
    node = raw_params
    for part in section:
        node = node[part]
    node[key] = value
    with pytest.raises(config.ParamsError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("+", r"\+")):
        config.parse(raw_params)


def test_missing_key_is_named(raw_params):
    del raw_params["curate"]["subject"]["blur"]
    with pytest.raises(config.ParamsError, match=r"curate\.subject\.blur: missing"):
        config.parse(raw_params)


def test_profile_override_of_unknown_key_is_refused(raw_params):
    raw_params["profiles"]["smoke"]["collect.n_imagez"] = 3
    with pytest.raises(config.ParamsError, match=r"profiles\.smoke\.collect\.n_imagez: no such key"):
        config.parse(raw_params)


def test_profile_with_bad_value_is_refused(raw_params):
    raw_params["profiles"]["paper"]["curate.target_size"] = -1
    with pytest.raises(config.ParamsError, match=r"\[profile paper\]\.curate\.target_size"):
        config.parse(raw_params)


def test_apply_profile_rewrites_values_and_keeps_comments(repo_root, tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(repo_root / "params.yaml", path)
    before = yaml.safe_load(path.read_text())
    params = config.apply_profile(path, "smoke")
    for dotted, value in before["profiles"]["smoke"].items():
        node = params
        for part in dotted.split("."):
            node = getattr(node, part)
        assert node == (tuple(value) if isinstance(value, list) else value), dotted  # YAML lists are tuples
    text = path.read_text()
    assert "# The single source of every value" in text
    assert params.paths == config.load(repo_root / "params.yaml").paths


def test_cli_reports_bad_params(tmp_path, capsys, raw_params):
    raw_params["collect"]["seed"] = -5
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw_params))
    assert cli_main(["check-params", "--params", str(path)]) == 2
    assert "collect.seed: -5 is out of range" in capsys.readouterr().err
    assert cli_main(["profile", "nonesuch", "--params", str(path)]) == 2


def test_section_hash_changes_with_its_section_only(raw_params):
    a = config.parse(raw_params)
    raw_params["annotate"]["seed"] += 1
    b = config.parse(raw_params)
    assert a.section_hash("curate") == b.section_hash("curate")
    assert a.section_hash("annotate") != b.section_hash("annotate")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("raw", "", "paths.raw: '' must be a folder inside the project"),
        ("raw", ".", "paths.raw: '.' must be a folder inside the project"),
        ("curated", "../elsewhere", "paths.curated: '../elsewhere' must be a folder inside the project"),
        ("models", "/tmp/models", "paths.models: '/tmp/models' must be a folder inside the project"),
        ("raw", "data", "paths.raw: 'data' contains paths.http_cache"),
        ("curated", "data/raw/curated", "paths.raw: 'data/raw' contains paths.curated"),
    ],
)
def test_dangerous_paths_are_refused(raw_params, key, value, message):
    """Stages empty their output folders: a path that is the root, leaves it or nests would destroy data."""
    raw_params["paths"][key] = value
    with pytest.raises(config.ParamsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        config.parse(raw_params)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (("curate", "classifier"), "lr", float("nan"), r"curate\.classifier\.lr: nan is not a finite number"),
        (("annotate", "split"), "train", float("inf"), r"annotate\.split\.train: inf is not a finite number"),
        (("curate", "subject"), "blur", 4, r"curate\.subject\.blur: 4 must be odd"),
        (("curate", "classifier"), "batch_size", 1, r"curate\.classifier\.batch_size: 1 is out of range"),
        (("collect", "museum"), "met_url", "ftp://x", r"collect\.museum\.met_url: 'ftp://x' is not an http"),
        (("governance",), "guardrail_sets", [], r"governance\.guardrail_sets: \[\] must name at least one"),
    ],
)
def test_values_that_would_fail_later_are_refused_now(raw_params, section, key, value, message):
    node = raw_params
    for part in section:
        node = node[part]
    node[key] = value
    with pytest.raises(config.ParamsError, match=message):
        config.parse(raw_params)


def test_profile_that_is_not_a_mapping_is_refused(raw_params):
    raw_params["profiles"]["smoke"] = ["collect.n_images", 3]
    with pytest.raises(config.ParamsError, match=r"profiles\.smoke: expected a mapping"):
        config.parse(raw_params)


def test_failing_profile_leaves_the_file_untouched(repo_root, tmp_path):
    path = tmp_path / "params.yaml"
    text = (repo_root / "params.yaml").read_text().replace(
        "    curate.target_size: 32\n", "    curate.target_size: 1\n")
    path.write_text(text)
    # parse() validates profiles too, so go round it: apply_profile must refuse before writing.
    with pytest.raises(config.ParamsError, match=r"curate\.target_size: 1 is out of range"):
        config.apply_profile(path, "smoke")
    assert path.read_text() == text


def test_list_parameters_are_checked_item_by_item(raw_params):
    raw_params["model"]["vqgan"]["ch_mult"] = [1, "two", 4]
    with pytest.raises(config.ParamsError, match=r"model\.vqgan\.ch_mult\[1\]: expected an integer"):
        config.parse(raw_params)
    raw_params["model"]["vqgan"]["ch_mult"] = 4
    with pytest.raises(config.ParamsError, match=r"model\.vqgan\.ch_mult: expected a list"):
        config.parse(raw_params)


def test_training_device_must_be_known(raw_params):
    raw_params["train"]["device"] = "tpu"
    with pytest.raises(config.ParamsError, match=r"train\.device: 'tpu' is not one of"):
        config.parse(raw_params)


@pytest.mark.parametrize("seeds, message", [
    ([], r"^seeds: empty"),
    ([2026, 2027, 2026], r"^seeds: seed\(s\) \[2026\] repeated"),
    ([2026, "x"], r"^seeds\[1\]: expected an integer"),
    ([2026, -1], r"^seeds\[1\]: -1 is out of range"),
    (2026, r"^seeds: expected a list"),
])
def test_training_seeds_are_a_list_of_distinct_integers(raw_params, seeds, message):
    raw_params["seeds"] = seeds
    with pytest.raises(config.ParamsError, match=message):
        config.parse(raw_params)


def test_the_default_study_trains_every_variant_with_at_least_three_seeds(raw_params):
    assert len(config.parse(raw_params).seeds) >= 3


def test_profile_sets_stack_without_touching_params_yaml(repo_root, tmp_path):
    """`inkgen profile smoke paper --sets`: `dvc exp run -S` arguments, later profiles winning; the file
    stays as it is (DVC writes the values into an experiment, not into the committed params.yaml)."""
    import json

    path = tmp_path / "params.yaml"
    shutil.copy(repo_root / "params.yaml", path)
    before = path.read_bytes()
    raw = yaml.safe_load(before)
    sets = config.profile_sets(path, ["smoke", "paper"])
    assert sets[0::2] == ["-S"] * (len(sets) // 2)
    values = {k: json.loads(v) for k, v in (a.split("=", 1) for a in sets[1::2])}
    assert values == {**raw["profiles"]["smoke"], **raw["profiles"]["paper"]}
    assert values["seeds"] == raw["profiles"]["paper"].get("seeds", raw["profiles"]["smoke"]["seeds"])
    assert path.read_bytes() == before
    with pytest.raises(config.ParamsError, match=r"profiles\.nope: no such profile"):
        config.profile_sets(path, ["nope"])


def test_variant_lists_for_dvc_must_be_what_the_registry_derives(repo_root):
    raw = yaml.safe_load((repo_root / "params.yaml").read_text())
    params = config.parse(raw)
    assert {k: tuple(getattr(params.variants, k)) for k in stage_runs()} == stage_runs()
    raw["variants"]["vqgan"] = ["full", "no_clip", "vqgan_clip", "vqgan"]  # full is vqgan_guided's
    with pytest.raises(config.ParamsError, match=r"variants\.vqgan: .* inkgen/variants\.py makes"):
        config.parse(raw)
    raw = yaml.safe_load((repo_root / "params.yaml").read_text())
    raw["governance"]["variant"] = "bogus"
    with pytest.raises(config.ParamsError, match="governance.variant: 'bogus' is not one of"):
        config.parse(raw)

"""The small tools behind comparing runs and readable notebooks: the params stamp, the headline metrics,
tables instead of raw reprs, progress on the terminal, the offline plots page, the default checkpoint."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inkgen import config, progress
from inkgen.cli import main as cli_main
from inkgen.display import SavedFile, rows, tabular
from inkgen.layout import default_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def test_check_params_stamp_is_written_only_for_valid_params(tmp_path, raw_params, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(yaml.safe_dump(raw_params), encoding="utf-8")
    raw_params["instructions"]["samples"] = -3
    bad.write_text(yaml.safe_dump(raw_params), encoding="utf-8")
    stamp = tmp_path / "reports" / "params-valid.txt"
    assert cli_main(["check-params", "--params", str(bad), "--stamp", str(stamp)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "instructions.samples: -3" in err  # one line, the key named
    assert not stamp.exists()
    assert cli_main(["check-params", "--params", str(good), "--stamp", str(stamp)]) == 0
    first = stamp.read_bytes()
    assert cli_main(["check-params", "--params", str(good), "--stamp", str(stamp)]) == 0
    assert stamp.read_bytes() == first  # same bytes: downstream stages never re-run because of it


def test_check_params_checks_the_policy_against_the_lexicon_and_load_stays_cheap(tmp_path, raw_params, capsys):
    """A posture id the guardrail lexicon lacks is refused by check-params (stage `params`, which every stage
    depends on); config.load, which every notebook runs, checks the policy's keys without building the lexicon."""
    raw_params["governance"]["policy"] = {"sacred": {"deities": {"buddha": {"allowed_postures": ["levitating"], "allowed_facing": ["front"]}}}}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw_params), encoding="utf-8")
    assert cli_main(["check-params", "--params", str(path)]) == 2
    assert "governance.policy: sacred.deities.buddha.allowed_postures: 'levitating' is not a posture" in capsys.readouterr().err
    probe = "import sys; from inkgen import config; config.load(sys.argv[1]); print('governance.sacred' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_check_params_checks_each_profiles_policy_against_the_lexicon(tmp_path, raw_params, capsys):
    """A profile may override the policy: its sacred ids are checked too, and the profile is named."""
    raw_params["profiles"]["strict"] = {"governance.policy": {"sacred": {"deities": {"buddha": {
        "allowed_postures": ["levitating"], "allowed_facing": ["front"]}}}}}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw_params), encoding="utf-8")
    assert cli_main(["check-params", "--params", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[profile strict] governance.policy: sacred.deities.buddha.allowed_postures: 'levitating'" in err


def test_params_sections_and_reports_show_as_tables():
    from IPython.lib.pretty import pretty

    params = config.load(ROOT / "params.yaml")
    text = pretty(params.curate)
    assert text.startswith("CurateParams\n") and "classifier.arch" in text and "CurateParams(" not in text
    assert "<table>" in params.curate._repr_html_()
    assert repr(params.curate).startswith("CurateParams(")  # the dataclass repr stays, for errors and tests

    from dataclasses import dataclass

    @tabular
    @dataclass
    class Report:
        epoch_loss: list
        seconds: float

    shown = dict(rows(Report(list(range(100)), 1234.5678)))
    assert shown["epoch_loss"].endswith("(100 values)") and shown["seconds"] == "1,235"


def test_a_saved_figure_shows_a_relative_path(tmp_path, monkeypatch):
    from IPython.lib.pretty import pretty

    monkeypatch.chdir(tmp_path)
    path = SavedFile(tmp_path / "reports" / "figures" / "x.png")
    assert pretty(path) == "saved: reports/figures/x.png" and str(tmp_path) not in pretty(path)
    assert path == tmp_path / "reports" / "figures" / "x.png"  # still a Path for the code


def test_progress_outside_a_kernel_goes_to_stderr_in_lines(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(progress, "_RESOLVED", True)
    monkeypatch.setattr(progress, "_STREAM", buf)
    bar = progress.bar(total=6, desc="vqgan[full]", log_every=3)
    for _ in range(6):
        bar.update(1)
        bar.set_postfix({"loss": "0.5"})
    bar.close()
    assert buf.getvalue().splitlines() == ["vqgan[full]: 3/6 loss=0.5", "vqgan[full]: 6/6 loss=0.5"]
    assert not progress.in_kernel()


def test_default_checkpoint_follows_the_seed_matrix():
    params = config.load(ROOT / "params.yaml")
    seeds = params.seeds
    path = default_checkpoint(params, "/p")
    expected = Path("/p") / params.paths.models / "prior" / "full"
    assert path == expected / f"seed-{list(seeds)[0]}" / "prior-last.pt"


def test_headline_keys_are_short_and_count_verdicts(tmp_path):
    from inkgen.metrics.paper import load_paper_reported
    from inkgen.metrics.study import load_study, write_summary

    metrics = tmp_path / "reports" / "metrics"
    metrics.mkdir(parents=True)
    for phase, run in (("vqgan", {"val_psnr": 17.123456, "wall_seconds": 60}),
                       ("prior", {"primary_accuracy": 0.5, "wall_seconds": 120})):
        (metrics / phase / "full").mkdir(parents=True)  # one file per training seed; the headline takes their mean
        (metrics / phase / "full" / "seed-1.json").write_text(json.dumps(run))
        (metrics / phase / "full" / "seed-2.json").write_text(json.dumps({k: v * 1.0 for k, v in run.items()}))
        # a run of a seed this study does not train (left by another profile): not part of the headline
        (metrics / phase / "full" / "seed-3.json").write_text(json.dumps({k: v * 9.0 for k, v in run.items()}))
    claims = [c.id for c in load_paper_reported().claims]
    (metrics / "evaluate.json").write_text(json.dumps({"claims": {claims[0]: "holds",
                                                                  claims[1]: "inconclusive at this N"}}))
    write_summary(load_study(tmp_path, "reports/metrics", [1, 2]), tmp_path, "reports/metrics")
    headline = json.loads((tmp_path / "headline.json").read_text())
    assert headline["psnr"] == 17.12 and headline["recog"] == 0.5 and headline["train_h"] == 0.1
    assert (headline["holds"], headline["unsure"], headline["fails"]) == (1, 1, 0)  # unjudged claims: not counted
    assert all(len(k) <= 10 for k in headline) and len(headline) <= 12
    assert str(tmp_path) not in (metrics / "study.json").read_text()


@pytest.mark.slow
def test_offline_plots_template_inlines_vega():
    from inkgen.offline_plots import template

    page = template()
    assert "{plot_divs}" in page and "{scripts}" not in page and "<script src" not in page
    assert "vegaEmbed" in page and len(page) > 100_000

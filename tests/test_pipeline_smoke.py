"""End-to-end: `dvc repro` of the study's stages on the smoke profile, in a fresh copy of the repository.

Checks what a scholar relies on: every stage's notebook executes under papermill and writes its outputs;
a second `dvc repro` with nothing changed runs nothing; changing one stage's parameter re-runs that stage
and those downstream of it only.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from inkgen.variants import NAMES, vqgan_owner

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA_STAGES = ("collect", "curate", "annotate", "clip")
VARIANTS = NAMES  # full, no_clip, no_transformer, vqgan_clip, vqgan
VQGAN_OWNERS = tuple(dict.fromkeys(vqgan_owner(v) for v in NAMES))  # full, no_clip, vqgan_clip, vqgan
# the smoke profile's training seeds: at least two, so that the (variant x seed) matrix is exercised
SEEDS = tuple(yaml.safe_load((ROOT / "params.yaml").read_text())["profiles"]["smoke"]["seeds"])
RUNS = [(v, s) for v in VARIANTS for s in SEEDS]
# stage -> its executed notebook under reports/notebooks/
NOTEBOOKS = {**{name: f"{i:02d}_{name}" for i, name in enumerate(DATA_STAGES, 1)},
             "text_features": "04_text_features", "training_screen": "04_training_screen", "judge": "04_clip-judge",
             **{f"{'vqgan_guided' if v == 'full' else 'vqgan'}@{v}-{s}": f"05a_vqgan-{v}-{s}"
                for v in VQGAN_OWNERS for s in SEEDS},
             **{f"prior@{v}-{s}": f"05b_prior-{v}-{s}" for v, s in RUNS},
             "evaluate": "06_evaluate", "instructions": "07_instructions", "governance": "08_governance",
             "study": "09_study"}
# annotate's outputs are read directly by these (`dvc status` names a stage whose own dependencies changed;
# study reads annotate.json, whose counts a new caption seed leaves unchanged); instructions reads no dataset
DOWNSTREAM_OF_ANNOTATE = {"clip", "judge", "text_features", "training_screen", "governance", "evaluate", *(s for s in NOTEBOOKS if "@" in s)}
# the evaluation paints with the generate settings too
USES_GENERATE = {*(f"prior@{v}-{s}" for v, s in RUNS), "evaluate", "instructions"}

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: int = 900, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "COLUMNS": "120",
           "OMP_NUM_THREADS": "1"}  # one core: the other runs the other test files (tests/conftest.py)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, \
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _dvc(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run([str(BIN / "dvc"), *args], project, check=check)


def _restore(project: Path) -> None:
    """README's restore: the committed results (git) and the cached outputs (DVC) of HEAD."""
    _run(["git", "checkout", "HEAD", "--", "dvc.lock", "headline.json", "reports/metrics", "params.yaml"], project)
    _dvc(project, "checkout", "--force")


def _status(project: Path) -> set[str]:
    out = _run([str(BIN / "dvc"), "status", "--json"], project).stdout
    return set(json.loads(out or "{}"))


def _set_param(project: Path, dotted: str, value) -> None:
    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    node = raw
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the working tree (tracked and untracked, not ignored files), as a fresh git repo."""
    dest = tmp_path_factory.mktemp("study")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _run(["git", "init", "-q"], dest)
    _run([str(BIN / "inkgen"), "profile", "smoke", "--params", "params.yaml"], dest)
    _run(["git", "add", "-A"], dest)
    _run(["git", "commit", "-qm", "smoke copy"], dest)
    _run([str(BIN / "dvc"), "repro"], dest)
    return dest


def _executed(project: Path, stage: str) -> Path:
    return project / "reports" / "notebooks" / f"{NOTEBOOKS[stage]}.ipynb"


def _mtimes(project: Path) -> dict[str, float]:
    return {name: _executed(project, name).stat().st_mtime_ns for name in NOTEBOOKS}


def test_every_stage_executed_its_notebook_without_errors(project):
    for name in NOTEBOOKS:
        nb = nbformat.read(_executed(project, name), as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name}: nothing shown"


def test_stages_wrote_their_outputs(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    n = params["collect"]["n_images"]
    records = (project / "data/raw/records.jsonl").read_text().splitlines()
    quarantined = (project / "data/raw/quarantine.jsonl").read_text().splitlines()
    assert len(records) + len(quarantined) == n
    assert (project / "models/classifier.pt").stat().st_size > 0
    curated = (project / "data/curated/curated.jsonl").read_text().splitlines()
    screened = (project / "data/curated/quarantine.jsonl").read_text().splitlines()
    assert len(curated) + len(screened) == len(records), "curation lost items"
    manifest = (project / "data/dataset/manifest.csv").read_text().splitlines()
    unannotated = (project / "data/dataset/quarantine.jsonl").read_text().splitlines()
    assert len(manifest) - 1 + len(unannotated) == len(curated), "annotation lost items"
    assert SEEDS  # the smoke profile runs the matrix with one seed (budget); two-seed runs: test_train_stage
    for stage in NOTEBOOKS:
        if "@" not in stage:
            assert json.loads((project / f"reports/metrics/{stage}.json").read_text())
    for v in VQGAN_OWNERS:
        for s in SEEDS:
            metrics = json.loads((project / f"reports/metrics/vqgan/{v}/seed-{s}.json").read_text())
            assert (metrics["variant"], metrics["seed"]) == (v, s)
            assert (project / f"models/vqgan/{v}/seed-{s}/vqgan-last.pt").stat().st_size > 0
    for v, s in RUNS:
        metrics = json.loads((project / f"reports/metrics/prior/{v}/seed-{s}.json").read_text())
        assert (metrics["variant"], metrics["seed"]) == (v, s)
        assert metrics["n_generated"] > 0 and 0.0 <= metrics["primary_accuracy"] <= 1.0
        assert (project / f"models/prior/{v}/seed-{s}/prior-last.pt").stat().st_size > 0
        assert (project / f"reports/metrics/live/prior-{v}-seed-{s}/metrics.json").is_file()  # dvclive's log
        assert metrics["vqgan_from"] == ("full" if v == "no_transformer" else v)


def test_second_repro_runs_nothing(project):
    assert _status(project) == set()
    before = _mtimes(project)
    out = _run([str(BIN / "dvc"), "repro"], project).stdout
    assert _mtimes(project) == before, out
    assert "Running stage" not in out, out


# What an executed notebook must never show a reader: a Python warning, a traceback, a progress bar, or a
# path of the machine it ran on.
NOISE = [(re.compile(r"\b[A-Z]\w*Warning\b"), "a Python warning"), (re.compile(r"Traceback \(most recent"), "a traceback"),
         (re.compile(r"\d+it/s\]|\|[#█▏▎▍▌▋▊▉ ]{5,}\|"), "a progress bar")]


def _shown_text(nb) -> list[tuple[int, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if o.get("output_type") == "stream":
                out.append((i, o.get("text", "")))
            elif o.get("output_type") == "error":
                out.append((i, "Traceback (most recent call last) " + "\n".join(o.get("traceback", []))))
            for kind in ("text/plain", "text/html", "text/markdown"):
                if kind in (o.get("data") or {}):
                    value = o["data"][kind]
                    out.append((i, "".join(value) if isinstance(value, list) else value))
    return out


def test_executed_notebooks_show_no_warning_traceback_progress_or_absolute_path(project):
    machine_paths = {str(project), str(project.resolve()), str(ROOT), sys.prefix, os.path.realpath(sys.prefix)}
    problems = []
    for stage in NOTEBOOKS:
        nb = nbformat.read(_executed(project, stage), as_version=4)
        for i, text in _shown_text(nb):
            found = [what for rx, what in NOISE if rx.search(text)]
            found += [f"the absolute path {p}" for p in machine_paths if p and p in text]
            problems += [f"{NOTEBOOKS[stage]} cell {i}: {what}: {text[:160]!r}" for what in found]
    assert not problems, "\n".join(problems[:20])


def test_results_are_committed_and_the_headline_is_legible(project):
    _run(["git", "add", "-A"], project)
    _run(["git", "commit", "-qm", "results of the smoke study"], project)
    tracked = _run(["git", "ls-files", "reports/metrics", "dvc.lock", "headline.json"], project).stdout.split()
    assert "dvc.lock" in tracked and "headline.json" in tracked
    # per-run metrics: reports/metrics/<phase>/<variant>/seed-<S>.json; the other stages': <stage>.json
    assert {f"reports/metrics/{s}.json" for s in NOTEBOOKS if "@" not in s} <= set(tracked)
    assert {f"reports/metrics/{p}/{v}/seed-{s}.json" for v, s in RUNS for p in ("prior",)} <= set(tracked)
    for rel in tracked:  # no committed result names this machine's folders
        assert str(project) not in (project / rel).read_text(encoding="utf-8", errors="replace"), rel
    show = _dvc(project, "metrics", "show").stdout
    assert "headline.json" in show and "psnr" in show
    assert max(len(line) for line in show.splitlines()) <= 120, show
    headline = json.loads((project / "headline.json").read_text())
    assert 8 <= len(headline) <= 12 and all(re.fullmatch(r"[a-z0-9_]{2,10}", k) for k in headline), headline
    diff = _dvc(project, "metrics", "diff")
    assert "failed to load" not in diff.stdout + diff.stderr and diff.stdout.strip() == "", diff.stdout
    assert _status(project) == set()


def test_a_bad_parameter_is_refused_before_any_output_is_touched(project):
    metrics = {p: p.read_bytes() for p in (project / "reports/metrics").rglob("*") if p.is_file()}
    executed = _executed(project, "instructions").read_bytes()
    proc = _dvc(project, "exp", "run", "-S", "instructions.samples=-3", check=False)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "error: instructions.samples: -3 is out of range" in said and "Traceback" not in said, said
    assert {p: p.read_bytes() for p in (project / "reports/metrics").rglob("*") if p.is_file()} == metrics
    assert _executed(project, "instructions").read_bytes() == executed
    _restore(project)
    assert _status(project) == set()


def test_an_experiment_is_shown_compared_and_applied(project):
    # a parameter of the judge (the independent CLIP: a short stage with its own metrics file), the experiment
    # run up to that stage (the evaluation and study page after it are not re-run here, to keep `make test`
    # within its budget); one more epoch, so that judge.json changes
    epochs = yaml.safe_load((project / "params.yaml").read_text())["judge"]["epochs"]
    before = (project / "reports/metrics/judge.json").read_bytes()
    _dvc(project, "exp", "run", "-S", f"judge.epochs={epochs + 1}", "-n", "longer-judge", "judge")
    exp_result = (project / "reports/metrics/judge.json").read_bytes()
    assert exp_result != before
    show = _dvc(project, "exp", "show", "--no-pager", "--only-changed", "--drop", ".*/.*").stdout
    row = next(line for line in show.splitlines() if "longer-judge" in line)
    assert "!" not in row, show
    params = _dvc(project, "params", "diff").stdout
    assert re.search(rf"judge\.epochs\s+{epochs}\s+{epochs + 1}", params), params
    diff = _dvc(project, "metrics", "diff")
    assert "failed to load" not in diff.stdout + diff.stderr
    _restore(project)
    assert yaml.safe_load((project / "params.yaml").read_text())["judge"]["epochs"] == epochs
    assert (project / "reports/metrics/judge.json").read_bytes() == before
    _dvc(project, "exp", "apply", "longer-judge")
    assert yaml.safe_load((project / "params.yaml").read_text())["judge"]["epochs"] == epochs + 1
    assert (project / "reports/metrics/judge.json").read_bytes() == exp_result
    _restore(project)
    assert _status(project) == set()


def test_plots_draw_every_column_offline_and_diff_with_the_commit(project):
    _run([str(BIN / "inkgen"), "plots-template"], project)
    _dvc(project, "plots", "show")
    page = (project / "dvc_plots" / "index.html").read_text(encoding="utf-8")
    assert "vegaEmbed" in page and not re.search(r"<script[^>]+src=", page), "the page must not load scripts"
    for entry in yaml.safe_load((project / "dvc.yaml").read_text())["plots"]:
        (path, spec), = entry.items()
        header = next(csv.reader(open(project / path, encoding="utf-8")))
        drawn = spec["y"] if isinstance(spec["y"], list) else [spec["y"]]
        assert set(header) - {spec["x"]} <= set(drawn), f"{path}: columns {header}, dvc.yaml draws {drawn}"
    _dvc(project, "plots", "diff", "HEAD")


def test_a_colleague_pulls_from_a_remote_and_paints(project, tmp_path_factory):
    store, clone = tmp_path_factory.mktemp("store"), tmp_path_factory.mktemp("colleague") / "inkgen"
    _dvc(project, "remote", "add", "-d", "store", str(store))
    _run(["git", "commit", "-qam", "DVC remote"], project)
    _dvc(project, "push")
    _run(["git", "clone", "-q", str(project), str(clone)], project)
    _dvc(clone, "pull")
    assert _status(clone) == set()
    _run([str(BIN / "inkgen"), "generate", "misty mountains and a river in ink", "--out", "new/x.png"], clone)
    assert (clone / "new" / "x.png").stat().st_size > 0


def test_a_generation_parameter_concerns_phase_2_only(project):
    old = yaml.safe_load((project / "params.yaml").read_text())["generate"]["temperature"]
    _set_param(project, "generate.temperature", 0.5)
    # governance paints its governed images with the same sampling settings; stage `params` checks every value
    assert _status(project) == USES_GENERATE | {"governance", "params"}
    _set_param(project, "generate.temperature", old)
    assert _status(project) == set()


@pytest.mark.parametrize("dotted, stages", [
    # phase 2's section: the priors and the evaluation that reads their histories, never a VQGAN
    ("prior_train.lr", {f"prior@{v}-{s}" for v, s in RUNS} | {"evaluate"}),
    # phase 1's section: every VQGAN, and every prior (trained on them, hashed with them)
    ("vqgan_train.eta", {n for n in NOTEBOOKS if n.startswith(("vqgan", "prior@"))} | {"evaluate"}),
])
def test_a_training_section_reruns_the_phases_that_track_it(project, dotted, stages):
    section, key = dotted.split(".")
    old = yaml.safe_load((project / "params.yaml").read_text())[section][key]
    _set_param(project, dotted, old * 2)
    assert _status(project) == stages | {"params"}
    _set_param(project, dotted, old)
    assert _status(project) == set()


def test_a_policy_edit_reruns_the_training_screen_and_no_training(project):
    """The policy file is read by the training screen and the governance stage (and params' check); the
    screen's list comes out the same bytes (no registry), so once it re-ran no VQGAN or prior is listed."""
    policy = project / "governance/data/policy.yaml"
    original = policy.read_text()
    policy.write_text(original.replace("unreadable_share: 0.5", "unreadable_share: 0.6"))
    assert _status(project) == {"params", "training_screen", "governance"}
    _run([str(BIN / "dvc"), "repro", "--single-item", "training_screen"], project)
    assert _status(project) == {"params", "governance"}  # nothing downstream of the screen's list
    policy.write_text(original)
    _restore(project)  # the committed lock and outputs (the screen's list came out the same bytes anyway)
    assert _status(project) == set()


def test_changing_a_parameter_reruns_that_stage_and_downstream_only(project):
    # `dvc repro annotate` runs annotate and what it needs, not the training downstream (kept fast here);
    # `dvc status` then names exactly the stages downstream as changed.
    _set_param(project, "annotate.seed", 99)
    assert _status(project) == {"annotate", "params"}  # `params` checks every value first
    before = _mtimes(project)
    _run([str(BIN / "dvc"), "repro", "annotate"], project)
    after = _mtimes(project)
    assert after["collect"] == before["collect"] and after["curate"] == before["curate"]  # upstream: untouched
    assert after["annotate"] != before["annotate"]
    # new captions are new inputs for every stage that reads the dataset; not for the instruction rounds (which
    # read no dataset) nor the study page (annotate.json's counts are the same under a new caption seed)
    assert _status(project) == DOWNSTREAM_OF_ANNOTATE

"""dvc.yaml declares what each stage really runs: every inkgen module its notebook loads is a dependency."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DVC_YAML = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
# a foreach stage is checked through its template (``do``)
STAGES = {name: stage.get("do", stage) for name, stage in DVC_YAML.items()}
# the stages that run a notebook: all but `params`, the check of params.yaml every stage depends on
NOTEBOOK_STAGES = sorted(n for n in STAGES if n != "params")
# what stages write (a dependency on one is checked by DVC, not here)
OUTPUTS = {o if isinstance(o, str) else next(iter(o)) for s in STAGES.values() for o in s.get("outs", [])}
# the params section(s) a stage is about, when its name is not one
SECTIONS = {"params": (), "vqgan": ("model.vqgan", "train", "vqgan_train"),
            "vqgan_guided": ("model.vqgan", "train", "vqgan_train"),
            "prior": ("model", "train", "vqgan_train", "prior_train", "generate"),
            "evaluate": ("evaluate", "generate"), "instructions": ("instructions", "generate"),
            "study": ("paths.metrics",), "text_features": ("text_encoder",),
            "training_screen": ("governance.registry", "governance.policy_file", "governance.policy")}


def _deps(stage: dict) -> list[str]:
    return [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]


def _notebook(stage: dict) -> Path:
    return ROOT / next(d for d in _deps(stage) if d.startswith("notebooks/"))


def _imported_modules(nb_path: Path) -> list[str]:
    modules = []
    for cell in nbformat.read(nb_path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                modules += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
                # `from inkgen.stages import collect` loads the submodule inkgen.stages.collect
                modules += [f"{node.module}.{a.name}" for a in node.names]
    return [m for m in modules if m.split(".")[0] == "inkgen"]


def _files_loaded_by(code: str, package: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; return the source files of ``package`` it loaded (repo-relative)."""
    code += ("\nimport json, sys\nprint(json.dumps(sorted({getattr(mod, '__file__', None) or '' for name, mod in "
             f"list(sys.modules.items()) if name.split('.')[0] == {package!r}}})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {str(Path(f).resolve().relative_to(ROOT)) for f in json.loads(proc.stdout.splitlines()[-1]) if f}


def _loaded_inkgen_files(modules: list[str]) -> set[str]:
    """Import the modules in a fresh interpreter; return the inkgen source files that got loaded."""
    # a `from M import name` candidate M.name that is not a module (a function, a class) is skipped
    files = _files_loaded_by(f"import importlib\nfor m in {modules!r}:\n"
                             "    try: importlib.import_module(m)\n"
                             "    except ModuleNotFoundError as e:\n"
                             "        if e.name not in (m, m.rpartition('.')[0]): raise", "inkgen")
    # A package __init__ that only holds a docstring is not a dependency worth declaring.
    return {f for f in files if not (f.endswith("__init__.py") and _docstring_only(ROOT / f))}


def _scanned_inkgen_files(modules: list[str]) -> set[str]:
    """What importing ``modules`` loads, read from the source instead of run: each module's file, the
    ``__init__`` of every package above it, and (:func:`_imports_within`) all they import, function-local
    imports included. Static, so each stage costs milliseconds, not a fresh interpreter importing torch;
    :func:`test_the_source_scan_sees_everything_importing_loads` checks it against a real import."""
    files = set()
    for module in modules:
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:i]))
            if path and not (path.endswith("__init__.py") and _docstring_only(ROOT / path)):
                files.add(path)
    return _imports_within(files)


def _module_file(module: str) -> str | None:
    """``inkgen.a.b`` -> ``inkgen/a/b.py`` or ``inkgen/a/b/__init__.py``; None for a name that is no module."""
    base = ROOT / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return str(path.relative_to(ROOT))
    return None


def _imports_within(files: set[str]) -> set[str]:
    """``files`` and every inkgen module their code imports anywhere, function-local imports included
    (they run when the stage calls the function, which importing the notebook's modules does not show)."""
    found, todo = set(files), list(files)
    while todo:
        for node in ast.walk(ast.parse((ROOT / todo.pop()).read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module, *(f"{node.module}.{a.name}" for a in node.names)] \
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            for name in (n for n in names if n.split(".")[0] == "inkgen"):
                path = _module_file(name)
                if path and path not in found and not (path.endswith("__init__.py") and _docstring_only(ROOT / path)):
                    found.add(path)
                    todo.append(path)
    return found


def test_the_import_scanner_sees_function_local_imports():
    assert "inkgen/trained.py" in _imports_within({"inkgen/stages/governance.py"})  # imported inside a step of run()


def _docstring_only(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


@pytest.mark.parametrize("name", NOTEBOOK_STAGES)
def test_stage_declares_the_library_code_its_notebook_loads(name):
    stage = STAGES[name]
    deps = _deps(stage)
    loaded = _scanned_inkgen_files(_imported_modules(_notebook(stage)))
    assert loaded, f"stage {name}: its notebook imports nothing from inkgen"
    undeclared = sorted(f for f in loaded if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps))
    assert not undeclared, f"stage {name}: add to its deps in dvc.yaml: {undeclared}"


def test_the_source_scan_sees_everything_importing_loads():
    """The per-stage check reads imports from the source; importing every notebook's modules for real (one
    interpreter) must load no inkgen file that the scan of those notebooks misses."""
    modules = sorted({m for name in NOTEBOOK_STAGES for m in _imported_modules(_notebook(STAGES[name]))})
    loaded = _loaded_inkgen_files(modules)
    assert len(loaded) > 20, loaded
    assert not sorted(loaded - _scanned_inkgen_files(modules))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_dependencies_exist_in_the_repository(name):
    for dep in _deps(STAGES[name]):
        if dep.startswith("${") or dep in OUTPUTS:
            continue  # an upstream stage's output
        assert (ROOT / dep).exists(), f"stage {name}: dependency {dep} does not exist"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_tracks_its_params_section(name):
    for section in SECTIONS.get(name, (name,)):
        assert section in STAGES[name]["params"], f"stage {name}: params section {section} is not a dependency"


def test_every_stage_waits_for_the_params_check():
    """A bad value stops `dvc repro` in stage `params` (all of params.yaml), before any output is deleted."""
    check = STAGES["params"]
    assert check["params"] == [{"params.yaml": None}] and "inkgen check-params --stamp" in check["cmd"]
    stamp = check["outs"][0]
    for name in NOTEBOOK_STAGES:
        assert stamp in _deps(STAGES[name]), f"stage {name}: add {stamp} to its deps"


def test_training_stages_cover_every_variant_and_share_vqgans_as_the_library_says():
    from inkgen import config
    from inkgen.training.runs import VARIANTS, branch_source, vqgan_owner

    params = config.load(ROOT / "params.yaml")
    owners = {v: vqgan_owner(params, v) for v in VARIANTS}
    prior, vqgan, guided = (DVC_YAML[s]["matrix"] for s in ("prior", "vqgan", "vqgan_guided"))
    # the matrices read params' variants lists (which config checks against inkgen/variants.py), not retyped
    for stage, matrix in (("prior", prior), ("vqgan", vqgan), ("vqgan_guided", guided)):
        assert matrix["variant"] == f"${{variants.{stage}}}", f"dvc.yaml {stage}: matrix variant must be ${{variants.{stage}}}"
    runs = {stage: list(getattr(params.variants, stage)) for stage in ("prior", "vqgan", "vqgan_guided")}
    assert runs["prior"] == list(VARIANTS), "params variants.prior must list every variant"
    assert sorted(runs["vqgan"] + runs["vqgan_guided"]) == sorted(set(owners.values())), \
        "params variants.vqgan + variants.vqgan_guided must list exactly the variants that own a VQGAN"
    # vqgan_guided: the runs that continue a CLIP-free twin at clip_start, and depend on the twin's folder
    twins = {v: branch_source(params, v) for v in runs["vqgan_guided"]}
    assert all(twins.values()) and not any(branch_source(params, v) for v in runs["vqgan"])
    assert {f"${{paths.models}}/vqgan/{t}/seed-${{item.seed}}" for t in twins.values()} <= set(_deps(DVC_YAML["vqgan_guided"]))
    # the same seeds for every variant and both phases: one list, params seeds
    assert prior["seed"] == vqgan["seed"] == guided["seed"] == "${seeds}"
    vq_deps = [d for d in _deps(DVC_YAML["prior"]) if d.startswith("${paths.models}/vqgan/")]
    assert sorted(vq_deps) == sorted(f"${{paths.models}}/vqgan/{v}/seed-${{item.seed}}" for v in set(owners.values()))


def test_dvc_generates_one_stage_per_variant_and_seed():
    from inkgen import config
    from inkgen.training.runs import VARIANTS, branch_source, vqgan_owner

    params = config.load(ROOT / "params.yaml")
    listed = subprocess.run([str(Path(sys.executable).parent / "dvc"), "stage", "list", "--name-only"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = set(listed.stdout.split())
    seeds = params.seeds
    assert {f"prior@{v}-{s}" for v in VARIANTS for s in seeds} <= names
    phase1 = {f"vqgan_guided@{v}-{s}" if branch_source(params, v) else f"vqgan@{v}-{s}"
              for v in {vqgan_owner(params, v) for v in VARIANTS} for s in seeds}
    assert phase1 <= names
    assert not any(n.startswith(("vqgan@no_transformer", "vqgan@full", "vqgan_guided@no_clip")) for n in names)



def test_training_stages_track_exactly_what_their_checkpoints_hash():
    """The params of each phase are declared once (inkgen.training.runs.PHASE_PARAMS); dvc.yaml's training
    stages list the same, whole sections, and no stage lists single keys of a training section."""
    from inkgen.training.runs import PHASE_PARAMS

    for stage, phase in (("vqgan", "vqgan"), ("vqgan_guided", "vqgan"), ("prior", "prior")):
        tracked = [p for p in STAGES[stage]["params"] if not p.startswith("paths.")]
        want = [*PHASE_PARAMS[phase], *(("generate",) if stage == "prior" else ())]  # generation: after training
        assert sorted(tracked) == sorted(want), f"{stage}: dvc.yaml tracks {tracked}, its checkpoint hashes {want}"
    for name, stage in STAGES.items():
        parts = [p for p in stage.get("params", []) if isinstance(p, str)
                 and p.split(".")[0] in ("train", "vqgan_train", "prior_train") and "." in p]
        assert not parts, f"{name}: tracks single keys {parts} of a training section; track the whole section"


def test_phase_2_sections_are_not_phase_1_dependencies():
    """A phase-2-only value (prior_train, model.prior) never re-runs a VQGAN stage, nor does a new seed."""
    for stage in ("vqgan", "vqgan_guided"):
        tracked = set(STAGES[stage]["params"])
        assert not tracked & {"prior_train", "model", "model.prior", "seeds", "generate"}, stage


def test_the_training_screen_declares_the_governance_code_it_loads_and_training_none():
    """With a rights registry, stage training_screen screens the training split (governance.copyright): the
    governance modules it loads are its deps, the guardrails (sacred.py, lexicon.py and their lexicons) are
    not; the training stages read its list (${paths.models}/training_screen.json) and no governance file, so
    editing a rule or the policy re-trains nothing unless the list changes."""
    loaded = _files_loaded_by("from inkgen.stages import training_screen\n"
                              "from governance.copyright import screen_training_items\n"  # with a registry
                              "from governance.registry import load_registry\n"
                              "from governance.policy import load_policy\n"
                              "load_policy(None, {}, check_sacred_ids=False)", "governance")
    assert "governance/copyright.py" in loaded
    assert not loaded & {"governance/sacred.py", "governance/lexicon.py"}
    deps = _deps(STAGES["training_screen"])
    assert not sorted(loaded - set(deps)), f"training_screen: add to its deps in dvc.yaml: {sorted(loaded - set(deps))}"
    assert "governance/data/policy.yaml" in deps and "inputs/governance" in deps
    for stage in ("vqgan", "vqgan_guided", "prior"):
        deps = _deps(STAGES[stage])
        assert "${paths.models}/training_screen.json" in deps, stage
        assert not [d for d in deps if d.startswith(("governance", "inputs/governance"))], stage

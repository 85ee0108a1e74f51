"""Imports only go down (README "Layout"): stages -> library -> models; no stage module imports another, the
library never imports a stage, models import no layer above them; function-local imports in the stages and
the modules they share say why they are local. (governance never importing inkgen: test_governance_ledger.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INKGEN = ROOT / "inkgen"
STAGES = INKGEN / "stages"
# the layers above models: a model module importing one of them would make models depend on the study
ABOVE_MODELS = ("inkgen.config", "inkgen.variants", "inkgen.layout", "inkgen.stages", "inkgen.training", "inkgen.metrics",
                "inkgen.trained", "inkgen.heldout", "inkgen.generate", "inkgen.forked_generator", "inkgen.governed",
                "inkgen.cli")
# the one data module models read: the label vocabulary of the classifier's heads (a data file's reader)
MODELS_MAY_READ = ("inkgen.data.taxonomy",)
# every module: each function-local import carries its reason in a comment
REASONED = sorted(INKGEN.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, inside a function) of every absolute import in ``path``; ``from M import n`` gives
    both ``M`` and ``M.n`` (n may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in local) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(m, node.lineno, id(node) in local)
                      for m in (node.module, *(f"{node.module}.{a.name}" for a in node.names))]
    return found


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_scanner_sees_local_and_submodule_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from inkgen.stages import clip\ndef g():\n    import inkgen.layout\n")
    assert _imports(f) == [("inkgen.stages", 1, False), ("inkgen.stages.clip", 1, False),
                           ("inkgen.layout", 3, True)]


@pytest.mark.parametrize("path", sorted(STAGES.glob("*.py")), ids=lambda p: p.name)
def test_no_stage_imports_another(path):
    own = f"inkgen.stages.{path.stem}"
    others = {m for m, _, _ in _imports(path) if m.startswith("inkgen.stages.") and m != own}
    assert not others, f"{path.name} imports {sorted(others)}: move what they share down into the library"


def test_the_library_never_imports_a_stage():
    offenders = {str(p.relative_to(ROOT)): m for p in INKGEN.rglob("*.py") if STAGES not in p.parents
                 for m, _, _ in _imports(p) if _under(m, ("inkgen.stages",))}
    assert offenders == {}


def test_models_import_no_layer_above_them():
    offenders = {f"{p.relative_to(ROOT)}:{line}": m for p in (INKGEN / "models").rglob("*.py")
                 for m, line, _ in _imports(p)
                 if _under(m, ABOVE_MODELS) or (_under(m, ("inkgen.data",)) and not _under(m, MODELS_MAY_READ))}
    assert offenders == {}


@pytest.mark.parametrize("path", REASONED, ids=lambda p: str(p.relative_to(INKGEN)))
def test_function_local_imports_say_why(path):
    lines = path.read_text(encoding="utf-8").splitlines()

    def reasoned(line: int) -> bool:  # a comment on the line, or above its block of imports
        i = line - 1
        while i > 0 and lines[i - 1].strip().startswith(("from ", "import ")):
            i -= 1
        return "#" in lines[line - 1] or lines[i - 1].strip().startswith("#")

    silent = [line for _, line, local in _imports(path) if local and not reasoned(line)]
    assert not silent, f"{path.name}: function-local import(s) at line(s) {sorted(set(silent))} without a reason comment"


def test_the_settings_module_imports_nothing_of_the_study():
    found = [m for m, _, _ in _imports(INKGEN / "settings.py") if _under(m, ("inkgen",))]
    assert found == [], f"inkgen/settings.py is the bottom layer but imports {found}"


# The library modules that declare settings (``inkgen.settings.setting``) which params.yaml sets: ``inkgen.config``
# composes its sections from them, so they sit below config and import nothing but ``inkgen.settings``.
SETTINGS_MODULES = ("inkgen.models.vqgan.config", "inkgen.models.cross_modal_config", "inkgen.models.clip_config",
                    "inkgen.metrics.eval_config", "inkgen.expert_kit.config")


def test_config_composes_the_library_settings_and_imports_no_layer_that_uses_it():
    above = ("inkgen.stages", "inkgen.training", "inkgen.metrics", "inkgen.models", "inkgen.expert_kit",
             "inkgen.generate", "inkgen.trained", "inkgen.layout", "inkgen.cli")
    offenders = {f"{p.relative_to(ROOT)}:{line}": m for p in (INKGEN / "config").rglob("*.py")
                 for m, line, _ in _imports(p) if _under(m, above) and not _under(m, SETTINGS_MODULES)}
    assert offenders == {}


@pytest.mark.parametrize("module", SETTINGS_MODULES)
def test_a_settings_module_imports_only_the_settings(module):
    path = ROOT / (module.replace(".", "/") + ".py")
    found = sorted({m for m, _, _ in _imports(path) if _under(m, ("inkgen",)) and not _under(m, ("inkgen.settings",))})
    assert found == [], f"{module} declares settings that inkgen.config reads, but imports {found}"


def test_reading_params_imports_no_torch_nor_scipy(repo_root):
    """``inkgen.config`` composes the models' and the evaluation's settings without their heavy libraries:
    ``inkgen generate`` reads params.yaml in the process that must not import torch (inkgen.forked_generator),
    and every notebook and ``inkgen check-params`` pays for what loading params imports."""
    import subprocess
    import sys

    code = ("import sys\nfrom inkgen import config\nconfig.load('params.yaml')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'open_clip', 'scipy', 'pandas', 'PIL'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr

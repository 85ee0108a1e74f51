"""Pipeline notebooks are for people: committed output-stripped, a `parameters` cell, no logic of their own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _code(cell) -> str:
    # IPython magics and shell escapes are not Python; blank them before parsing.
    return "\n".join("" if re.match(r"\s*[%!]", line) else line for line in cell.source.splitlines())


def test_there_are_pipeline_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_output_stripped(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_parameters_cell_first(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "parameters" in code[0].metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters' (papermill injects values after it)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defines_no_function_or_class(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_code(cell), filename=f"{path.name}[cell {i}]")
        defs = [n.name for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defs, f"{path.name} cell {i} defines {defs}: move logic into the inkgen library"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_prose(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), \
        f"{path.name}: open with a markdown title that tells the reader what the stage does"


def test_every_notebook_is_a_dvc_stage():
    # a foreach stage (one per ablation variant) is checked through its template, ``do``
    stages = {name: s.get("do", s) for name, s in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items()}
    commands = " ".join(str(s["cmd"]) for s in stages.values())
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in commands, f"{path.name} is not run by any dvc.yaml stage"
    for name, stage in stages.items():
        if "papermill" not in str(stage["cmd"]):
            assert name == "params", f"stage {name} runs no notebook"  # the params check is the one such stage
            continue
        deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
        nb = [d for d in deps if d.startswith("notebooks/")]
        assert nb and nb[0] in stage["cmd"], f"stage {name}: its notebook must be a declared dependency"
        outs = [o if isinstance(o, str) else next(iter(o)) for o in stage["outs"]]
        executed = {Path(nb[0]).name, f"{Path(nb[0]).stem}-{name}.ipynb",  # one notebook, two roles (04: clip, judge)
                    f"{Path(nb[0]).stem}-${{item.variant}}-${{item.seed}}.ipynb"}
        assert any(o.split("/")[-1] in executed and "notebooks" in o for o in outs), \
            f"stage {name}: its executed notebook must be an output"

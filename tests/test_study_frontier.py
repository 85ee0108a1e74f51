"""benchmarks/study_frontier.py on a made-up workspace: stage durations grouped, PSNR per epoch over seeds,
per-epoch seconds accumulated, and the computed study minutes."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "study_frontier.py"


def _notebook(path: Path, seconds: float) -> None:
    path.write_text(json.dumps({"cells": [], "metadata": {"papermill": {"duration": seconds}}}), encoding="utf-8")


def _curve(folder: Path, name: str, values: list[float]) -> None:
    (folder / "plots" / "metrics").mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{n}\t{v}\n" for n, v in enumerate(values))
    (folder / "plots" / "metrics" / f"{name}.tsv").write_text(f"step\t{name}\n{rows}", encoding="utf-8")


def _workspace(root: Path) -> None:
    notebooks, live = root / "reports" / "notebooks", root / "reports" / "metrics" / "live"
    notebooks.mkdir(parents=True)
    _notebook(notebooks / "01_collect.ipynb", 60.0)
    _notebook(notebooks / "06_evaluate.ipynb", 120.0)
    for seed, psnr in ((1, [18.0, 20.0, 21.0, 22.0, 23.0]), (2, [19.0, 21.0, 22.0, 23.0, 24.0])):
        _notebook(notebooks / f"05a_vqgan-plain-{seed}.ipynb", 110.0)    # 100 s of epochs + 10 s around them
        run = live / f"vqgan-plain-seed-{seed}"
        _curve(run, "val_psnr", psnr)
        _curve(run, "seconds", [20.0] * 5)
        _notebook(notebooks / f"05a_vqgan-guided-{seed}.ipynb", 30.0)    # a continued run: two epochs logged
        _curve(live / f"vqgan-guided-seed-{seed}", "val_psnr", [23.0, 24.0])
        _notebook(notebooks / f"05b_prior-plain-{seed}.ipynb", 60.0)


def test_frontier_reads_durations_and_curves(tmp_path):
    _workspace(tmp_path)
    out = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp_path), "--install-minutes", "0",
                          "--epochs", "1", "5"], capture_output=True, text=True, check=True).stdout
    assert "vqgan (from step 0)" in out and "  3.7 min" in out           # 2 x 110 s
    assert "total 9.7 min" in out and "neither epochs nor seeds: 3.0 min" in out
    # epoch 5: mean 23.5 dB over the two seeds, range [23, 24], 100 s of training to get there
    assert "e5: 23.50 [23.00, 24.00] 100s" in out and "e1: 18.50 [18.00, 19.00] 20s" in out
    # epoch 1, one seed: 180 s fixed + (20 s + 10 s overhead + 30 s guided + 60 s prior) = 300 s = 5.0 min
    assert "     1      5.0" in out
    # epoch 5, two seeds: 180 + 2 x (100 + 10 + 30 + 60) = 580 s
    assert "     5      6.3      9.7" in out


def test_frontier_refuses_a_workspace_without_notebooks(tmp_path):
    run = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2 and "no executed notebooks" in run.stderr
    run = subprocess.run([sys.executable, str(SCRIPT), "--epochs", "0"], capture_output=True, text=True)
    assert run.returncode == 2 and "--epochs must be positive" in run.stderr

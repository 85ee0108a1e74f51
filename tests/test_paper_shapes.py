"""The paper profile at the paper's shapes (inkgen.paper_shapes), built from params with the profile applied in
memory: every model builds, counts its parameters against the paper's, and trains one step on the CPU; and
the GPU check script (benchmarks/gpu_paper_check.py) runs end to end at smoke sizes on the CPU."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path

import pytest

from inkgen.paper_shapes import (IMPROVED, PAPER_PARAMETERS, PAPER_PARAMETERS_NO_CLIP, PLAIN, build_models,
                                 format_breakdown, max_rss_bytes, parameter_breakdown, profile_params, train_steps)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder():
    from inkgen.models.text_encoder import TextEncoder

    return TextEncoder("")  # the embedded MiniLM the paper profile uses (text_encoder.path "")


def test_paper_models_have_the_paper_shapes_and_its_parameter_counts(encoder):
    before = hashlib.sha256((ROOT / "params.yaml").read_bytes()).hexdigest()
    params = profile_params("paper", ROOT / "params.yaml")
    assert hashlib.sha256((ROOT / "params.yaml").read_bytes()).hexdigest() == before  # applied in memory only
    models = build_models(params, encoder.dim)
    vq = models["vqgan"]
    assert (vq.config.resolution, vq.config.code_resolution, vq.config.ch_mult) == (256, 16, (1, 1, 2, 2, 4))
    assert models["prior"].config.n_layers == 12 and len(models["prior"].layers) == 12
    assert models["clip"].image_size == 224 and len(models["clip"].clip.visual.transformer.resblocks) == 12
    assert models["classifier"].arch == "resnet50"
    rows = parameter_breakdown(models, encoder)
    print("\n" + format_breakdown(rows))
    # What the architecture explains (inkgen.paper_shapes): the paper's 89 M / 72 M are the improved and the
    # plain f16 VQGAN; the Transformer and CLIP come on top of them here.
    assert abs(rows[IMPROVED] / PAPER_PARAMETERS - 1) < 0.10
    assert abs(rows[PLAIN] / PAPER_PARAMETERS_NO_CLIP - 1) < 0.10
    assert rows["generator + CLIP"] > 2 * PAPER_PARAMETERS  # so the paper's 89 M cannot include them


def test_each_paper_model_trains_one_step_on_the_cpu(encoder):
    """The two models this project writes, at the paper's shapes, one step each through the library's training
    functions. The paper's CLIP (open_clip ViT-B/16 at 224 px) and ResNet-50 (torchvision) are built at their
    shapes by the test above and trained by the same functions at the smoke shapes in every `dvc repro` of the
    smoke test; training them here too cost ~40 CPU-seconds of `make test`'s budget
    (`inkgen.paper_shapes.train_steps(only=...)` trains them on request)."""
    params = profile_params("paper", ROOT / "params.yaml")
    steps = train_steps(params, encoder.dim, batch=1, device="cpu", only=("vqgan", "prior"))
    for name, r in steps.items():
        print(f"{name:>10}: {r['seconds_per_step']:.2f} s/step at batch {r['batch']}, peak RSS "
              f"+{r['peak_rss_delta_mb']:.0f} MB (run {r['wall_seconds']:.1f} s, {r['cpu_seconds']:.1f} CPU s)")
    print(f"process peak RSS (getrusage): {max_rss_bytes() / 2**30:.2f} GiB")
    assert set(steps) == {"vqgan", "prior"}
    for name, r in steps.items():
        assert math.isfinite(r["seconds_per_step"]) and r["seconds_per_step"] > 0, name
        assert 0 < r["peak_rss_delta_mb"] < 32 * 1024, name
    # a 256 px f16 VQGAN step with Adam holds far more than the prior's (weights x 4 for Adam, activations)
    assert steps["vqgan"]["peak_rss_delta_mb"] > steps["prior"]["peak_rss_delta_mb"]


def test_the_gpu_check_runs_at_smoke_sizes_on_the_cpu(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_paper_check", ROOT / "benchmarks" / "gpu_paper_check.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "check.json"
    report = script.main(["--profile", "smoke", "--device", "cpu", "--steps", "2", "--batch", "4",
                          "--latency-runs", "2", "--threads", "1", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert report["device"] == "cpu" and report["resolution"] == 32 and report["steps_per_phase"] == 2
    for phase in ("vqgan", "prior"):
        assert report["phases"][phase]["images_per_second"] > 0
    gen = report["generate"]
    assert gen["runs"] == 2 and gen["median_ms"] > 0 and gen["paper_ms"] == 23.0
    assert report["parameters"][IMPROVED] > 0

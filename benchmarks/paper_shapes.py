"""Every model of the ``paper`` profile at the paper's shapes on this machine: parameters part by part (against
the paper's 89 M / 72 M), then one training step of each (VQGAN f16 at 256 px with GAN and CLIP guidance,
12-layer prior, ViT-B/32-size CLIP, ResNet-50) through the library's own training functions, with step time
and peak memory (resident set growth during the run; CUDA peak when on a GPU).

    python benchmarks/paper_shapes.py [--batch 2] [--steps 1] [--device cpu] [--threads 2] [--json out.json]

The profile is applied in memory: params.yaml is not rewritten. A step's time at batch 1-2 on a CPU says
what one process costs per image; the GPU figures come from benchmarks/gpu_paper_check.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inkgen.paper_shapes import (build_models, format_breakdown, max_rss_bytes, parameter_breakdown,  # noqa: E402
                                 profile_params, train_steps)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from inkgen.models.text_encoder import TextEncoder

    start = time.perf_counter()
    params = profile_params(args.profile, ROOT / "params.yaml")
    encoder = TextEncoder(params.text_encoder.path or "")
    rows = parameter_breakdown(build_models(params, encoder.dim), encoder)
    print(f"parameters, profile {args.profile!r} (text width {encoder.dim}):")
    print(format_breakdown(rows))
    steps = train_steps(params, encoder.dim, batch=args.batch, steps=args.steps, device=args.device)
    print(f"\none training run of {args.steps} step(s) at batch {args.batch} on {args.device} "
          f"({torch.get_num_threads()} threads):")
    print(f"{'model':>10} {'s/step':>8} {'images/s':>9} {'peak RSS +MB':>13} {'CUDA peak MB':>13} {'run s':>7} "
          f"{'run CPU s':>9}")
    for name, r in steps.items():
        cuda = "-" if r["cuda_peak_mb"] is None else f"{r['cuda_peak_mb']:.0f}"
        print(f"{name:>10} {r['seconds_per_step']:8.2f} {r['images_per_second']:9.2f} "
              f"{r['peak_rss_delta_mb']:13.0f} {cuda:>13} {r['wall_seconds']:7.1f} {r['cpu_seconds']:9.1f}")
    report = {"profile": args.profile, "batch": args.batch, "steps": args.steps, "device": args.device,
              "threads": torch.get_num_threads(), "parameters": rows, "train": steps,
              "process_peak_rss_gib": max_rss_bytes() / 2**30, "wall_seconds": time.perf_counter() - start}
    print(f"process peak RSS (getrusage): {report['process_peak_rss_gib']:.2f} GiB; "
          f"{report['wall_seconds']:.0f} s in all")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()

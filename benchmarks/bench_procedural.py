"""Rendering speed of the procedural corpus at the default size, against baselines run alongside.

    python benchmarks/bench_procedural.py [--n 400] [--long-side 192] [--seed 2026]

Rows: a blank rice-paper canvas PNG-encoded (the floor: what every image costs before any brush work),
the full renderer in this process (workers=1), and the full renderer in 2 worker processes (spawn start
included). Ratios are against the blank-canvas baseline and against workers=1, measured in the same run
on the same machine, so they say something even where absolute speeds differ; images per CPU-second
(workers' CPU included) is the per-process rate, robust to other load on the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inkgen.data.procedural.noise import make_rng  # noqa: E402
from inkgen.data.procedural.paper import paper  # noqa: E402
from inkgen.data.procedural.plan import canvas_size, plan_corpus  # noqa: E402
from inkgen.data.procedural.source import render_all  # noqa: E402
from inkgen.data.raw_store import encode_png  # noqa: E402
from PIL import Image  # noqa: E402
import numpy as np  # noqa: E402


def blank_canvas(specs, long_side: int) -> None:
    for spec in specs:
        w, h = canvas_size(spec.format, long_side)
        ground = paper(w, h, spec.painting_type, spec.period, make_rng(spec.seed))
        encode_png(Image.fromarray((ground * 255).astype(np.uint8)))


def timed(fn) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process plus finished worker processes) of ``fn()``."""
    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    wall, cpu0 = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - wall, cpu() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--long-side", type=int, default=192)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    specs = plan_corpus(args.n, args.seed)
    rows = [
        ("blank paper + PNG encode", timed(lambda: blank_canvas(specs, args.long_side))),
        ("render + encode, workers=1", timed(lambda: list(render_all(specs, args.long_side, 1)))),
        ("render + encode, workers=2", timed(lambda: list(render_all(specs, args.long_side, 2)))),
    ]
    base, one = rows[0][1][0], rows[1][1][0]
    print(f"procedural renderer: {args.n} images, long side {args.long_side} px, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other load slows the wall-clock rows)")
    print(f"{'run':<28} {'wall s':>7} {'images/s':>9} {'images/cpu-s':>13} {'x blank':>8} {'x workers=1':>12}")
    for name, (wall, cpu) in rows:
        print(f"{name:<28} {wall:7.2f} {args.n / wall:9.1f} {args.n / cpu:13.1f} {base / wall:8.2f} "
              f"{one / wall:12.2f}")


if __name__ == "__main__":
    main()

"""Peak memory of the curate stage at two corpus sizes: flat when curation streams.

    nice -n 10 python benchmarks/bench_curate_memory.py [--sizes 2000 8000] [--side 32] [--epochs 1]
        [--labelled 0.25]

For each size, a fresh child process writes that many small labelled paintings (ink masses on toned
paper, ``--side`` px, a ``--labelled`` share with a category and painting type so that the classifier trains on them and
judges all) as the collect
stage would (``records.jsonl`` + PNGs), then runs :func:`inkgen.stages.curate.run` with the repository's
params, shrunk to ``--side`` px and ``--epochs`` epochs so that both sizes finish in minutes on two
cores. The child reports its resident memory after the imports (the baseline: Python, torch, the model
code) and its peak (``ru_maxrss``) over the run. The figures to compare are the peak above the baseline
at each size, and their ratio: a stage that held every image would grow 4x from 2,000 to 8,000 images;
a streaming one stays flat. What holding the views would cost is printed beside it (the float tensors
the former ``train_classifier`` built for the labelled images, two views each).

Measured on 2026-11-29 (2 shared, busy CPU cores, defaults: 32 px, 1 epoch, 25% labelled): 2,000 images
peak 852.1 MiB (334.1 above the 517.9 MiB baseline); 8,000 images peak 872.0 MiB (354.0 above): x4 the
images, x1.06 the memory above baseline (+20 MiB, ~3.4 KiB per item: its record and verdict). The former
code held every crop and whole view (6 KiB per item at 32 px) plus float copies of the labelled ones:
+63 MiB at least from 2,000 to 8,000 here, and ~5 GB at the paper's 15,000 x 256 px.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(n: int, side: int, epochs: int, labelled: float) -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from PIL import Image

    from inkgen.config import load
    from inkgen.stages.curate import run as run_curate
    from inkgen.data.raw_store import RawStore
    from inkgen.data.taxonomy import load_taxonomy

    baseline = _rss_mib()
    tax = load_taxonomy()
    primaries, types = sorted(tax.primary), sorted(tax.painting_types)
    with tempfile.TemporaryDirectory(prefix="inkgen-bench-curate-") as tmp:
        root = Path(tmp)
        store = RawStore(root / "raw")
        rng = np.random.default_rng(n)
        for i in range(n):
            img = np.empty((side, side, 3), np.uint8)
            img[:] = (rng.integers(200, 240), rng.integers(180, 220), rng.integers(140, 190))
            x, y, w, h = rng.integers(2, side // 2, 4)
            img[y:y + h, x:x + w] = rng.integers(20, 120)
            truth = ({"primary": primaries[i % len(primaries)], "painting_type": types[i % len(types)]}
                     if (i * labelled) % 1 + labelled >= 1 else None)  # an even share carries labels
            store.add_image(f"bench-{i:06d}", Image.fromarray(img), source="bench", license="CC0-1.0",
                            truth=truth)
        store.close()
        params = load(ROOT / "params.yaml")
        cls = dataclasses.replace(params.curate.classifier, input_size=side, epochs=epochs, batch_size=64)
        curate = dataclasses.replace(params.curate, target_size=side, classifier=cls)
        paths = dataclasses.replace(params.paths, raw="raw", curated="curated", models="models",
                                    metrics="metrics")
        started = time.perf_counter()
        summary = run_curate(dataclasses.replace(params, curate=curate, paths=paths), root)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    held = summary.n_train * 2 * 3 * cls.input_size ** 2 * 4 / 2 ** 20
    print(json.dumps({"n": n, "baseline_mib": round(baseline, 1), "peak_mib": round(peak, 1),
                      "peak_above_baseline_mib": round(peak - baseline, 1), "n_kept": summary.n_kept,
                      "n_train": summary.n_train, "seconds": round(seconds, 1),
                      "views_held_in_memory_before_mib": round(held, 1)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000])
    ap.add_argument("--side", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--labelled", type=float, default=0.25, help="share of items with labels (trained on)")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.side, args.epochs, args.labelled)
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--side", str(args.side),
                              "--epochs", str(args.epochs), "--labelled", str(args.labelled)],
                             check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(json.dumps({"images_ratio": last["n"] / first["n"],
                          "peak_above_baseline_ratio": round(last["peak_above_baseline_mib"]
                                                             / max(1e-9, first["peak_above_baseline_mib"]), 3),
                          "peak_ratio": round(last["peak_mib"] / first["peak_mib"], 3)}))


if __name__ == "__main__":
    main()

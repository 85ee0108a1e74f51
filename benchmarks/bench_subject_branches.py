"""Eq. 2-5 on the procedural corpus: branch counts and speed with the ground estimate, against plain Otsu.

    nice -n 10 python benchmarks/bench_subject_branches.py [--n 300] [--seed 2026] [--out branches.json]

Renders ``--n`` procedural paintings at the default size (params.yaml ``collect``) and resizes each one
twice with the ``curate.subject`` params: once as they are (ink relative to the estimated ground) and
once with ``ground_grid = 0`` (plain Otsu on grey, the detection of earlier versions; same code path
as before the ground estimate was added). Prints the branch counts of both, how many items changed
branch, how many curated images changed pixels, the centre-crop reasons, and the resize time per image
of both with their ratio (measured in the same process, interleaved image by image). ``--out`` keeps
the per-item boxes for inspection.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inkgen.config import load  # noqa: E402
from inkgen.data.procedural.plan import plan_corpus  # noqa: E402
from inkgen.data.procedural.render import render_item  # noqa: E402
from inkgen.data.subject_resize import subject_resize  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    params = load(ROOT / "params.yaml")
    cp = params.curate
    variants = {"ground": dataclasses.asdict(cp.subject),
                "plain_otsu": {**dataclasses.asdict(cp.subject), "ground_grid": 0}}
    seconds = dict.fromkeys(variants, 0.0)
    items: dict[str, dict] = {}
    for spec in plan_corpus(args.n, args.seed):
        rgb = np.asarray(render_item(spec, params.collect.procedural.long_side)[0].convert("RGB"))
        row = {}
        for name, kwargs in variants.items():
            t0 = time.perf_counter()
            out, res = subject_resize(rgb, cp.target_size, **kwargs)
            seconds[name] += time.perf_counter() - t0
            row[name] = {"branch": res.branch, "box": list(res.box), "reason": res.reason, "pixels": out}
        items[f"{spec.index:05d}"] = row
    n = len(items)
    counts = {name: dict(sorted(collections.Counter(r[name]["branch"] for r in items.values()).items()))
              for name in variants}
    moves = collections.Counter(f"{r['plain_otsu']['branch']}->{r['ground']['branch']}" for r in items.values()
                                if r["plain_otsu"]["branch"] != r["ground"]["branch"])
    changed = sum(not np.array_equal(r["plain_otsu"]["pixels"], r["ground"]["pixels"]) for r in items.values())
    reasons = collections.Counter(r["ground"]["reason"] for r in items.values()
                                  if r["ground"]["branch"] == "center_crop")
    ms = {name: round(1000 * s / max(1, n), 3) for name, s in seconds.items()}
    print(json.dumps({"n": n, "branch_counts": counts, "branch_moves": dict(sorted(moves.items())),
                      "curated_images_changed": changed, "center_crop_reasons_ground": dict(reasons),
                      "resize_ms_per_image": ms,
                      "time_ratio_ground_vs_plain_otsu": round(seconds["ground"] / seconds["plain_otsu"], 2)}))
    if args.out:
        Path(args.out).write_text(json.dumps(
            {k: {v: {f: x for f, x in r[v].items() if f != "pixels"} for v in r} for k, r in items.items()},
            indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

"""Eq. 2-5 branch counts on the procedural corpus, and the curated bytes, for a before/after comparison.

    python benchmarks/bench_subject_branches.py [--n 300] [--seed 2026] [--out branches.json]
        [--compare before.json]

Renders ``--n`` procedural paintings at the default size (params.yaml ``collect``), runs
``subject_resize`` with the default ``curate`` params on each, and writes the branch counts, the
centre-crop reasons and the SHA-256 of every curated image to ``--out``. With ``--compare`` it prints
how many items changed branch and how many curated images changed bytes against an earlier run (the
same script run on another version of the code). Timing is the resize alone, per image.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

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
    ap.add_argument("--out", default="branches.json")
    ap.add_argument("--compare", default="")
    args = ap.parse_args()
    params = load(ROOT / "params.yaml")
    collect = params.collect
    cp = params.curate
    # every curate.subject key this version of subject_resize knows (so the script runs on older code)
    known = subject_resize.__code__.co_varnames[:subject_resize.__code__.co_argcount
                                                + subject_resize.__code__.co_kwonlyargcount]
    subject_kwargs = {k: v for k, v in dataclasses.asdict(cp.subject).items() if k in known}
    specs = plan_corpus(args.n, args.seed)
    rows, seconds = {}, 0.0
    for spec in specs:
        image, _, _ = render_item(spec, collect.procedural.long_side)
        rgb = np.asarray(image.convert("RGB"))
        t0 = time.perf_counter()
        out, res = subject_resize(rgb, cp.target_size, **subject_kwargs)
        seconds += time.perf_counter() - t0
        rows[f"{spec.index:05d}"] = {"branch": res.branch, "box": list(res.box), "reason": res.reason,
                                     "sha256": hashlib.sha256(out.tobytes()).hexdigest()}
    counts = collections.Counter(r["branch"] for r in rows.values())
    result = {"n": len(rows), "branch_counts": dict(sorted(counts.items())),
              "resize_ms_per_image": round(1000 * seconds / max(1, len(rows)), 3), "items": rows}
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True))
    print(json.dumps({k: v for k, v in result.items() if k != "items"}, sort_keys=True))
    if args.compare:
        before = json.loads(Path(args.compare).read_text())
        common = sorted(set(before["items"]) & set(rows))
        moved = collections.Counter((before["items"][k]["branch"], rows[k]["branch"]) for k in common
                                    if before["items"][k]["branch"] != rows[k]["branch"])
        changed = sum(before["items"][k]["sha256"] != rows[k]["sha256"] for k in common)
        print(json.dumps({"before": before["branch_counts"], "after": result["branch_counts"],
                          "items_compared": len(common), "curated_pixels_changed": changed,
                          "branch_moves": {f"{a}->{b}": n for (a, b), n in sorted(moved.items())}}))


if __name__ == "__main__":
    main()

"""Calibrate the copyright match threshold and compare it with guessed thresholds, side by side.

    python benchmarks/bench_copyright_calibration.py [--policy FILE] [--registered-dir DIR --unrelated-dir DIR]
                                                      [--json OUT]

Registered works, their transformed copies (crop, scale, JPEG, mirror, rotation, colour shift, all at
once) and unrelated works come from the policy's ``calibration`` section (procedural works from a seed,
offline and repeatable) or from two folders of images. For each Hamming threshold it prints recall
(overall and per transform) and the false-positive rate on unrelated works, the threshold chosen by the
documented rule (highest recall with FPR <= calibration.max_fpr, ties to the smaller threshold), and how
the policy's threshold in force and common guesses (4, 8, 10, 16 bits) fare on the same data — so the
choice is seen against its alternatives, not in isolation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.calibration import calibrate, calibrate_procedural, folder_works  # noqa: E402
from governance.policy import load_policy  # noqa: E402

GUESSES = (4, 8, 10, 16)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy")
    ap.add_argument("--registered-dir")
    ap.add_argument("--unrelated-dir")
    ap.add_argument("--json", help="also write the result as JSON here")
    args = ap.parse_args()
    policy = load_policy(args.policy)
    c = policy.calibration
    t0 = time.perf_counter()
    if args.registered_dir:
        result = calibrate(folder_works(args.registered_dir), folder_works(args.unrelated_dir),
                           transforms=c.transforms, variants=policy.copyright.variants, max_threshold=c.max_threshold,
                           max_fpr=c.max_fpr, seed=c.seed, source=f"{args.registered_dir} / {args.unrelated_dir}")
    else:
        result = calibrate_procedural(c, policy.copyright.variants)
    seconds = time.perf_counter() - t0
    print(f"calibration on {result.source}: {result.n_registered} registered works, {result.n_copies} transformed "
          f"copies, {result.n_unrelated} unrelated works; query variants {', '.join(result.variants)}; "
          f"{seconds:.1f} s")
    names = list(result.rows[0].recall_by_transform)
    print(f"{'t':>3} {'recall':>7} {'FPR':>7} {'pairFPR':>9}  " + " ".join(f"{n:>8}" for n in names))
    for r in result.rows:
        mark = "  <- chosen" if r.threshold == result.chosen else ""
        print(f"{r.threshold:>3} {r.recall:>7.1%} {r.fpr:>7.2%} {r.pair_fpr:>9.2e}  "
              + " ".join(f"{r.recall_by_transform[n]:>8.1%}" for n in names) + mark)
    print(f"rule: {result.rule}")
    if result.chosen is None:
        print("no threshold meets the false-positive budget")
        return 1
    best = result.row(result.chosen)
    print(f"chosen threshold: {result.chosen} bits -> recall {best.recall:.1%}, FPR {best.fpr:.2%}")
    print("side by side on the same copies and unrelated works:")
    in_force = policy.copyright.registry_max_distance
    for label, t in [("calibrated", result.chosen), ("policy in force", in_force)] + [(f"guess {g}", g) for g in GUESSES]:
        if t > c.max_threshold:
            continue
        r = result.row(t)
        print(f"  {label:<16} t={t:>2}: recall {r.recall:6.1%} ({r.recall / best.recall:5.2f}x calibrated), "
              f"FPR {r.fpr:6.2%}{'  (over budget)' if r.fpr > c.max_fpr else ''}")
    for size in (10_000, 1_000_000):
        print(f"  at t={result.chosen}, a registry of {size:,} works would give an expected FPR of "
              f"{best.expected_fpr(size):.2%} (from the pair rate {best.pair_fpr:.2e}, assuming independent pairs)")
    if in_force != result.chosen:
        print(f"NOTE: policy.yaml uses {in_force}; this calibration chose {result.chosen}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Quality and wall time of the default study against training epochs and seeds, from one executed run.

Issue 10 asks for three things at once on two CPU cores: models that learn (phase-1 full ≥ 22 dB), ≥ 3 training
seeds per variant, and the whole study in ≤ 30 minutes. This reads what a run measured — each stage's
papermill duration (``reports/notebooks/*.ipynb``: ``metadata.papermill.duration``) and each phase-1 run's
validation PSNR and training seconds per epoch (its dvclive curves, ``reports/metrics/live``) — and prints

1. the measured wall time per stage group;
2. phase-1 validation PSNR per epoch, mean and range over seeds, per variant trained from step 0, with the
   training seconds it took to get there (mean over seeds);
3. the study time an (epochs, seeds) choice would take, *computed* from (1) and (2): the stages that do not
   depend on either as measured, each phase-1 run cut at that epoch (its measured seconds to that epoch plus
   the stage's measured overhead), and the guided runs and priors scaled by the number of seeds. It is an
   estimate assembled from measured parts, not a measurement of those settings: labelled so.

    python benchmarks/study_frontier.py [--root WORKSPACE]   # a workspace where `make study` ran

The install is not in the notebooks and is added as ``--install-minutes``: ``make setup`` in a fresh clone
took 61.8 s here (2026-12-01, wheels from the machine's package index; ``/usr/bin/time make setup``).
Papermill's durations leave out each stage's papermill and kernel start (~3.5 s a stage on the run of
2026-12-01: 95.1 min of wall against 93 min of notebooks), so the totals run ~2 min low.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VQGAN = re.compile(r"05a_vqgan-(?P<variant>\w+?)-(?P<seed>\d+)\.ipynb$")
PRIOR = re.compile(r"05b_prior-(?P<variant>\w+?)-(?P<seed>\d+)\.ipynb$")


def durations(notebooks: Path) -> dict[str, float]:
    """Seconds papermill took for each executed notebook."""
    out = {}
    for nb in sorted(notebooks.glob("*.ipynb")):
        meta = json.loads(nb.read_text(encoding="utf-8"))["metadata"].get("papermill", {})
        if meta.get("duration") is not None:
            out[nb.name] = float(meta["duration"])
    return out


def curve(live: Path, name: str) -> list[float]:
    """A dvclive scalar's values by step (epoch), or [] when the run did not log it."""
    path = live / "plots" / "metrics" / f"{name}.tsv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [float(row[name]) for row in csv.DictReader(f, delimiter="\t")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="workspace where the default study ran")
    ap.add_argument("--install-minutes", type=float, default=1.0, help="make setup's time, not in the notebooks")
    ap.add_argument("--epochs", type=int, nargs="+", default=[2, 4, 6, 8, 10])
    args = ap.parse_args()
    if any(e < 1 for e in args.epochs):
        ap.error("--epochs must be positive")
    seconds = durations(args.root / "reports" / "notebooks")
    if not seconds:
        ap.error(f"{args.root / 'reports' / 'notebooks'}: no executed notebooks (run `make study` there first)")

    groups: dict[str, float] = defaultdict(float)
    scratch: dict[str, dict[int, float]] = defaultdict(dict)   # variant -> seed -> stage seconds
    guided: dict[int, float] = {}
    priors: dict[int, float] = defaultdict(float)
    live = args.root / "reports" / "metrics" / "live"
    for name, s in seconds.items():
        if m := VQGAN.match(name):
            run = live / f"vqgan-{m['variant']}-seed-{m['seed']}"
            if len(curve(run, "val_psnr")) < 5:   # a continued run (logs only its own last epochs): guided
                guided[int(m["seed"])] = s
                groups["vqgan_guided"] += s
            else:
                scratch[m["variant"]][int(m["seed"])] = s
                groups["vqgan (from step 0)"] += s
        elif m := PRIOR.match(name):
            priors[int(m["seed"])] += s
            groups["prior"] += s
        else:
            groups[name.removesuffix(".ipynb")] += s
    fixed = sum(s for g, s in groups.items() if g not in ("vqgan (from step 0)", "vqgan_guided", "prior"))

    print(f"# 1. measured: papermill duration per stage group ({args.root})")
    for g, s in sorted(groups.items(), key=lambda x: -x[1]):
        print(f"  {g:28s} {s / 60:6.1f} min")
    print(f"  {'(install, given)':28s} {args.install_minutes:6.1f} min")
    print(f"  total {sum(groups.values()) / 60 + args.install_minutes:.1f} min; stages that depend on neither "
          f"epochs nor seeds: {fixed / 60 + args.install_minutes:.1f} min (install included)")

    print("\n# 2. measured: phase-1 validation PSNR (dB) per epoch, mean [min, max] over seeds; training s to there")
    per_epoch_s: dict[str, list[float]] = {}
    overhead: dict[str, float] = {}
    for variant in sorted(scratch):
        runs = [live / f"vqgan-{variant}-seed-{seed}" for seed in sorted(scratch[variant])]
        psnr = [curve(r, "val_psnr") for r in runs]
        secs = [list(itertools.accumulate(curve(r, "seconds"))) for r in runs]  # logged per epoch
        n = min(len(p) for p in psnr)
        per_epoch_s[variant] = [statistics.mean(s[e] for s in secs) for e in range(n)]
        overhead[variant] = statistics.mean(scratch[variant].values()) - per_epoch_s[variant][-1]
        cells = [f"{statistics.mean(p[e] for p in psnr):.2f} [{min(p[e] for p in psnr):.2f}, "
                 f"{max(p[e] for p in psnr):.2f}] {per_epoch_s[variant][e]:.0f}s" for e in range(n)
                 if e + 1 in args.epochs]
        print(f"  {variant:10s} N = {len(runs)} seeds: " + " | ".join(f"e{e}: {c}" for e, c in
                                                                  zip([e for e in args.epochs if e <= n], cells)))

    print("\n# 3. computed from 1 and 2 (an estimate, not a measurement): study minutes for epochs x seeds")
    n_seeds = max(len(v) for v in scratch.values())
    print("  epochs  " + "  ".join(f"{s} seed{'s' if s > 1 else ' '}" for s in range(1, n_seeds + 1)))
    for e in args.epochs:
        if any(e > len(v) for v in per_epoch_s.values()):
            continue
        per_seed = sum(per_epoch_s[v][e - 1] + overhead[v] for v in per_epoch_s) + \
            statistics.mean(guided.values() or [0.0]) + statistics.mean(priors.values() or [0.0])
        cells = [f"{(fixed + s * per_seed) / 60 + args.install_minutes:7.1f}" for s in range(1, n_seeds + 1)]
        print(f"  {e:6d}  " + "  ".join(cells))


if __name__ == "__main__":
    main()

"""One image from a cold process: `inkgen generate` end to end (imports, params, governance gate, checkpoint,
BERT, sampling, decoding, PNG, ledger), against a cold `python -c "import torch"` in the same conditions.

    python benchmarks/bench_generate_cold.py --project DIR [--runs 5] [--cores 0,1] [--pythonpath SRC] [--before OLD]

Run inside a project whose study has trained the full model (``--checkpoint`` default). Each run is a fresh
process pinned to ``--cores`` (``taskset``; the issue's target: one image in <= 3 s on 2 cores); runs of the
two commands alternate, so load on the machine hits both alike. ``--pythonpath SRC`` runs the inkgen source
at SRC (e.g. `git archive OLD | tar -x -C SRC`) for a before/after (``python -P``: the working directory's copy
never shadows it); ``--before OLD`` also times the source at OLD, alternating with the others, and prints the
ratio new / old (OLD: a source folder, or a git revision of this checkout, e.g. ``--before main``, exported
with ``git archive`` into a temporary folder), and checks that both painted the same pixels and recorded the
same decisions, seed by seed. The uncounted run 0 also builds the compiled-lexicon cache
(:mod:`governance.lexicon_cache`), as a project's first ``inkgen generate`` does; the reference keypoints
(:mod:`governance.keypoint_store`) accumulate as images are checked, so ``--fresh-cache`` (an empty cache
before run 0) measures a new installation's first images. Printed: the median wall
and CPU seconds of each (CPU seconds vary far less on a shared machine), and the ratio generate / import
torch (the floor no lazy import can go under).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "a flower and bird painting with winding branches, freehand, light ink"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run; on a shared machine the CPU seconds vary far less."""
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt, dc = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return dt, dc


def _source(before: str, work: Path) -> Path:
    """``before`` as a source folder: itself if it is one, else the git revision exported under ``work``."""
    if Path(before).is_dir():
        return Path(before).resolve()
    repo = Path(__file__).resolve().parents[1]
    dest = work / "before-src"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", before, "inkgen", "governance"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


#: What a generation's ledger record decides (its ids, digests and times differ from run to run by design).
DECIDED = ("decision", "copyright", "held_for", "status", "prompt_used", "seed", "params", "role")


def _decided(ledger: Path) -> list[dict]:
    rows = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{k: r["payload"].get(k) for k in DECIDED} for r in rows if r.get("kind") == "generation"]


def _same_results(work: Path, n: int, fresh: bool) -> tuple[int, int]:
    """(images with identical pixels, images with identical ledger decisions) of the new and the old source,
    seed by seed. The PNG files themselves differ: each embeds its own random provenance id and ledger head."""
    import numpy as np
    from PIL import Image

    pixels = sum(np.array_equal(np.asarray(Image.open(work / "out" / f"new-{i}.png")),
                                np.asarray(Image.open(work / "out" / f"old-{i}.png"))) for i in range(n))
    if fresh:
        new = [d for i in range(n) for d in _decided(work / f"ledger-new-{i}.jsonl")]
        old = [d for i in range(n) for d in _decided(work / f"ledger-old-{i}.jsonl")]
    else:
        new, old = _decided(work / "ledger-new.jsonl"), _decided(work / "ledger-old.jsonl")
    return int(pixels), sum(a == b for a, b in zip(new, old)) if len(new) == len(old) == n else 0


#: Phases of one cold `inkgen generate`: the first whose frame a py-spy stack holds (calls before the imports
#: they trigger; every stack of the process starts at the CLI module).
PHASES = (("params.yaml, policy, lexicon, references (gate)", ("_project (inkgen/cli.py", "_gate (inkgen/cli.py")),
          ("prompt check", ("Gate.check",)),
          ("checkpoint, VQGAN, BERT load", ("Generator.from_checkpoint",)),
          ("painting (sampling, decoding)", ("Generator.generate",)),
          ("copy check (pHash, SIFT, evidence)", ("check_output",)),
          ("ledger, PNG", ("link_checkpoint", "record_generation")),
          ("import torch, numpy (inkgen.generate)", ("<module> (inkgen/generate.py",)),
          ("import governance (inkgen.governed)", ("<module> (inkgen/governed.py",)),
          ("rest of the generate command", ("_generate (inkgen/cli.py",)),
          ("import inkgen.config, the CLI", ("<module> (inkgen/cli.py",)))


def breakdown(cmd: list[str], cwd: Path, env: dict[str, str], rate: int = 250) -> list[tuple[str, float, int]]:
    """(phase, share of samples, samples) of one run of ``cmd`` under ``py-spy record`` (non-blocking)."""
    out = Path(tempfile.mkdtemp(prefix="spy-")) / "raw.txt"
    subprocess.run(["py-spy", "record", "--nonblocking", "-r", str(rate), "-f", "raw", "-o", str(out), "--", *cmd],
                   cwd=cwd, env=env, capture_output=True, check=True)
    counts: dict[str, int] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        stack, _, n = line.rpartition(" ")
        name = next((p for p, keys in PHASES for k in keys if k in stack),
                    "other (interpreter start and exit, native threads)")
        counts[name] = counts.get(name, 0) + int(n)
    shutil.rmtree(out.parent, ignore_errors=True)
    total = sum(counts.values()) or 1
    return sorted(((k, v / total, v) for k, v in counts.items()), key=lambda x: -x[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default=".", help="project root with a trained full model")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cores", default="0,1", help="CPU list for taskset ('' = no pinning)")
    ap.add_argument("--pythonpath", default=None, help="inkgen source to run (default: this checkout)")
    ap.add_argument("--checkpoint", default=None, help="default: the study's full model")
    ap.add_argument("--before", default=None, help="another inkgen source, timed alternately for a before/after")
    ap.add_argument("--fresh-ledger", action="store_true",
                    help="a new ledger per run (the first image's cost) instead of one kept across runs")
    ap.add_argument("--fresh-cache", action="store_true",
                    help="an empty governance cache (GOVERNANCE_CACHE_DIR) for this benchmark: run 0 builds the "
                         "lexicon cache and stores only its own candidates' keypoints (a new installation), "
                         "instead of the user's cache as earlier images left it")
    ap.add_argument("--breakdown", action="store_true",
                    help="also profile one more cold generate with py-spy and print each phase's share")
    args = ap.parse_args()

    project = Path(args.project).resolve()
    src = Path(args.pythonpath).resolve() if args.pythonpath else Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": str(len(args.cores.split(",")) or 1)}
    pin = ["taskset", "-c", args.cores] if args.cores and shutil.which("taskset") else []
    py = sys.executable
    (project / "build").mkdir(exist_ok=True)  # inside the project (the ledger's root), ignored by git
    work = Path(tempfile.mkdtemp(prefix="bench-generate-", dir=project / "build"))
    if args.fresh_cache:
        env["GOVERNANCE_CACHE_DIR"] = str(work / "governance-cache")
    old_env = {**env, "PYTHONPATH": str(_source(args.before, work))} if args.before else None
    gen_t, torch_t, old_t = [], [], []

    def generate(i: int, tag: str, environ: dict[str, str]) -> tuple[float, float]:
        # one ledger per source, made by the uncounted run 0 (a project's ledger exists after its first image),
        # unless --fresh-ledger: then each image is a ledger's first (it also records the training set's sources)
        ledger = work / (f"ledger-{tag}-{i}.jsonl" if args.fresh_ledger else f"ledger-{tag}.jsonl")
        cmd = [*pin, py, "-P", "-m", "inkgen.cli", "generate", PROMPT, "--out", str(work / "out" / f"{tag}-{i}.png"),
               "--seed", str(i), "--ledger", str(ledger), "--held-dir", str(work / "held")]
        return timed(cmd + (["--checkpoint", args.checkpoint] if args.checkpoint else []), project, environ)

    try:
        for i in range(args.runs + 1):  # run 0 warms the page cache for all and is not counted
            g = generate(i, "new", env)
            t = timed([*pin, py, "-P", "-c", "import torch"], project, env)
            o = generate(i, "old", old_env) if old_env else None
            if i:
                gen_t.append(g)
                torch_t.append(t)
                old_t.append(o)
        same = _same_results(work, args.runs + 1, args.fresh_ledger) if old_env else None
        phases = {}
        if args.breakdown:
            n = args.runs + 1
            spy = lambda tag, environ: breakdown(  # noqa: E731
                [py, "-P", "-m", "inkgen.cli", "generate", PROMPT, "--out", str(work / "out" / f"{tag}-spy.png"),
                 "--seed", str(n), "--ledger", str(work / f"ledger-{tag}.jsonl" if not args.fresh_ledger
                                                    else work / f"ledger-{tag}-spy.jsonl"),
                 "--held-dir", str(work / "held")] + (["--checkpoint", args.checkpoint] if args.checkpoint else []),
                project, environ)
            phases = {"new": spy("new", env), **({"before": spy("old", old_env)} if old_env else {})}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"source {src}; {len(gen_t)} runs on cores {args.cores or 'all'}; "
          f"{'a fresh ledger per image' if args.fresh_ledger else 'an existing ledger'}; "
          f"{'an empty governance cache before run 0' if args.fresh_cache else 'the user governance cache'}")
    for what, i in (("wall", 0), ("CPU", 1)):
        g, t = statistics.median(x[i] for x in gen_t), statistics.median(x[i] for x in torch_t)
        print(f"{what:>4}: inkgen generate, one image, cold: median {g:.2f} s "
              f"(min {min(x[i] for x in gen_t):.2f}); import torch: {t:.2f} s; ratio {g / t:.2f}")
        if old_env:
            o = statistics.median(x[i] for x in old_t)
            print(f"{'':>4}  before ({args.before}): median {o:.2f} s; new / before {g / o:.2f}")
    for tag, rows in phases.items():
        print(f"breakdown ({tag}; py-spy samples of one cold generate, share of all):")
        for name, share, n in rows:
            print(f"  {share:6.1%}  {n:5d}  {name}")
    if same is not None:
        print(f"before/after, same seeds: identical pixels {same[0]}/{args.runs + 1} images; identical ledger "
              f"records (decision, copyright verdicts, held_for, status, prompt used) {same[1]}/{args.runs + 1}")


if __name__ == "__main__":
    main()

"""Launching a training phase on several processes with torchrun (``train.nproc`` > 1), and the entry module
each process runs.

The stage notebook calls the library as always (``inkgen.stages.vqgan.run`` / ``inkgen.stages.prior.run``); with
``train.nproc`` = N > 1 the library starts ``python -m torch.distributed.run --standalone --nproc_per_node N
-m inkgen.launch <phase> ...`` and waits. Each process joins the process group (NCCL on CUDA, gloo on CPU;
:mod:`inkgen.training.distributed`) and trains its shard of every global batch; rank 0 alone writes the
checkpoint, the dvclive log and a small result file. The notebook's process then reads the finished
checkpoint back into the same ``TrainResult`` a single-process run returns, and goes on as before.

Several nodes: start the same entry module on every node yourself, e.g. on each of 2 nodes with 8 GPUs::

    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
        -m inkgen.launch vqgan --params params.yaml --variant full --seed 2026

(see README, "Scaling up"); then run the stage's notebook with papermill on the first node (it finds the
complete checkpoint and does not train again) and ``dvc commit`` the stage.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

PHASES = ("vqgan", "prior")


class LaunchError(RuntimeError):
    """A distributed run that failed; the message carries the end of its output."""


def params_to_raw(params: Any) -> Any:
    """A validated ``Params`` back to the plain mapping ``inkgen.config.parse`` reads (for the workers)."""
    if dataclasses.is_dataclass(params):
        return {f.name: params_to_raw(getattr(params, f.name)) for f in dataclasses.fields(params)}
    if isinstance(params, Mapping):
        return {k: params_to_raw(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [params_to_raw(v) for v in params]
    return params


def torchrun(module: str, args: Sequence[str], nproc: int, *, cwd: str | Path, tail: int = 60) -> None:
    """Run ``python -m <module> <args>`` in ``nproc`` processes on this machine through torchrun (standalone
    rendezvous on a free local port), streaming their output; a failure raises :class:`LaunchError` with the
    last ``tail`` lines."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={int(nproc)}",
           "-m", module, *map(str, args)]
    last: collections.deque[str] = collections.deque(maxlen=tail)
    with subprocess.Popen(cmd, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            last.append(line.rstrip("\n"))
            print(line, end="", flush=True)
        rc = proc.wait()
    if rc != 0:
        raise LaunchError(f"torchrun of {module} {' '.join(map(str, args))} on {nproc} processes failed (exit "
                          f"status {rc}); last lines:\n" + "\n".join(last))


def run_phase(phase: str, params, variant: str, seed: int, root: str | Path, *,
              progress: bool = True) -> dict[str, Any]:
    """Train ``phase`` of ``variant`` with training seed ``seed`` in ``params.train.nproc`` processes; return rank 0's result record
    (``images_per_second``, ``steps``, ``complete``, ``world_size``). The checkpoint is where a single-process
    run would write it."""
    if phase not in PHASES:
        raise LaunchError(f"unknown phase {phase!r}; expected one of {PHASES}")
    with tempfile.TemporaryDirectory(prefix="inkgen-launch-") as tmp:
        params_file, result_file = Path(tmp) / "params.json", Path(tmp) / "result.json"
        params_file.write_text(json.dumps(params_to_raw(params)), encoding="utf-8")
        args = [phase, "--params", params_file, "--variant", variant, "--seed", str(int(seed)), "--root", Path(root).resolve(),
                "--result", result_file] + ([] if progress else ["--no-progress"])
        torchrun("inkgen.launch", args, params.train.nproc, cwd=root)
        if not result_file.is_file():
            raise LaunchError(f"the {phase} run of {variant!r} ended without rank 0's result file")
        return json.loads(result_file.read_text(encoding="utf-8"))


def load_result(path: str | Path, params_hash: str, record: Mapping[str, Any]):
    """The ``TrainResult`` of a finished distributed run, read from its checkpoint (refused if of other
    params) and rank 0's ``record``: what the notebook would have got from a single-process run."""
    # the notebook that launches torchrun imports this module; the training stack loads only when it reads a result
    from inkgen.models.vqgan.config import VQGANConfig
    from inkgen.models.vqgan.losses import VQGANLoss
    from inkgen.training import TrainResult, load_checkpoint, load_trained

    ck = load_checkpoint(path, params_hash=params_hash)
    vqgan, prior, _ = load_trained(path, params_hash=params_hash)
    discriminator = None
    if ck["phase"] == "vqgan":
        discriminator = VQGANLoss(VQGANConfig.from_dict(ck["vqgan_config"])).discriminator
        discriminator.load_state_dict(ck["discriminator"])
    model = (vqgan if prior is None else prior).eval()
    return TrainResult(model=model, history=[dict(h) for h in ck["loop"]["history"]], steps=int(ck["step"]),
                       complete=bool(ck["complete"]), converged_epoch=ck["converged_epoch"],
                       images_per_second=float(record["images_per_second"]), checkpoint=Path(path),
                       discriminator=discriminator)


def main(argv: list[str] | None = None) -> int:
    """Entry of every torchrun process: join the group, train the phase, rank 0 records the result."""
    parser = argparse.ArgumentParser(prog="python -m inkgen.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--params", required=True, help="params file (params.yaml, or the JSON the launcher writes)")
    parser.add_argument("--variant", required=True)
    parser.add_argument("--seed", type=int, required=True, help="the training seed (one of seeds)")
    parser.add_argument("--root", default=None, help="project root (default: the params file's folder)")
    parser.add_argument("--result", default=None, help="rank 0 writes its result record (JSON) here")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    # after argument parsing: a bad command line fails before the training stack (torch) loads in every process
    from inkgen import config
    from inkgen.training import runs
    from inkgen.training import distributed

    params = config.load(args.params)
    root = Path(args.root) if args.root else config.project_root(args.params)
    w = distributed.init_from_env(params.train.device)
    try:
        fit = runs.fit_vqgan if args.phase == "vqgan" else runs.fit_prior
        result = fit(params, args.variant, args.seed, root, progress=w.main and not args.no_progress)
        if w.main and args.result:
            Path(args.result).write_text(json.dumps({
                "images_per_second": result.images_per_second, "steps": result.steps,
                "complete": result.complete, "world_size": w.size}), encoding="utf-8")
    finally:
        distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

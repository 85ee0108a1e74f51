"""Training checkpoints: weights, optimiser and RNG states, the step, and the configs and params hash
of the run, so that an interrupted run resumes to the same weights as an uninterrupted one.

A checkpoint is a ``torch.save`` dict with ``format`` ``"inkgen.train/1"``; it carries the config dicts
(VQGAN, cross-modal, train) so later stages read the architecture from it, and the hash of the params
that produced it. :func:`load_checkpoint` refuses a file that is missing, unreadable (truncated, not a
torch file), of another format or phase, or written under other params, naming the file and the reason.
Files are written atomically (temporary file + rename): an interruption while saving leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import torch

from inkgen.training.config import TrainError

CHECKPOINT_FORMAT = "inkgen.train/1"
PHASES = ("vqgan", "prior")


class CheckpointError(TrainError):
    """A checkpoint that cannot be used; the message names the file and says why."""


def checkpoint_path(directory: str | Path, phase: str) -> Path:
    """Where the latest checkpoint of ``phase`` lives in ``directory``."""
    if phase not in PHASES:
        raise CheckpointError(f"unknown training phase {phase!r}; expected one of {PHASES}")
    return Path(directory) / f"{phase}-last.pt"


def branch_path(directory: str | Path) -> Path:
    """Where a phase-1 run keeps its state at the branch step (``vqgan_train.clip_start``), from which the run
    of its CLIP-guided twin continues (:func:`inkgen.training.runs.branch_source`)."""
    return Path(directory) / "vqgan-branch.pt"


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """The global RNG states that training draws from (dropout, dead-code re-initialisation)."""
    out = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        out["mps"] = torch.mps.get_rng_state()
    return out


def set_rng_state(state: Mapping[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
    elif device.type == "mps" and "mps" in state:
        torch.mps.set_rng_state(state["mps"])


def to_cpu(obj: Any) -> Any:
    """Tensors anywhere in ``obj`` moved to the CPU (checkpoints load on any device), strings interned.

    Interning matters for byte-identical files: pickle writes a string once per distinct *object*, so
    keys read back from a resumed checkpoint (fresh objects) would otherwise pickle differently from the
    interned literals of an uninterrupted run, with equal content.
    """
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, str):
        return sys.intern(obj)
    if isinstance(obj, dict):
        return {to_cpu(k): to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, **to_cpu(dict(payload))}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path, *, params_hash: str | None, phase: str | None = None) -> dict[str, Any]:
    """Read a checkpoint, refusing it (``CheckpointError`` naming ``path``) when it is missing, corrupt,
    of another format or phase, or when its params hash differs from ``params_hash`` (``None``: a reader
    that does not compare hashes, e.g. a later stage reading the architecture)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated or garbage files
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint ({type(exc).__name__}: {first})") from exc
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        fmt = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"{path}: not an inkgen training checkpoint (format {fmt!r}, "
                              f"expected {CHECKPOINT_FORMAT!r})")
    missing = [k for k in ("phase", "params_hash", "train_config", "step") if k not in obj]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint, it lacks {missing}")
    if phase is not None and obj["phase"] != phase:
        raise CheckpointError(f"{path}: is a {obj['phase']!r} checkpoint, a {phase!r} one was expected")
    if params_hash is not None and obj["params_hash"] != params_hash:
        raise CheckpointError(f"{path}: written under params hash {obj['params_hash']!r}, but the current "
                              f"params hash is {params_hash!r}; the params changed since, so it cannot be "
                              "resumed (delete it to start over)")
    return obj


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

"""The epoch/step loop shared by both training phases: seeded shuffling, per-epoch means, checkpoints
every ``checkpoint_every`` steps, simulated interruption, progress bar and the ``on_epoch`` callback.

Resumable by construction: the batch order of epoch ``e`` is a pure function of (seed, e) (a
``torch.Generator`` seeded from both), so a run resumed at step ``s`` of an epoch re-creates that epoch's
order and skips the ``s`` batches already done; the running sums of the epoch's losses are part of the
state, so per-epoch means come out the same as without interruption.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from inkgen import progress as terminal_progress

from inkgen.training.distributed import run_step


@dataclass
class LoopState:
    step: int = 0                     # optimisation steps done (global step)
    epoch: int = 0                    # epochs completed
    step_in_epoch: int = 0            # steps done in the current epoch
    sums: dict[str, float] = field(default_factory=dict)   # batch-size-weighted sums of this epoch
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per completed epoch

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                "sums": dict(self.sums), "history": [dict(h) for h in self.history]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LoopState":
        return cls(int(d["step"]), int(d["epoch"]), int(d["step_in_epoch"]), dict(d["sums"]),
                   [dict(h) for h in d["history"]])


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The shuffled sample order of ``epoch``: a pure function of (seed, epoch)."""
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch) + 1)
    return torch.randperm(n, generator=gen)


def run_epochs(state: LoopState, *, n: int, batch_size: int, epochs: int, seed: int,
               step_fn: Callable[[torch.Tensor], dict[str, float]],
               epoch_end_fn: Callable[[dict[str, float]], dict[str, float]],
               save_fn: Callable[[], None] | None, checkpoint_every: int,
               stop_after_steps: int | None, on_epoch: Callable[[dict[str, Any]], None] | None,
               progress: bool, desc: str,
               branch: tuple[int, Callable[[], None]] | None = None) -> tuple[bool, float, int]:
    """Run the remaining epochs from ``state``; return (complete, seconds in steps, images seen).

    ``step_fn(idx)`` trains on the samples ``idx`` and returns per-batch means; ``epoch_end_fn(means)``
    returns the epoch's history entry (validation added). ``stop_after_steps``: stop (as if killed,
    nothing saved) before the step that would exceed this global step count. ``branch`` = (step, fn):
    ``fn()`` is called when the global step count reaches ``step`` (before that step's batch is drawn; at
    the start when it is 0), so that another run can start from this run's state there.
    """
    if branch is not None and state.step == branch[0] == 0:
        branch[1]()
    bs = min(batch_size, n)
    per_epoch = math.ceil(n / bs)
    seconds, seen = 0.0, 0
    # on the terminal of `dvc repro`, never in the executed notebook; a line per epoch when not a terminal
    bar = terminal_progress.bar(total=per_epoch * epochs, initial=state.step, desc=desc, disable=not progress,
                                log_every=per_epoch)
    try:
        while state.epoch < epochs:
            order = epoch_order(seed, state.epoch, n)
            epoch_seconds, epoch_seen = 0.0, 0
            for s in range(state.step_in_epoch, per_epoch):
                if stop_after_steps is not None and state.step >= stop_after_steps:
                    return False, seconds, seen
                idx = order[s * bs:(s + 1) * bs]
                epoch_seconds += _train_step(state, step_fn, idx, bar)
                epoch_seen += len(idx)
                _after_step(state, save_fn, checkpoint_every, branch)
            entry = _close_epoch(state, epoch_end_fn)
            seconds += epoch_seconds
            seen += epoch_seen
            _report(on_epoch, entry, epoch_seconds, epoch_seen)
    finally:
        bar.close()
    return True, seconds, seen


def _train_step(state: LoopState, step_fn: Callable[[torch.Tensor], dict[str, float]], idx: torch.Tensor,
                bar: Any) -> float:
    """One optimisation step on the global batch ``idx``: its logs added, weighted by the batch size, to
    the epoch's running sums (part of the state, so a resumed epoch's means are the same); returns the
    step's seconds."""
    t0 = time.perf_counter()
    logs = run_step(step_fn, idx)  # one process: step_fn(idx); DDP: this rank's shard
    dt = time.perf_counter() - t0
    for k, v in logs.items():
        state.sums[k] = state.sums.get(k, 0.0) + float(v) * len(idx)
    state.sums["_n"] = state.sums.get("_n", 0.0) + len(idx)
    state.step += 1
    state.step_in_epoch += 1
    bar.update(1)
    bar.set_postfix({k: f"{v:.4f}" for k, v in list(logs.items())[:3]}, refresh=False)
    return dt


def _after_step(state: LoopState, save_fn: Callable[[], None] | None, checkpoint_every: int,
                branch: tuple[int, Callable[[], None]] | None) -> None:
    """The checkpoint every ``checkpoint_every`` steps, then the branch point's state when it is reached."""
    if save_fn is not None and checkpoint_every and state.step % checkpoint_every == 0:
        save_fn()
    if branch is not None and state.step == branch[0]:
        branch[1]()


def _close_epoch(state: LoopState, epoch_end_fn: Callable[[dict[str, float]], dict[str, float]]
                 ) -> dict[str, float]:
    """The epoch's history entry (its mean training losses, then ``epoch_end_fn``'s validation), appended
    to the history; the state moves to the next epoch's start."""
    count = state.sums.pop("_n", 0.0) or 1.0
    means = {k: v / count for k, v in sorted(state.sums.items())}
    entry = {"epoch": state.epoch + 1, "step": state.step, **epoch_end_fn(means)}
    state.history.append(entry)
    state.epoch += 1
    state.step_in_epoch = 0
    state.sums = {}
    return entry


def _report(on_epoch: Callable[[dict[str, Any]], None] | None, entry: dict[str, float], seconds: float,
            seen: int) -> None:
    """The epoch's entry to the ``on_epoch`` callback, with the epoch's step time and throughput."""
    if on_epoch is not None:
        # timing is reported to the callback but kept out of the history: checkpoints stay
        # byte-identical between runs, timing never is
        on_epoch({**entry, "seconds": seconds, "images_per_second": seen / seconds if seconds > 0 else 0.0})

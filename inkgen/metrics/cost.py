"""Engineering cost and training efficiency (paper section 3: Table 1 "Parameter quantity", "Inference
speed / ms", "Convergence rounds"; Figure 8(b) "MACs").

- :func:`parameter_count`: the number of scalars in a model's parameters (shared tensors counted once).
- :func:`count_macs`: multiply-accumulate operations of one call, from
  ``torch.utils.flop_counter.FlopCounterMode``. That counter reports FLOPs of matrix products and
  convolutions as 2 per multiply-accumulate, so **MACs = FLOPs / 2**; element-wise operations,
  normalisations and softmax have no FLOP formula there and are not counted (as in the usual MAC
  counters such as thop/ptflops, which the paper's kind of numbers come from).
- :func:`time_inference`: wall-clock time of one call, as the median of ``runs`` timed calls after
  ``warmup`` untimed ones (the first calls pay for allocation and kernel selection), on a named device;
  on CUDA each call is bracketed by ``torch.cuda.synchronize`` so asynchronous kernels are timed.
- :func:`convergence_rounds`: the training stage's rule (:func:`inkgen.training.convergence.convergence_epoch`),
  reused, over one validation-loss curve per seed.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inkgen.metrics.stats import Estimate, across_seeds, bootstrap_ci


def parameter_count(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter scalars (``Module.parameters`` yields a shared tensor once)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


@torch.no_grad()
def count_macs(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """MACs of ``fn(*args, **kwargs)`` (a module or any callable) = FlopCounterMode's FLOPs / 2."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn(*args, **kwargs)
    return int(counter.get_total_flops()) // 2


def device_name(device: torch.device | str) -> str:
    """A human-readable name of the device timings were taken on."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    return f"cpu:{cpu} ({torch.get_num_threads()} torch threads, {os.cpu_count()} logical cores)"


@dataclass(frozen=True)
class Timing:
    """Per-run wall-clock times in ms of one call, and where/how they were taken."""

    ms: np.ndarray
    device: str
    warmup: int

    @property
    def median_ms(self) -> float:
        return float(np.median(self.ms))

    def estimate(self, confidence: float, n_resamples: int, seed: int) -> Estimate:
        """The median with a bootstrap interval over the timed runs."""
        return bootstrap_ci(self.ms, np.median, confidence=confidence, n_resamples=n_resamples, seed=seed,
                            method="percentile")


@torch.no_grad()
def time_inference(fn: Callable[[], Any], *, warmup: int, runs: int, device: torch.device | str) -> Timing:
    """Time ``fn()`` ``runs`` times after ``warmup`` untimed calls; per-run milliseconds."""
    if warmup < 0 or runs < 1:
        raise ValueError(f"need warmup >= 0 and runs >= 1, got warmup={warmup}, runs={runs}")
    device = torch.device(device)
    cuda = device.type == "cuda"
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize(device)  # kernels run asynchronously: wait before reading the clock
        times.append((time.perf_counter() - start) * 1000.0)
    return Timing(np.asarray(times), device_name(device), int(warmup))


def time_interleaved(fns: Mapping[str, Callable[[], Any]], *, warmup: int, runs: int,
                     device: torch.device | str) -> dict[str, Timing]:
    """Like :func:`time_inference` for several callables, timed round-robin (run ``i`` of every callable
    before run ``i + 1`` of any, in an order that rotates each round), so that drift in the machine's
    speed (other load, thermal state, allocator warm-up) hits all of them alike instead of biasing a
    comparison between them."""
    if warmup < 0 or runs < 1 or not fns:
        raise ValueError(f"need warmup >= 0, runs >= 1 and at least one callable, got warmup={warmup}, "
                         f"runs={runs}, {len(fns)} callables")
    device = torch.device(device)
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            fns[name]()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: Timing(np.asarray(ms), device_name(device), int(warmup)) for name, ms in times.items()}


@dataclass(frozen=True)
class Convergence:
    """Convergence epoch per seed (None: still improving at the end) and, when every seed converged, the
    mean with a t-interval across seeds."""

    epochs: tuple[int | None, ...]
    estimate: Estimate | None
    note: str


def convergence_rounds(val_loss_curves: Sequence[Sequence[float]], *, window: int,
                       min_rel_improvement: float, confidence: float) -> Convergence:
    """The training stage's convergence rule applied to each seed's validation-loss curve."""
    from inkgen.training.convergence import convergence_epoch  # the rule lives with training

    if not val_loss_curves:
        raise ValueError("convergence_rounds needs at least one validation-loss curve")
    epochs = tuple(convergence_epoch(c, window, min_rel_improvement) for c in val_loss_curves)
    open_ = [i for i, e in enumerate(epochs) if e is None]
    if open_:
        lengths = [len(val_loss_curves[i]) for i in open_]
        return Convergence(epochs, None, f"seed index(es) {open_} had not converged after {lengths} epochs")
    return Convergence(epochs, across_seeds([float(e) for e in epochs], confidence), "")

"""Data-parallel training with PyTorch DDP (``torch.nn.parallel.DistributedDataParallel``) under torchrun:
every distributed concern of the training phases lives here, so that the loops carry only small hooks.

Semantics (the same for 1 process and for N; with one process every function here is a no-op):

* **Global batch.** ``vqgan_train.batch_size`` / ``prior_train.batch_size`` are the global batch: each step, the
  loop takes the next ``batch_size`` samples of the seeded epoch order (:func:`inkgen.training.loop.epoch_order`,
  the same order as a single-process run) and :func:`shard` gives rank ``r`` the ``r``-th contiguous slice
  of it. A ``torch.utils.data.DistributedSampler`` would give rank ``r`` every N-th index of the epoch instead;
  both give each step the same set of samples, but contiguous slices also make the rank-ordered
  concatenation of the ranks' samples equal to the single-process batch, which the quantizer's code buffer
  relies on. A final batch that does not split evenly is padded by repeating its own
  first samples (as DistributedSampler pads an epoch), so every rank steps with the same local batch.
* **Learning rate.** ``vqgan_train.lr`` is the learning rate of that global batch: DDP averages the ranks' gradients,
  so N ranks x (B/N) take the very same step as 1 rank x B, and changing ``train.nproc`` changes neither.
  (Changing ``batch_size`` is a different optimisation; scale ``lr`` yourself, e.g. linearly, Goyal et al. 2017.)
* **What stays equal to one process** (tests/test_distributed.py measures it): weights after the same steps,
  up to float summation order, with the GAN off. With the GAN on, the PatchGAN's BatchNorm normalises each
  rank's local batch (converted to ``SyncBatchNorm`` on CUDA, where it normalises the global batch) and
  taming's adaptive GAN weight is computed from each rank's local gradient norms before DDP averages the
  gradients; both are standard DDP behaviour, not bugs, and make GAN steps differ from a big-batch step.
  Dead-code re-initialisation stays in sync: the quantizer gathers every rank's codes
  (``inkgen.models.vqgan.quantizer.gather``) and all ranks draw from the same seeded RNG stream, so they
  re-initialise the same codes with the same vectors.
  Dropout masks are drawn from that same stream, hence repeat across ranks (each sample's mask is still
  Bernoulli(p)); the VQGAN trains without dropout in both profiles.
* **Writes.** Rank 0 alone writes checkpoints, snapshots, metrics and dvclive logs (:func:`is_main`); every
  rank reads the checkpoint to resume, so a multi-node resume needs the models folder on shared storage.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def world() -> World:
    """This process's place among the training processes (one process: rank 0 of 1)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return World()


def is_main() -> bool:
    """Whether this process writes (checkpoints, metrics, logs): rank 0, or the only process."""
    return world().main


def init_from_env(device: str = "auto") -> World:
    """Join torchrun's process group (env:// rendezvous: ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...), NCCL on
    CUDA and gloo otherwise; each CUDA rank uses GPU ``LOCAL_RANK``. Outside torchrun: one process."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        cuda = device in ("auto", "cuda") and torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return world()


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard(idx: torch.Tensor, w: World | None = None) -> torch.Tensor:
    """This rank's contiguous slice of the global batch ``idx``, padded by wrap-around to split evenly."""
    w = w or world()
    if not w.active:
        return idx
    per = math.ceil(len(idx) / w.size)
    missing = per * w.size - len(idx)
    if missing:
        idx = torch.cat([idx, idx[torch.arange(missing) % len(idx)]])
    return idx[w.rank * per:(w.rank + 1) * per]


def _device_for_collectives() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def mean_over_ranks(logs: dict[str, float], w: World | None = None) -> dict[str, float]:
    """Per-batch logs averaged over the ranks (equal local batches, so: the global batch's means)."""
    w = w or world()
    if not w.active or not logs:
        return logs
    keys = list(logs)  # the same code path on every rank gives the same keys in the same order
    vec = torch.tensor([float(logs[k]) for k in keys], dtype=torch.float64, device=_device_for_collectives())
    dist.all_reduce(vec)
    return dict(zip(keys, (vec / w.size).tolist()))


def run_step(step_fn: Callable[[torch.Tensor], dict[str, float]], idx: torch.Tensor) -> dict[str, float]:
    """One optimisation step on the global batch ``idx``: this rank's shard through ``step_fn``, the
    logs averaged over ranks. With one process: ``step_fn(idx)``."""
    w = world()
    if not w.active:
        return step_fn(idx)
    return mean_over_ranks(step_fn(shard(idx, w)), w)


class DataParallel(DistributedDataParallel):
    """DDP that reads through to the wrapped module (``config``, ``last_layer()``...) and saves / loads the
    wrapped module's state under its own keys (no ``module.`` prefix), so checkpoints do not depend on
    the number of processes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.module.load_state_dict(*args, **kwargs)


class _Method(nn.Module):
    """A module whose forward is another method of ``inner`` (e.g. ``TextToCodes.loss``): DDP synchronises
    gradients only of what runs through its forward."""

    def __init__(self, inner: nn.Module, method: str):
        super().__init__()
        self.inner, self.method = inner, method

    def forward(self, *args, **kwargs):
        return getattr(self.inner, self.method)(*args, **kwargs)


def wrap(module: nn.Module, *, method: str | None = None) -> Any:
    """``module`` for data-parallel training: unchanged with one process, else in DDP (BatchNorm turned into
    SyncBatchNorm on CUDA). ``method``: return a callable that runs ``module.<method>`` through DDP (one
    process: the bound method itself). Rank 0's weights are broadcast to every rank here."""
    w = world()
    if not w.active:
        return getattr(module, method) if method else module
    device = next(module.parameters()).device
    if device.type == "cuda":  # CPU BatchNorm cannot synchronise (SyncBatchNorm is CUDA-only)
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)  # same Parameter objects: optimisers stay valid
    ids = [device.index] if device.type == "cuda" else None
    return DataParallel(_Method(module, method) if method else module, device_ids=ids)


def unwrap(module: Any) -> Any:
    """The module inside :func:`wrap`'s result."""
    inner = module.module if isinstance(module, DistributedDataParallel) else module
    return inner.inner if isinstance(inner, _Method) else inner

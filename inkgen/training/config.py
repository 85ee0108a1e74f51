"""The config of one training run, one frozen dataclass per phase, and the run's execution context (device,
mixed precision, determinism).

``VQGANRun`` (phase 1) and ``PriorRun`` (phase 2) have no defaults on purpose: every value comes from
``params.yaml`` (sections ``train``, shared, and ``vqgan_train`` / ``prior_train``), so a run is fully
described by those sections and the hash of its params. The weights of eq. 14,
``L_total = L_recon + beta * L_vq + eta * L_GAN + lambda * L_CLIP``, are ``beta``, ``eta`` and
``lambda_clip``; ablation variants without CLIP guidance (``no_clip``, ``vqgan``) train with lambda = 0
whatever ``lambda_clip`` says (:func:`effective_lambda`), so one params section serves every variant.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, TypeVar

import torch

from inkgen.determinism import deterministic
from inkgen.settings import PriorTrainSettings, RunSettings, VQGANTrainSettings, check_fields, from_mapping, setting
from inkgen.variants import NAMES
from inkgen.variants import variant as variant_of

DEVICES = typing.get_args(typing.get_type_hints(RunSettings)["device"])  # "auto", "cpu", "cuda", "mps"


class TrainError(ValueError):
    """A training input or setting that cannot be used; the message names it and says why."""


R = TypeVar("R", bound="_Run")


@dataclass(frozen=True)
class _Run(RunSettings):
    """What both phases' runs hold: the shared settings (``inkgen.settings.RunSettings``), the ablation
    variant and the seed."""

    variant: str  # ablation variant, one of inkgen.variants.NAMES
    seed: int = setting(0, 2**31 - 1)

    def __post_init__(self) -> None:
        if self.variant not in NAMES:
            raise TrainError(f"{type(self).__name__}.variant={self.variant!r} is not one of {list(NAMES)}")
        check_fields(self, type(self).__name__, TrainError)  # built directly too (tests, torchrun workers)

    def to_dict(self) -> dict[str, Any]:
        """variant, seed, then the settings: what a checkpoint records as its ``train_config``."""
        rest = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("variant", "seed")}
        return {"variant": self.variant, "seed": self.seed, **rest}

    @classmethod
    def from_dict(cls: type[R], d: Mapping[str, Any]) -> R:
        return from_mapping(cls, d, TrainError, require_all=True)


@dataclass(frozen=True)
class VQGANRun(VQGANTrainSettings, _Run):
    """One phase-1 run: params.yaml's ``train`` and ``vqgan_train`` sections (types and ranges declared in
    ``inkgen.settings``), the variant and the seed."""


@dataclass(frozen=True)
class PriorRun(PriorTrainSettings, _Run):
    """One phase-2 run: params.yaml's ``train`` and ``prior_train`` sections, the variant and the seed."""


def effective_lambda(config: VQGANRun) -> float:
    """The CLIP weight actually used: 0 for the variants without CLIP guidance."""
    return float(config.lambda_clip) if variant_of(config.variant).clip_guided else 0.0


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """The learning-rate multiplier at ``step`` of ``total_steps``: 1 (``constant``) or the half cosine
    from 1 to 0 (``cosine``, Loshchilov & Hutter 2017, without restarts). A function of the step alone, so
    a resumed run sets the same rates as an uninterrupted one."""
    if schedule == "constant" or total_steps <= 0:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def set_lr(optimizer: torch.optim.Optimizer, base_lrs: list[float], factor: float) -> None:
    for group, base in zip(optimizer.param_groups, base_lrs):
        group["lr"] = base * factor


def uses_alignment(variant: str) -> bool:
    """Whether the prior of ``variant`` has the cross-modal alignment (False for ``no_transformer``)."""
    return variant_of(variant).alignment


def resolve_device(name: str) -> torch.device:
    """``"auto"``: CUDA, then MPS, then CPU. A named accelerator that is absent is an error."""
    if name not in DEVICES:
        raise TrainError(f"device {name!r} is not one of {DEVICES}")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("device 'cuda' was asked for but torch sees no CUDA GPU")
    if name == "mps" and not has_mps:
        raise TrainError("device 'mps' was asked for but torch sees no Apple MPS device")
    return torch.device(name)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision only on CUDA: bf16 where supported, else fp16 (with a grad scaler). CPU and MPS
    train in fp32 (CPU autocast is slow for convs; MPS fp16 without a scaler is unstable)."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device) -> "torch.amp.GradScaler":
    """A scaler that is active only for fp16 autocast (disabled, a no-op, otherwise)."""
    return torch.amp.GradScaler(device.type if device.type == "cuda" else "cpu",
                                enabled=autocast_dtype(device) == torch.float16)


@contextlib.contextmanager
def execution(config: _Run, device: torch.device) -> Iterator[None]:
    """Deterministic algorithms on, ``threads`` intra-op threads while training; restored afterwards."""
    # warn_only on GPU: a few CUDA kernels (e.g. some backward passes) have no deterministic version
    with deterministic(config.threads, warn_only=device.type != "cpu"):
        yield

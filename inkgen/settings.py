"""One description per setting: a library dataclass's fields carry each value's type and range, once.

``setting(lo, hi, doc=...)`` declares a field's range and meaning; :func:`check_value` and
:func:`check_fields` are the one type-and-range check, used by ``inkgen.config`` to read params.yaml and
by a library dataclass that is also built directly (a test, a torchrun worker) to refuse what params.yaml
would refuse. This module imports nothing from the study, so every layer may read it.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping


class SettingError(ValueError):
    """A value of the wrong type or out of its range; the message names the key."""


def setting(lo: float | None = None, hi: float | None = None, *, doc: str = "", default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its range and meaning; without a ``default`` every value comes from params.yaml
    (a library dataclass's default is for library users and tests: params.yaml still gives every value)."""
    return field(default=default, metadata={"min": lo, "max": hi, "doc": doc})


def section(cls: type, *, name: str, omit: tuple[str, ...] = (), doc: str = "") -> type:
    """A params section made of the library dataclass ``cls``'s fields, less ``omit`` (the values another
    section, the data or the variant decides): each with the type, range and meaning ``cls`` declares, and
    no default (params.yaml gives every value). So a setting is described once, where the library uses it."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(omit) - names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {unknown} to omit")
    hints = typing.get_type_hints(cls)
    made = dataclasses.make_dataclass(
        name, [(f.name, hints[f.name], field(metadata=f.metadata))
                                   for f in dataclasses.fields(cls) if f.name not in omit], frozen=True)
    made.__doc__ = doc or f"The fields of ``{cls.__module__}.{cls.__qualname__}`` that params.yaml sets."
    made.__module__ = cls.__module__
    return made


def check_range(f: dataclasses.Field, value: Any, key: str, error: type[Exception] = SettingError) -> None:
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None and value < lo or hi is not None and value > hi:
        raise error(f"{key}: {value!r} is out of range [{lo}, {hi}]")


def check_value(value: Any, tp: Any, key: str, error: type[Exception] = SettingError,
                nested: Callable[[type, Any, str], Any] | None = None) -> Any:
    """``value`` checked against the type ``tp`` (converted: ints to float, lists to tuples, mappings
    read-only); a dataclass type is built by ``nested`` (params: ``inkgen.config.schema.build``)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if nested is None:
            raise TypeError(f"{key}: a nested section {tp.__name__} needs a builder")
        return nested(tp, value, key)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise error(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return check_value(value, option, key, error, nested)
            except error:
                continue
        raise error(f"{key}: {value!r} does not match {tp}")
    if origin is tuple:  # tuple[T, ...]: a YAML list of T
        if not isinstance(value, (list, tuple)):
            raise error(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(check_value(v, item_tp, f"{key}[{i}]", error, nested) for i, v in enumerate(value))
    if origin in (collections.abc.Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise error(f"{key}: expected a mapping, got {type(value).__name__}")
        return types.MappingProxyType(dict(value))
    if tp is type(None):
        if value is not None:
            raise error(f"{key}: expected null, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise error(f"{key}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):  # NaN would pass every range check below
            raise error(f"{key}: {value!r} is not a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise error(f"{key}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise error(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"{key}: unsupported parameter type {tp}")


def from_mapping(cls: type, d: Mapping[str, Any], error: type[Exception] = SettingError, *,
                 require_all: bool = False) -> Any:
    """``cls(**d)`` for a dataclass ``cls``, refusing keys it does not have (and, with ``require_all``, missing
    ones) by name: how a config read back from a checkpoint or a file is rebuilt."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown, missing = sorted(set(d) - set(names)), [n for n in names if n not in d]
    if unknown:
        raise error(f"{cls.__name__}: unknown keys {unknown} (known: {sorted(names)})")
    if require_all and missing:
        raise error(f"{cls.__name__}: missing keys {missing}")
    return cls(**dict(d))


def check_fields(obj: Any, prefix: str, error: type[Exception] = SettingError) -> None:
    """Every setting field of the dataclass instance ``obj`` (declared with :func:`setting`) checked against
    its type and range (not converted); other fields (a model's derived inputs) are the class's to check."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if "doc" not in f.metadata:
            continue
        key = f"{prefix}.{f.name}"
        check_range(f, check_value(getattr(obj, f.name), hints[f.name], key, error), key, error)


@dataclass(frozen=True)
class RunSettings:
    """Where and how a training run executes, shared by both phases (params.yaml ``train``; ``inkgen.config``
    adds the process count, dvc.yaml's matrix the seeds)."""

    device: Literal["auto", "cpu", "cuda", "mps"] = setting()
    threads: int = setting(1, 256)
    checkpoint_every: int = setting(0, 10_000_000, doc="steps between checkpoints; 0: only at the end")


@dataclass(frozen=True)
class VQGANTrainSettings:
    """Phase 1, the VQGAN (params.yaml ``vqgan_train``). Eq. 14:
    ``L_total = L_recon + beta * L_vq + eta * L_GAN + lambda * L_CLIP``."""

    epochs: int = setting(1, 100_000)
    batch_size: int = setting(1, 65_536, doc="the global batch, split over the nproc processes")
    lr: float = setting(1e-8, 1.0, doc="the learning rate of the global batch (nproc does not change it)")
    lr_schedule: Literal["constant", "cosine"] = setting()
    beta: float = setting(0.0, 100.0, doc="eq. 14 weight of L_vq")
    eta: float = setting(0.0, 100.0, doc="eq. 14 weight of L_GAN (times the adaptive weight)")
    lambda_clip: float = setting(0.0, 100.0, doc="eq. 14 weight of L_CLIP (0 for no_clip and vqgan)")
    disc_start: int = setting(0, 10_000_000)
    clip_start: int = setting(0, 10_000_000, doc="step from which L_CLIP (eq. 13) joins eq. 14")
    convergence_window: int = setting(1, 1000)
    convergence_min_rel_improvement: float = setting(0.0, 1.0)


@dataclass(frozen=True)
class PriorTrainSettings:
    """Phase 2, the prior: the text -> codes Transformer stacked decoder of eq. 11 (params.yaml ``prior_train``)."""

    epochs: int = setting(1, 100_000)
    batch_size: int = setting(1, 65_536, doc="the global batch of phase 2")
    lr: float = setting(1e-8, 1.0)
    lr_schedule: Literal["constant", "cosine"] = setting()
    convergence_window: int = setting(1, 1000)
    convergence_min_rel_improvement: float = setting(0.0, 1.0)
    snapshots: bool = setting(doc="keep the prior's weights after every epoch (Figure 12)")
    uncond_prob: float = setting(0.0, 0.9, doc="share of training captions replaced by the empty caption, so that "
                                 "the prior also learns the unconditional code distribution that classifier-free "
                                 "guidance (generate.guidance_scale) steers away from; 0: never", default=0.0)

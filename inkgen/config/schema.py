"""The one validator of params.yaml: a section dataclass's fields carry each value's type and range
(``_range``), and :func:`build` checks a mapping against them — unknown and missing keys, types, ranges,
then the section's own ``check`` — naming the key. Also where params.yaml is found."""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import types
import typing
from dataclasses import field
from pathlib import Path
from typing import Any, Literal, Mapping

PARAMS_FILE = "params.yaml"


class ParamsError(ValueError):
    """A params file that cannot be used; the message names the offending key."""


def _range(lo: float | None = None, hi: float | None = None, *, doc: str = "") -> Any:
    return field(metadata={"min": lo, "max": hi, "doc": doc})



def _check_value(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ParamsError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _check_value(value, option, key)
            except ParamsError:
                continue
        raise ParamsError(f"{key}: {value!r} does not match {tp}")
    if origin is tuple:  # tuple[T, ...]: a YAML list of T
        if not isinstance(value, (list, tuple)):
            raise ParamsError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_check_value(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (collections.abc.Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ParamsError(f"{key}: expected a mapping, got {type(value).__name__}")
        return types.MappingProxyType(dict(value))
    if tp is type(None):
        if value is not None:
            raise ParamsError(f"{key}: expected null, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{key}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):  # NaN would pass every range check below
            raise ParamsError(f"{key}: {value!r} is not a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ParamsError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"{key}: unsupported parameter type {tp}")



def build(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from ``data``, checking keys, types, ranges and the class's own ``check``."""
    if not isinstance(data, Mapping):
        raise ParamsError(f"{prefix}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ParamsError(f"{prefix}: unknown key(s) {', '.join(f'{prefix}.{k}' for k in unknown)}")
    values = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if f.name not in data:
            raise ParamsError(f"{key}: missing")
        value = _check_value(data[f.name], hints[f.name], key)
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        if lo is not None and value < lo or hi is not None and value > hi:
            raise ParamsError(f"{key}: {value!r} is out of range [{lo}, {hi}]")
        values[f.name] = value
    obj = cls(**values)
    if hasattr(obj, "check"):
        obj.check(prefix)
    return obj


# ---------------------------------------------------------------------------------------------- files
def find_params(start: str | Path = ".", name: str = PARAMS_FILE) -> Path:
    """The params file in ``start`` or its nearest ancestor (a notebook may run from ``notebooks/``)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no {name} in {here} or any parent directory")



def project_root(params_path: str | Path | None = None) -> Path:
    """The folder holding params.yaml: every relative path in ``paths`` is relative to it."""
    path = Path(params_path) if params_path else find_params()
    if not path.is_absolute() and not path.exists():
        path = find_params(name=str(path))
    return path.resolve().parent

"""The one validator of params.yaml: a section dataclass's fields carry each value's type and range
(``_range``), and :func:`build` checks a mapping against them — unknown and missing keys, types, ranges,
then the section's own ``check`` — naming the key. Also where params.yaml is found."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Mapping

from inkgen.settings import SettingError, check_range, check_value, setting

PARAMS_FILE = "params.yaml"


class ParamsError(SettingError):
    """A params file that cannot be used; the message names the offending key."""


_range = setting  # the sections' fields: type and range, declared once (inkgen.settings)



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
        value = check_value(data[f.name], hints[f.name], key, ParamsError, build)
        check_range(f, value, key, ParamsError)
        values[f.name] = value
    try:  # a library dataclass checks what relates its fields (a patch that must divide the image, ...)
        obj = cls(**values)
    except ParamsError:
        raise
    except ValueError as exc:
        raise ParamsError(f"{prefix}: {exc}") from None
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

"""How the library's records look in a notebook: tables, not raw reprs.

A cell that ends with a dataclass (the stage's params section, a training report) would print
``CollectParams(source='procedural', n_images=2000, ...)`` on one 600-character line, or a ``PosixPath``
with this machine's absolute folder. :func:`tabular` gives a dataclass IPython display methods: a two-column
table (dotted keys for nested sections; long lists shortened to their ends and length) in HTML and plain
text; ``__repr__`` stays the dataclass's own, for errors and tests. :class:`SavedFile` is a path that shows
itself relative to the working directory.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path, PurePosixPath
from typing import Any


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{_short(value[0])}, {_short(value[1])}, … {_short(value[-1])} ({len(value)} values)"
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v) for v in value) or "(none)"
    if isinstance(value, Path):
        return _relative(value)
    if isinstance(value, str):
        return repr(value) if value == "" else value
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) or "(none)"
    return str(value)


def rows(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, shown value) for every field of a dataclass, nested ones flattened."""
    out: list[tuple[str, str]] = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out += rows(value, key + ".")
        else:
            out.append((key, _short(value)))
    return out


def _repr_html_(self) -> str:
    body = "".join(f"<tr><td style='text-align:left'><code>{html.escape(k)}</code></td>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows(self))
    return f"<table><thead><tr><th colspan='2' style='text-align:left'>{type(self).__name__}</th></tr></thead>" \
           f"<tbody>{body}</tbody></table>"


def _repr_pretty_(self, p, cycle: bool) -> None:
    table = rows(self)
    width = max((len(k) for k, _ in table), default=0)
    p.text("\n".join([type(self).__name__, *(f"  {k.ljust(width)}  {v}" for k, v in table)]))


def tabular(cls: type) -> type:
    """Class decorator (or plain call) for a dataclass: shown as a table in notebooks."""
    cls._repr_html_ = _repr_html_
    cls._repr_pretty_ = _repr_pretty_
    return cls


def _relative(path: Path) -> str:
    try:
        return PurePosixPath(os.path.relpath(Path(path).resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:
        return Path(path).name


class SavedFile(type(Path())):
    """A path (a figure just saved) that a notebook shows as ``saved: <path relative to the notebook>``."""

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(f"saved: {_relative(self)}")

"""Progress for the person running the study, never inside an executed notebook.

`dvc repro` runs each stage's notebook in a Jupyter kernel (papermill). Whatever the kernel writes to
``sys.stdout``/``sys.stderr`` — and, since ipykernel 6 captures file descriptors 1 and 2 as well, whatever
is written to them at the OS level — becomes a notebook output: 150-400 lines of tqdm bars per training
notebook. ipykernel keeps a duplicate of the process's own stderr (``OutStream._original_stdstream_copy``,
the descriptor it echoes captured output to); that descriptor is the terminal of ``dvc repro`` / ``make
study`` (papermill's stderr, inherited by the kernel) and nothing written to it reaches the notebook.

:func:`terminal` returns a text stream on it (plain ``sys.stderr`` outside a kernel; ``None`` in a kernel
that keeps no such copy, so progress is silent rather than in the notebook). :func:`bar` is a tqdm bar on
that stream when it is a terminal, and one line per ``log_every`` updates otherwise (a log file or CI gets
readable lines, not carriage returns).
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, TextIO

_STREAM: TextIO | None = None
_RESOLVED = False


def in_kernel() -> bool:
    """True inside a Jupyter kernel (papermill or JupyterLab). Not a test of ``type(sys.stderr)``: colorama,
    which DVC and dvclive import, wraps the kernel's streams."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def terminal() -> TextIO | None:
    """The stream that reaches the terminal that started the study, or ``None`` (see the module docstring)."""
    global _STREAM, _RESOLVED
    if _RESOLVED and (_STREAM is None or not _STREAM.closed):
        return _STREAM
    _RESOLVED = True
    if not in_kernel():
        _STREAM = sys.stderr
        return _STREAM
    fd = getattr(sys.stderr, "_original_stdstream_copy", None)
    _STREAM = None
    if isinstance(fd, int):
        try:
            os.fstat(fd)
            _STREAM = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", line_buffering=True,
                                       errors="replace")
        except OSError:
            _STREAM = None
    return _STREAM


def say(message: str) -> None:
    """One line on the terminal (a stage's milestones); nothing in the notebook."""
    stream = terminal()
    if stream is not None:
        print(message, file=stream, flush=True)


class _Lines:
    """tqdm's small surface (update, set_postfix, close) as plain lines, for a stream that is not a terminal."""

    def __init__(self, stream: TextIO, total: int, initial: int, desc: str, log_every: int):
        self.stream, self.total, self.n, self.desc = stream, total, initial, desc
        self.every = max(1, log_every)
        self.postfix: dict[str, Any] = {}

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.n % self.every == 0 or self.n == self.total:
            tail = " ".join(f"{k}={v}" for k, v in self.postfix.items())
            print(f"{self.desc}: {self.n}/{self.total} {tail}".rstrip(), file=self.stream, flush=True)

    def set_postfix(self, values: dict[str, Any] | None = None, refresh: bool = True, **kw: Any) -> None:
        self.postfix = {**(values or {}), **kw}

    def close(self) -> None:
        pass


class _Off(_Lines):
    def __init__(self) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, values: dict[str, Any] | None = None, refresh: bool = True, **kw: Any) -> None:
        pass


def bar(*, total: int, initial: int = 0, desc: str = "", disable: bool = False, log_every: int | None = None):
    """A progress bar on :func:`terminal`: tqdm on a terminal, a line every ``log_every`` steps (default: each
    tenth of ``total``) elsewhere, nothing when disabled or when no terminal stream exists."""
    stream = None if disable else terminal()
    if stream is None:
        return _Off()
    if stream.isatty():
        from tqdm import tqdm  # the plain tqdm: tqdm.auto would look for ipywidgets inside a kernel

        return tqdm(total=total, initial=initial, desc=desc, file=stream, dynamic_ncols=True, leave=False)
    return _Lines(stream, total, initial, desc, log_every or max(1, total // 10))

"""A generator loaded in a forked child while the parent runs the governance gate: a cold ``inkgen generate``.

One image from a cold process is mostly start-up: importing torch (~2 s on this machine) and loading the
checkpoint and the BERT (~0.5 s), plus ~1 s of work that needs no torch at all — reading params.yaml and the
policy, the guardrail lexicon, the copyright references, the prompt check, the checkpoint's digest for the
ledger. Done one after the other they add up; on two cores they can overlap. :class:`ForkedGenerator` forks
before torch is imported: the child imports torch while the parent reads the project, then loads the model
the parent names (:meth:`ForkedGenerator.load`) and waits; the parent checks the prompt and asks for the
painting of the prompt the gate decided on (:meth:`ForkedGenerator.generate`, the same call as
:meth:`inkgen.generate.Generator.generate`). Nothing is painted before the gate has decided, and a refused
prompt is never sent. The child exits without tearing torch down; the parent imports torch only for a prompt
that names a sacred figure (the gate's dignity classifier, :mod:`governance.dignity`).

Errors raised in the child (a bad checkpoint, a mismatched text encoder) are raised again in the parent with
their own type and message. Where ``fork`` is unavailable (or the parent has torch loaded already, as in a
test process), :func:`start` gives an in-process generator with the same three calls.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from inkgen.generate_error import GenerateError


def _load(checkpoint: str | os.PathLike[str], threads: int, options: dict[str, Any]):
    """:meth:`inkgen.generate.Generator.from_checkpoint` on ``threads`` torch threads (child or in-process)."""
    # local: this module must not import torch (the forked child's parent never does)
    import torch
    from inkgen.generate import Generator

    torch.set_num_threads(threads)
    return Generator.from_checkpoint(Path(checkpoint), **options)


def _serve(conn) -> None:
    """The child: import torch at once, then load and paint what the parent asks, until it hangs up."""
    try:
        importlib.import_module("torch")  # the point of the child: this import overlaps with the parent's gate

        generator = None
        while True:
            try:
                kind, payload = conn.recv()
            except EOFError:  # the parent is done (or refused the prompt): nothing to paint
                return
            try:
                if kind == "load":
                    generator = _load(*payload)
                    conn.send(("ok", None))
                elif kind == "generate":
                    prompts, kwargs = payload
                    conn.send(("ok", generator.generate(prompts, **kwargs)))
            except Exception as exc:  # sent back and raised in the parent, which reports it
                conn.send(("error", _portable(exc)))
    finally:
        conn.close()


def _portable(exc: Exception) -> Exception:
    """``exc`` if it pickles (its type and message survive the pipe), else a GenerateError saying what it was."""
    import pickle  # local: only an error needs it

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return GenerateError(f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc))}")


class ForkedGenerator:
    """The child's generator, seen from the parent: :meth:`load`, then :meth:`generate`, then :meth:`close`."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        # daemon: a parent that exits early (an error, a refusal) takes the child with it
        self._process = ctx.Process(target=_serve, args=(child,), daemon=True, name="inkgen-generator")
        self._process.start()
        child.close()
        self._loaded = self._load_answered = False
        self._load_error: Exception | None = None

    def load(self, checkpoint: str | os.PathLike[str], *, threads: int = 1, **options: Any) -> None:
        """Name the checkpoint (and :meth:`Generator.from_checkpoint`'s options); the child loads it while the
        parent goes on. Its errors come with the first :meth:`generate`."""
        self._conn.send(("load", (checkpoint, threads, options)))
        self._loaded = True

    def generate(self, prompts, **kwargs: Any) -> list:
        """:meth:`inkgen.generate.Generator.generate`, painted by the child."""
        if not self._loaded:
            raise GenerateError("ForkedGenerator.generate: no checkpoint loaded (call load first)")
        if not self._load_answered:  # the load's answer first: the model must be there to paint
            self._load_answered = True
            status, value = self._answer()
            self._load_error = value if status == "error" else None
        if self._load_error is not None:  # every call says why, none is sent to a child without a model
            raise self._load_error
        self._conn.send(("generate", (list(prompts), kwargs)))
        status, value = self._answer()
        if status == "error":
            raise value
        return value

    def _answer(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except EOFError:
            raise GenerateError(f"the generator process ended unexpectedly (exit code {self._process.exitcode})")

    def close(self) -> None:
        """End the child: every answer has been read, so it has nothing left to finish (it may still be
        importing torch, after an error before anything was painted)."""
        self._conn.close()
        self._process.terminate()
        self._process.join()


class InProcessGenerator:
    """The same three calls in this process (no fork available, or torch loaded already)."""

    def __init__(self) -> None:
        self._generator = None

    def load(self, checkpoint: str | os.PathLike[str], *, threads: int = 1, **options: Any) -> None:
        self._generator = _load(checkpoint, threads, options)

    def generate(self, prompts, **kwargs: Any) -> list:
        return self._generator.generate(prompts, **kwargs)

    def close(self) -> None:
        self._generator = None


def start() -> ForkedGenerator | InProcessGenerator:
    """A forked generator where it helps (``fork`` available, torch not imported yet), else an in-process one."""
    if "fork" in multiprocessing.get_all_start_methods() and "torch" not in sys.modules:
        return ForkedGenerator()
    return InProcessGenerator()
